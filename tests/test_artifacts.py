"""Tests for the artifact files: atomic writers and safe, checked model loading."""

import io
import json
import os
import stat
import zipfile

import h5py
import keras
import numpy as np
import pytest

from digitcore import artifacts, registry
from digitcore.artifacts import ArtifactError


def _names(folder):
    return sorted(path.name for path in folder.iterdir())


# atomic writers


def test_write_json_round_trip(tmp_path):
    path = tmp_path / "metrics.json"
    artifacts.write_json(path, {"test_accuracy": np.float32(0.5), "counts": np.arange(3)})
    assert json.loads(path.read_text(encoding="utf-8")) == {"test_accuracy": 0.5, "counts": [0, 1, 2]}
    assert artifacts.read_json(path) == {"test_accuracy": 0.5, "counts": [0, 1, 2]}
    assert _names(tmp_path) == ["metrics.json"]


def test_write_json_file_mode(tmp_path):
    # Like open(path, "w"): the process umask decides, so other users (an app server) can read runs.
    umask = os.umask(0o022)
    os.umask(umask)
    path = tmp_path / "metrics.json"
    artifacts.write_json(path, {"test_accuracy": 0.5})
    assert oct(stat.S_IMODE(path.stat().st_mode)) == oct(0o666 & ~umask)


def test_write_json_failure_keeps_old(tmp_path):
    path = tmp_path / "metrics.json"
    artifacts.write_json(path, {"test_accuracy": 0.5})
    before = path.read_bytes()

    with pytest.raises(TypeError, match="cannot store object in JSON"):
        artifacts.write_json(path, {"test_accuracy": 0.9, "model": object()})
    assert path.read_bytes() == before
    assert _names(tmp_path) == ["metrics.json"]


def test_write_json_rejects_nan(tmp_path):
    path = tmp_path / "metrics.json"
    with pytest.raises(ValueError):
        artifacts.write_json(path, {"loss": float("nan")})
    assert _names(tmp_path) == []


def test_write_npz_failure_keeps_old(tmp_path):
    path = tmp_path / "samples.npz"
    artifacts.write_npz(path, grids=np.zeros((1, 2, 2), np.uint8))
    before = path.read_bytes()

    with pytest.raises(ValueError):
        artifacts.write_npz(path, grids=[[1], [1, 2]])  # ragged: not an array
    assert path.read_bytes() == before
    assert _names(tmp_path) == ["samples.npz"]
    assert artifacts.read_npz(path)["grids"].shape == (1, 2, 2)


def test_save_model_replaces_file(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"old")
    artifacts.save_model(registry.get_variant("FCNN-1").build(), path)
    assert artifacts.load_model(path).name == "FCNN-1"
    assert _names(tmp_path) == ["model.keras"]


def test_save_model_drops_optimizer(tmp_path, mnist_splits):
    model = registry.get_variant("FCNN-1").build()
    model.compile(keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    _, test = mnist_splits
    model.fit(test.images[:16, :, :, None] / 255.0, test.labels[:16], batch_size=8, verbose=0)
    path = tmp_path / "model.keras"
    artifacts.save_model(model, path)

    # Only the weights are stored: the Adam moments would triple the file's size.
    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5"))) as weights:
        assert "optimizer" not in weights
    assert path.stat().st_size < 2 * 4 * model.count_params()
    assert model.optimizer is not None  # the trained model itself keeps its optimizer


def test_save_model_deflates_members(tmp_path):
    model = registry.get_variant("CNN-1").build()
    path = tmp_path / "model.keras"
    artifacts.save_model(model, path)

    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    assert {member.compress_type for member in members} == {zipfile.ZIP_DEFLATED}
    assert sum(member.compress_size for member in members) < sum(member.file_size for member in members)
    loaded = artifacts.load_model(path)
    images = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(loaded(images), model(images))


@pytest.mark.parametrize("name", ["CVAE-1", "DCGAN-1"])
def test_save_model_keeps_subclass_built(tmp_path, name):
    model = registry.get_variant(name).build()
    path = tmp_path / "model.keras"
    artifacts.save_model(model, path)

    loaded = artifacts.load_model(path)
    assert loaded.built
    assert loaded.count_params() == model.count_params()


# reading errors


def test_read_json_missing(tmp_path):
    path = tmp_path / "CNN-1" / "run.json"
    with pytest.raises(ArtifactError) as caught:
        artifacts.read_json(path)
    assert str(path) in str(caught.value)
    assert "not found" in str(caught.value)
    assert "python -m digitcore train CNN-1" in str(caught.value)


def test_read_json_corrupt(tmp_path):
    path = tmp_path / "run.json"
    path.write_text('{"variant": ')
    with pytest.raises(ArtifactError, match="is corrupt"):
        artifacts.read_json(path, "CNN-2")


def test_read_npz_corrupt(tmp_path):
    path = tmp_path / "samples.npz"
    path.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ArtifactError) as caught:
        artifacts.read_npz(path, "DCGAN-3")
    assert str(path) in str(caught.value)
    assert "python -m digitcore train DCGAN-3" in str(caught.value)


