"""Tests for the command line, run as a user runs it: ``python -m digitcore ...`` in a child process."""

import json
import re
import subprocess
import sys

import pytest

from digitcore import registry
from digitcore.data import mnist

TIMEOUT_SECONDS = 300

# TensorFlow's C++ logging (and absl's notice about it) may print to stderr on start-up
# even with TF_CPP_MIN_LOG_LEVEL=2, for example "E0000 ... failed call to cuInit".
TENSORFLOW_LOG_LINE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)")


def run_cli(arguments, env, cwd):
    return subprocess.run([sys.executable, "-m", "digitcore", *arguments], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT_SECONDS)


def own_lines(stream_text):
    """Return the non-empty lines that digitcore printed, without TensorFlow's start-up logging."""
    return [line for line in stream_text.splitlines() if line.strip() and not TENSORFLOW_LOG_LINE.match(line)]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, subprocess_env):
    folder = tmp_path_factory.mktemp("cli")
    out_dir = folder / "run"
    completed = run_cli(["train", "CNN-1", "--epochs", "1", "--subset", "512", "--out", str(out_dir)],
                        subprocess_env, folder)
    return completed, out_dir


def test_list_names_all_variants(subprocess_env, tmp_path):
    completed = run_cli(["list"], subprocess_env, tmp_path)
    assert completed.returncode == 0, completed.stderr
    first_words = [line.split()[0] for line in own_lines(completed.stdout)[1:]]
    assert first_words == list(registry.VARIANTS)
    assert len(first_words) == 17


def test_info_versions_and_checksum(subprocess_env, tmp_path):
    import keras
    import tensorflow as tf

    completed = run_cli(["info"], subprocess_env, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert re.search(rf"^tensorflow\s+{re.escape(tf.__version__)}$", completed.stdout, re.MULTILINE)
    assert re.search(rf"^keras\s+{re.escape(keras.__version__)}$", completed.stdout, re.MULTILINE)
    assert re.search(rf"^data sha256\s+{mnist.MNIST_SHA256} ok$", completed.stdout, re.MULTILINE)


def test_train_unknown_variant(subprocess_env, tmp_path):
    completed = run_cli(["train", "NOPE"], subprocess_env, tmp_path)
    assert completed.returncode == 2
    lines = own_lines(completed.stderr)
    assert len(lines) == 1, lines
    assert "'NOPE'" in lines[0]
    for name in registry.VARIANTS:
        assert name in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("arguments, value", [
    (["--epochs", "0"], "'0'"),
    (["--epochs", "abc"], "'abc'"),
    (["--recipe", "slow"], "'slow'"),
    (["--batch-size", "-1"], "'-1'"),
])
def test_train_bad_option(arguments, value, subprocess_env, tmp_path):
    completed = run_cli(["train", "CNN-1", *arguments], subprocess_env, tmp_path)
    assert completed.returncode == 2
    lines = own_lines(completed.stderr)
    assert len(lines) == 1, lines
    assert value in lines[0]
    assert arguments[0] in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_train_prints_epochs_and_metrics(trained_run):
    completed, out_dir = trained_run
    assert completed.returncode == 0, completed.stderr[-3000:]
    epoch_lines = [line for line in own_lines(completed.stderr) if re.match(r"^epoch \d+/\d+: ", line)]
    assert len(epoch_lines) == 1
    assert epoch_lines[0].startswith("epoch 1/1: ")
    assert "val_loss" in epoch_lines[0]
    assert re.search(r"^test_accuracy\s+0\.\d{4}$", completed.stdout, re.MULTILINE)
    assert f"saved the run to {out_dir}" in completed.stdout


def test_train_writes_run(trained_run):
    _, out_dir = trained_run
    record = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    assert record["variant"] == "CNN-1"
    assert record["recipe"]["num_epochs"] == 1
    assert record["num_train_images"] == 512
    assert (out_dir / "model.keras").is_file()


def test_evaluate_model_file(trained_run, subprocess_env, tmp_path):
    _, out_dir = trained_run
    completed = run_cli(["evaluate", str(out_dir / "model.keras")], subprocess_env, tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]

    stored = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))["test_accuracy"]
    printed = re.search(r"^test_accuracy\s+(\S+)$", completed.stdout, re.MULTILINE)
    assert printed
    assert float(printed.group(1)) == pytest.approx(stored, abs=1e-4)
    assert completed.stdout.startswith(f"CNN-1 from {out_dir / 'model.keras'}")


def test_evaluate_missing_file(subprocess_env, tmp_path):
    path = tmp_path / "missing" / "model.keras"
    completed = run_cli(["evaluate", str(path)], subprocess_env, tmp_path)
    assert completed.returncode == 1
    lines = own_lines(completed.stderr)
    assert len(lines) == 1, lines
    assert str(path) in lines[0]
    assert "not found" in lines[0]


def test_evaluate_corrupt_file(subprocess_env, tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"this is not a Keras archive")
    completed = run_cli(["evaluate", str(path)], subprocess_env, tmp_path)
    assert completed.returncode == 1
    lines = own_lines(completed.stderr)
    assert len(lines) == 1, lines
    assert str(path) in lines[0]
    assert "is not a .keras archive" in lines[0]
