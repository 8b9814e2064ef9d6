"""Tests for the training engine: short real runs, saved files, cancellation and errors."""

import json
import os
import stat

import numpy as np
import pytest
import tensorflow as tf

from digitcore import artifacts
from digitcore.data import mnist
from digitcore.engine import SAMPLE_GRID_SEED, latent_grid, train
from digitcore.progress import Cancellation, NonFiniteLossError, ProgressListener, TrainingCancelled

SUBSET = 512


class RecordingListener(ProgressListener):
    """Keep every call the engine makes, in order."""

    def __init__(self):
        self.info = None
        self.epochs_begun = []
        self.batches = []
        self.epochs_ended = []
        self.summary = None

    def on_train_begin(self, info):
        self.info = info

    def on_epoch_begin(self, epoch, num_epochs):
        self.epochs_begun.append((epoch, num_epochs))

    def on_batch_end(self, epoch, batch, num_batches, logs):
        self.batches.append((epoch, batch, num_batches))

    def on_epoch_end(self, epoch, num_epochs, logs, epoch_seconds, samples):
        self.epochs_ended.append((epoch, num_epochs, sorted(logs), samples))

    def on_train_end(self, summary):
        self.summary = summary


class CancelAfterBatch(RecordingListener):
    def __init__(self, cancellation, batch):
        super().__init__()
        self.cancellation = cancellation
        self.batch = batch

    def on_batch_end(self, epoch, batch, num_batches, logs):
        super().on_batch_end(epoch, batch, num_batches, logs)
        if batch == self.batch:
            self.cancellation.cancel()


def _read(out_dir, file_name):
    return json.loads((out_dir / file_name).read_text(encoding="utf-8"))


def _leftovers(folder, keep):
    """Return the names in ``folder`` other than ``keep`` (temporary files and folders start with a dot)."""
    return sorted(path.name for path in folder.iterdir() if path.name not in keep)


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("classifier") / "CNN-1"
    listener = RecordingListener()
    result = train("CNN-1", num_epochs=1, train_subset=SUBSET, seed=0, out_dir=out_dir, listener=listener)
    return result, listener


@pytest.fixture(scope="module")
def cvae_run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("cvae") / "CVAE-1"
    return train("CVAE-1", num_epochs=1, train_subset=SUBSET, seed=0, out_dir=out_dir)


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory, classifier_run):
    out_dir = tmp_path_factory.mktemp("dcgan") / "DCGAN-2"
    reference = classifier_run[0].out_dir / artifacts.MODEL_FILE
    # The fast recipe's epoch is 200 steps whatever the subset, so a small batch keeps this short.
    return train("DCGAN-2", num_epochs=1, train_subset=SUBSET, batch_size=8, seed=0, out_dir=out_dir,
                 reference_classifier=reference)


# classifier run


def test_classifier_run_files(classifier_run):
    result, _ = classifier_run
    names = sorted(path.name for path in result.out_dir.iterdir())
    assert names == ["extras.npz", "history.json", "metrics.json", "model.keras", "run.json"]
    assert _leftovers(result.out_dir.parent, keep={"CNN-1"}) == []


def test_run_folder_mode(classifier_run):
    # Like os.mkdir and open(): the process umask decides, so other users (an app server) can read runs.
    umask = os.umask(0o022)
    os.umask(umask)
    out_dir = classifier_run[0].out_dir
    assert oct(stat.S_IMODE(out_dir.stat().st_mode)) == oct(0o777 & ~umask)
    for path in out_dir.iterdir():
        assert oct(stat.S_IMODE(path.stat().st_mode)) == oct(0o666 & ~umask), path.name


def test_classifier_run_history(classifier_run):
    result, _ = classifier_run
    epochs = _read(result.out_dir, artifacts.HISTORY_FILE)["epochs"]
    assert len(epochs) == 1
    assert epochs[0]["epoch"] == 1
    assert set(epochs[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "epoch_seconds"}
    assert epochs[0]["epoch_seconds"] > 0
    assert epochs == result.history


def test_classifier_run_metrics(classifier_run, mnist_splits):
    result, _ = classifier_run
    metrics = _read(result.out_dir, artifacts.METRICS_FILE)
    confusion = np.array(metrics["confusion_matrix"])
    assert metrics["num_test_images"] == 10_000
    assert confusion.shape == (10, 10)
    assert confusion.sum(axis=1).tolist() == np.bincount(mnist_splits[1].labels).tolist()
    assert metrics["test_accuracy"] == pytest.approx(np.trace(confusion) / 10_000)
    assert metrics["overfitting_epoch"] == 1
    assert metrics["test_loss"] > 0


def test_classifier_saved_model_accuracy(classifier_run, mnist_splits):
    result, _ = classifier_run
    _, test = mnist_splits
    model = artifacts.load_model(result.out_dir / artifacts.MODEL_FILE)
    probabilities = model.predict(mnist.scale_images(test.images, (0, 1)), batch_size=1000, verbose=0)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == test.labels))
    assert accuracy == pytest.approx(result.metrics["test_accuracy"], abs=1e-4)

    extras = artifacts.read_npz(result.out_dir / artifacts.EXTRAS_FILE)
    assert extras["test_predictions"].shape == (10_000,)
    assert extras["test_predictions"].dtype == np.uint8
    assert np.mean(extras["test_predictions"] == test.labels) == pytest.approx(accuracy, abs=1e-4)


