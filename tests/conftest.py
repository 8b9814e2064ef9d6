"""Shared fixtures: the repository root, the MNIST data and an environment for subprocesses."""

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT


@pytest.fixture(scope="session")
def mnist_splits():
    """The official (train, test) MnistSplit pair, loaded once per session."""
    from digitcore.data.mnist import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def subprocess_env():
    """Return an environment for child processes with the repository on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env.pop("TF_CONFIG", None)
    return env


@pytest.fixture(scope="session")
def python():
    return sys.executable
