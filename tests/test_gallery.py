"""Tests for the pretrained gallery: every saved model reproduces the numbers stored beside it.

The gallery folder is ``digitcore.gallery.GALLERY_DIR`` (``trained/``, or the folder named by
the DIGITCORE_GALLERY environment variable). All models are loaded in one fresh process
that imports only digitcore, as the app does.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from digitcore import registry
from digitcore.data import mnist
from digitcore.gallery import GALLERY_DIR, MANIFEST_FILE

MAX_GALLERY_BYTES = 60_000_000
TIMEOUT_SECONDS = 600

if not (GALLERY_DIR / MANIFEST_FILE).is_file():
    pytest.skip(f"no gallery manifest at {GALLERY_DIR / MANIFEST_FILE}: build it with "
                f"`python -m digitcore reproduce`", allow_module_level=True)

MANIFEST = json.loads((GALLERY_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
NAMES = list(MANIFEST["variants"])


def _names_of(family):
    return [name for name in NAMES if MANIFEST["variants"][name]["family"] == family]


def _read(name, file_name):
    return json.loads((GALLERY_DIR / name / file_name).read_text(encoding="utf-8"))


# Loads every model of the manifest and prints one JSON object of recomputed values.
CHECK_SCRIPT = textwrap.dedent("""
    import json
    import sys
    from pathlib import Path

    import keras
    import numpy as np

    import digitcore
    from digitcore import metrics
    from digitcore.data.mnist import load_mnist
    from digitcore.engine import SAMPLE_GRID_SEED
    from digitcore.evaluation import SILHOUETTE_SEED

    gallery = Path(sys.argv[1])
    manifest = json.loads((gallery / "manifest.json").read_text())
    _, test = load_mnist()
    images = test.images[..., None].astype(np.float32) / 255.0

    def batched(network, inputs):
        return np.concatenate([np.asarray(network(inputs[start:start + 1000], training=False))
                               for start in range(0, len(inputs), 1000)])

    results = {}
    for name, entry in manifest["variants"].items():
        model = keras.saving.load_model(gallery / name / "model.keras", safe_mode=True)
        result = {"num_params": int(model.count_params()), "class": type(model).__name__}
        if entry["family"] == "classifier":
            predicted = batched(model, images).argmax(axis=1)
            result["test_accuracy"] = float(np.mean(predicted == test.labels))
        elif entry["family"] == "cvae":
            stored = json.loads((gallery / name / "metrics.json").read_text())
            latent_means = batched(lambda x, training: model.encoder(x, training=training)[0], images)
            summary = metrics.silhouette_summary(latent_means, test.labels,
                                                 sample_size=stored["silhouette_sample_size"],
                                                 seed=SILHOUETTE_SEED)
            result["silhouette_median"] = float(summary["median"])
            result["silhouette_mean"] = float(summary["mean"])
        else:
            latents = np.random.default_rng(SAMPLE_GRID_SEED).normal(size=(64, model.latent_dim))
            generated = np.asarray(model.generator(latents.astype(np.float32), training=False))
            result["shape"] = list(generated.shape)
            result["min"] = float(generated.min())
            result["max"] = float(generated.max())
            result["latent_dim"] = int(model.latent_dim)
            pixel_range = json.loads((gallery / name / "run.json").read_text())["recipe"]["pixel_range"]
            if pixel_range == [-1, 1]:
                generated = (generated + 1.0) / 2.0
            grid = np.clip(np.round(generated[..., 0] * 255.0), 0, 255).astype(np.uint8)
            with np.load(gallery / name / "samples.npz") as samples:
                last_grid = samples["grids"][-1]
            result["grid_max_difference"] = int(np.abs(grid.astype(int) - last_grid.astype(int)).max())
        results[name] = result
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def recomputed(subprocess_env):
    completed = subprocess.run([sys.executable, "-c", CHECK_SCRIPT, str(GALLERY_DIR)], env=subprocess_env,
                               capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


# the folder as a whole


def test_gallery_lists_all_variants():
    assert NAMES == list(registry.VARIANTS)
    assert MANIFEST["recipe"] == "fast"
    assert MANIFEST["reference_classifier"] in _names_of("classifier")


def test_gallery_size():
    total_bytes = sum(path.stat().st_size for path in GALLERY_DIR.rglob("*") if path.is_file())
    assert total_bytes < MAX_GALLERY_BYTES, f"{GALLERY_DIR} holds {total_bytes / 1e6:.1f} MB"


def test_gallery_no_temporary_files():
    leftovers = [str(path) for path in GALLERY_DIR.rglob(".*")]
    assert leftovers == []


@pytest.mark.parametrize("name", NAMES)
def test_run_record_fast_recipe(name):
    record = _read(name, "run.json")
    assert record["variant"] == name
    assert record["recipe"]["name"] == "fast"
    assert record["data_sha256"] == mnist.MNIST_SHA256
    assert MANIFEST["variants"][name]["recipe"] == "fast"
    assert MANIFEST["variants"][name]["num_params"] == record["num_params"]


@pytest.mark.parametrize("name", NAMES)
def test_model_param_count(name, recomputed):
    assert recomputed[name]["num_params"] == MANIFEST["variants"][name]["num_params"]


# per family


@pytest.mark.parametrize("name", _names_of("classifier"))
def test_classifier_test_accuracy(name, recomputed):
    accuracy = recomputed[name]["test_accuracy"]
    assert recomputed[name]["class"] == "Functional"
    assert accuracy == pytest.approx(_read(name, "metrics.json")["test_accuracy"], abs=0.001)
    assert accuracy == pytest.approx(MANIFEST["variants"][name]["metrics"]["test_accuracy"], abs=0.001)


@pytest.mark.parametrize("name", _names_of("cvae"))
def test_cvae_silhouette(name, recomputed):
    stored = _read(name, "metrics.json")
    assert recomputed[name]["class"] == "VAE"
    assert recomputed[name]["silhouette_median"] == pytest.approx(stored["silhouette_median"], abs=1e-3)
    assert recomputed[name]["silhouette_mean"] == pytest.approx(stored["silhouette_mean"], abs=1e-3)
    assert MANIFEST["variants"][name]["metrics"]["silhouette_median"] == stored["silhouette_median"]


@pytest.mark.parametrize("name", _names_of("dcgan"))
def test_dcgan_generator_output(name, recomputed):
    result = recomputed[name]
    low = -1.0 if tuple(_read(name, "run.json")["recipe"]["pixel_range"]) == (-1, 1) else 0.0
    assert result["class"] == "GAN"
    assert result["latent_dim"] == 100
    assert result["shape"] == [64, 28, 28, 1]
    assert result["min"] >= low
    assert result["max"] <= 1.0
    # The saved generator is the one that drew the last epoch's fixed-seed grid.
    assert result["grid_max_difference"] <= 1


@pytest.mark.parametrize("name", _names_of("dcgan"))
def test_dcgan_generative_metrics(name):
    stored = _read(name, "metrics.json")
    expected_keys = {"frechet_distance", "frechet_floor", "inception_score", "confident_share",
                     "class_histogram", "largest_class_share", "num_samples", "confidence_threshold",
                     "reference_classifier", "generated_seed"}
    assert expected_keys <= set(stored)
    assert stored["reference_classifier"] == MANIFEST["reference_classifier"]
    assert stored["num_samples"] == 10_000
    assert len(stored["class_histogram"]) == 10
    assert 1.0 <= stored["inception_score"] <= 10.0
    assert stored["frechet_distance"] >= 0.0


@pytest.mark.parametrize("name", _names_of("cvae") + _names_of("dcgan"))
def test_samples_one_grid_per_epoch(name):
    record = _read(name, "run.json")
    with np.load(GALLERY_DIR / name / "samples.npz") as samples:
        grids, epochs = samples["grids"], samples["epochs"]
    num_epochs = record["recipe"]["num_epochs"]
    assert grids.shape == (num_epochs, 64, 28, 28)
    assert grids.dtype == np.uint8
    assert epochs.tolist() == list(range(1, num_epochs + 1))