def test_classifier_run_record(classifier_run):
    result, _ = classifier_run
    record = _read(result.out_dir, artifacts.RUN_FILE)
    assert record["variant"] == "CNN-1"
    assert record["recipe"]["name"] == "fast"
    assert record["recipe"]["num_epochs"] == 1
    assert record["recipe"]["train_subset"] == SUBSET
    assert record["recipe"]["batch_size"] == 256
    assert record["seed"] == 0
    assert record["data_sha256"] == mnist.MNIST_SHA256
    assert record["versions"]["tensorflow"] == tf.__version__
    assert {"digitcore", "python", "keras", "numpy", "scikit-learn"} <= set(record["versions"])
    assert record["device"]
    assert record["num_replicas"] == 1
    assert record["num_params"] == 104_874
    assert record["num_train_images"] == SUBSET
    assert len(record["epoch_seconds"]) == 1
    assert 0 < record["train_seconds"] <= record["total_seconds"]
    assert record == result.record


def test_classifier_listener_calls(classifier_run):
    result, listener = classifier_run
    assert listener.info["num_params"] == 104_874
    assert listener.info["steps_per_epoch"] == 2  # 512 images at batch 256
    assert listener.epochs_begun == [(1, 1)]
    assert listener.batches == [(1, 1, 2), (1, 2, 2)]
    assert listener.epochs_ended == [(1, 1, ["accuracy", "loss", "val_accuracy", "val_loss"], None)]
    assert listener.summary["out_dir"] == result.out_dir


# CVAE and DCGAN runs


def test_latent_grid_order():
    points = latent_grid(3)
    expected = [[-2, 2], [0, 2], [2, 2], [-2, 0], [0, 0], [2, 0], [-2, -2], [0, -2], [2, -2]]
    np.testing.assert_array_equal(points, np.array(expected, dtype=np.float32))
    assert points.dtype == np.float32


def test_cvae_run_files(cvae_run):
    out_dir = cvae_run.out_dir
    names = sorted(path.name for path in out_dir.iterdir())
    assert names == ["extras.npz", "history.json", "metrics.json", "model.keras", "run.json", "samples.npz"]

    epoch = _read(out_dir, artifacts.HISTORY_FILE)["epochs"][0]
    assert epoch["epoch"] == 1
    assert {"loss", "reconstruction_loss", "kl_loss", "val_loss", "epoch_seconds"} <= set(epoch)
    metrics = _read(out_dir, artifacts.METRICS_FILE)
    assert -1 <= metrics["silhouette_median"] <= 1
    assert metrics["silhouette_sample_size"] == 5_000
    assert metrics["test_loss"] == pytest.approx(metrics["test_reconstruction_loss"] + metrics["test_kl_loss"],
                                                 rel=1e-4)
    record = _read(out_dir, artifacts.RUN_FILE)
    assert record["variant"] == "CVAE-1"
    assert record["data_sha256"] == mnist.MNIST_SHA256


def test_cvae_samples_are_decoded_grid(cvae_run):
    samples = artifacts.read_npz(cvae_run.out_dir / artifacts.SAMPLES_FILE)
    assert samples["grids"].shape == (1, 64, 28, 28)
    assert samples["grids"].dtype == np.uint8
    assert samples["epochs"].tolist() == [1]

    decoded = np.asarray(cvae_run.model.decoder(latent_grid(8), training=False))[..., 0]
    expected = np.clip(np.round(decoded * 255), 0, 255).astype(np.uint8)
    assert np.abs(samples["grids"][0].astype(int) - expected).max() <= 1


def test_cvae_latent_means(cvae_run):
    extras = artifacts.read_npz(cvae_run.out_dir / artifacts.EXTRAS_FILE)
    assert extras["test_latent_means"].shape == (10_000, 2)
    assert extras["test_latent_means"].dtype == np.float32


def test_dcgan_run_files(dcgan_run):
    out_dir = dcgan_run.out_dir
    names = sorted(path.name for path in out_dir.iterdir())
    assert names == ["history.json", "metrics.json", "model.keras", "run.json", "samples.npz"]
    epoch = _read(out_dir, artifacts.HISTORY_FILE)["epochs"][0]
    assert epoch["epoch"] == 1
    assert {"d_loss", "g_loss", "d_real", "d_fake", "epoch_seconds"} <= set(epoch)
    record = _read(out_dir, artifacts.RUN_FILE)
    assert record["variant"] == "DCGAN-2"
    assert record["recipe"]["batch_size"] == 8
    assert record["recipe"]["steps_per_epoch"] == 200


