"""Turning 28×28 digit arrays into enlarged images and grids for ``st.image``."""

import math

import numpy as np
from PIL import Image

GAP_PIXELS = 2
GAP_LEVEL = 90  # grey lines between tiles, so black digit backgrounds stay apart


def to_uint8(images):
    """Return ``images`` as uint8 (…, 28, 28), reading floats as [0, 1] and dropping a channel axis."""
    images = np.asarray(images)
    if images.ndim >= 3 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.dtype == np.uint8:
        return images
    return np.clip(np.round(images * 255.0), 0, 255).astype(np.uint8)


def enlarge(image, scale=8):
    """Return one 2-D digit as a PIL image ``scale`` times larger, with sharp pixels."""
    pixels = to_uint8(image)
    height, width = pixels.shape
    return Image.fromarray(pixels).resize((width * scale, height * scale), Image.Resampling.NEAREST)


def pad_to_square(image):
    """Return a 2-D digit centred on a black square whose side is its longer side.

    The steps of the Draw page differ in shape (a "1" crops to a thin strip), and
    squares let them share one size on the page without stretching.
    """
    pixels = to_uint8(image)
    height, width = pixels.shape
    side = max(height, width)
    square = np.zeros((side, side), dtype=np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    square[top:top + height, left:left + width] = pixels
    return square


def grid(images, num_columns=None, scale=3):
    """Return a PIL image tiling ``images`` (n, 28, 28) row by row, enlarged ``scale`` times.

    ``num_columns=None`` makes the grid as square as possible.
    """
    tiles = to_uint8(images)
    count = len(tiles)
    if count == 0:
        raise ValueError("grid() needs at least one image, got an empty array")
    num_columns = num_columns or math.ceil(math.sqrt(count))
    num_rows = math.ceil(count / num_columns)
    height, width = tiles.shape[1:3]

    canvas = np.full((num_rows * (height + GAP_PIXELS) - GAP_PIXELS,
                      num_columns * (width + GAP_PIXELS) - GAP_PIXELS), GAP_LEVEL, dtype=np.uint8)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, num_columns)
        top = row * (height + GAP_PIXELS)
        left = column * (width + GAP_PIXELS)
        canvas[top:top + height, left:left + width] = tile
    return enlarge(canvas, scale)