# load_model


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.keras"
    artifacts.save_model(registry.get_variant("FCNN-1").build(), path)
    return path


def _load_error(path, variant_name="CNN-1"):
    with pytest.raises(ArtifactError) as caught:
        artifacts.load_model(path, variant_name)
    return str(caught.value)


def test_load_model_missing(tmp_path):
    path = tmp_path / "CNN-1" / "model.keras"
    message = _load_error(path)
    assert str(path) in message
    assert "not found" in message
    assert f"python -m digitcore train CNN-1 --out {path.parent}" in message


def test_load_model_hint_for_unknown_folder(tmp_path):
    path = tmp_path / "downloads" / "model.keras"
    path.parent.mkdir()
    path.write_bytes(os.urandom(256))
    with pytest.raises(ArtifactError) as caught:
        artifacts.load_model(path)
    message = str(caught.value)
    assert "is not a .keras archive" in message
    assert "train downloads" not in message
    assert "python -m digitcore train VARIANT --out FOLDER" in message


def test_load_model_zero_bytes(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"")
    message = _load_error(path)
    assert str(path) in message
    assert "is not a .keras archive" in message


def test_load_model_zip_without_weights(tmp_path):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{not json")
    message = _load_error(path)
    assert str(path) in message
    assert "could not be loaded" in message

def test_load_model_truncated(saved_model, tmp_path):
    path = tmp_path / "model.keras"
    packed = saved_model.read_bytes()
    path.write_bytes(packed[: len(packed) // 2])
    message = _load_error(path)
    assert str(path) in message
    assert "is not a .keras archive" in message


def test_load_model_intact(saved_model):
    model = artifacts.load_model(saved_model)
    assert model.name == "FCNN-1"
    assert model.count_params() == 24_874


def test_load_model_rejects_lambda(tmp_path):
    path = tmp_path / "model.keras"
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2.0, name="double")(inputs))
    model.save(path)
    # The same file loads when code is allowed, so safe mode is what rejects it.
    unsafe = keras.saving.load_model(path, safe_mode=False)
    np.testing.assert_allclose(unsafe(np.ones((1, 4), np.float32)), np.full((1, 4), 2.0))

    with pytest.raises(ArtifactError) as caught:
        artifacts.load_model(path, "CNN-1")
    message = str(caught.value)
    assert str(path) in message
    assert "Lambda" in message
    assert "safe mode" in message
    assert "safe_mode" in str(caught.value.__cause__)


def test_read_npz_truncated(tmp_path):
    path = tmp_path / "samples.npz"
    artifacts.write_npz(path, grids=np.arange(4096, dtype=np.uint8).reshape(1, 64, 64))
    packed = path.read_bytes()
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ArtifactError) as caught:
        artifacts.read_npz(path, "DCGAN-3")
    assert str(path) in str(caught.value)
    assert "is corrupt" in str(caught.value)