def test_dcgan_samples_grid(dcgan_run):
    samples = artifacts.read_npz(dcgan_run.out_dir / artifacts.SAMPLES_FILE)
    assert samples["grids"].shape == (1, 64, 28, 28)
    assert samples["grids"].dtype == np.uint8
    assert samples["epochs"].tolist() == [1]

    latents = np.random.default_rng(SAMPLE_GRID_SEED).normal(size=(64, 100)).astype(np.float32)
    generated = np.asarray(dcgan_run.model.generator(latents, training=False))[..., 0]
    expected = np.clip(np.round(generated * 255), 0, 255).astype(np.uint8)
    assert np.abs(samples["grids"][0].astype(int) - expected).max() <= 1


def test_dcgan_generative_metrics(dcgan_run):
    metrics = _read(dcgan_run.out_dir, artifacts.METRICS_FILE)
    assert metrics["reference_classifier"] == "CNN-1"
    assert metrics["num_samples"] == 10_000
    assert metrics["frechet_distance"] >= 0
    assert metrics["frechet_floor"] >= 0
    assert 1 <= metrics["inception_score"] <= 10
    assert len(metrics["class_histogram"]) == 10
    assert 0 <= metrics["confident_share"] <= 1
    assert sum(metrics["class_histogram"]) == round(metrics["confident_share"] * 10_000)


# cancellation, non-finite losses, replacing a run


def test_cancel_after_batch_two(tmp_path):
    out_dir = tmp_path / "CNN-1"
    cancellation = Cancellation()
    listener = CancelAfterBatch(cancellation, batch=2)
    with pytest.raises(TrainingCancelled, match="nothing was saved"):
        train("CNN-1", num_epochs=2, train_subset=SUBSET, batch_size=64, out_dir=out_dir,
              listener=listener, cancellation=cancellation)
    assert listener.batches == [(1, 1, 8), (1, 2, 8)]
    assert not out_dir.exists()
    assert _leftovers(tmp_path, keep=set()) == []


@pytest.mark.parametrize("name", ["CNN-1", "CVAE-1"])
def test_non_finite_loss_keeps_old_run(name, tmp_path):
    # Adam moves each weight by about the learning rate per step, so at 1e12 the activations overflow.
    out_dir = tmp_path / name
    out_dir.mkdir()
    (out_dir / "old.txt").write_text("previous run")

    with pytest.raises(NonFiniteLossError) as caught:
        train(name, num_epochs=1, train_subset=SUBSET, batch_size=32, learning_rate=1e12, out_dir=out_dir)
    message = str(caught.value)
    assert "loss became" in message
    assert "at epoch 1" in message
    assert "nothing was saved" in message
    assert sorted(path.name for path in out_dir.iterdir()) == ["old.txt"]
    assert _leftovers(tmp_path, keep={name}) == []


def test_retrain_replaces_run(tmp_path):
    out_dir = tmp_path / "FCNN-1"
    out_dir.mkdir()
    (out_dir / "old.txt").write_text("previous run")
    (out_dir / artifacts.MODEL_FILE).write_bytes(b"not a model")

    train("FCNN-1", num_epochs=1, train_subset=SUBSET, out_dir=out_dir)
    names = sorted(path.name for path in out_dir.iterdir())
    assert names == ["extras.npz", "history.json", "metrics.json", "model.keras", "run.json"]
    assert artifacts.load_model(out_dir / artifacts.MODEL_FILE).name == "FCNN-1"
    assert _read(out_dir, artifacts.RUN_FILE)["variant"] == "FCNN-1"
    assert _leftovers(tmp_path, keep={"FCNN-1"}) == []


def test_same_seed_same_loss(classifier_run):
    first, _ = classifier_run
    again = train("CNN-1", num_epochs=1, train_subset=SUBSET, seed=0)
    other_seed = train("CNN-1", num_epochs=1, train_subset=SUBSET, seed=1)
    # On CPU two runs with one seed gave bit-identical losses (TensorFlow 2.21, 2 cores).
    assert again.history[0]["loss"] == pytest.approx(first.history[0]["loss"], rel=1e-6, abs=0)
    assert again.history[0]["val_loss"] == pytest.approx(first.history[0]["val_loss"], rel=1e-6, abs=0)
    assert again.out_dir is None
    assert other_seed.history[0]["loss"] != pytest.approx(first.history[0]["loss"], rel=1e-6, abs=0)


# argument errors


@pytest.mark.parametrize("arguments, expected", [
    ({"variant_name": "NOPE"}, "unknown variant 'NOPE'"),
    ({"recipe": "slow"}, "unknown recipe 'slow'"),
    ({"num_epochs": 0}, "num_epochs must be at least 1, got 0"),
    ({"batch_size": -1}, "batch_size must be at least 1, got -1"),
    ({"learning_rate": -0.5}, "learning_rate must be positive, got -0.5"),
    ({"train_subset": 5}, "got 5"),
])
def test_bad_argument(arguments, expected, tmp_path):
    arguments = {"variant_name": "CNN-1", **arguments}
    with pytest.raises(ValueError, match=expected):
        train(**arguments, out_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
