"""Tests for the app's image helpers: squaring, enlarging and tiling digits."""

import numpy as np
import pytest

from pages import imaging


def test_pad_to_square_thin_digit():
    strip = np.full((20, 4), 255, dtype=np.uint8)
    square = imaging.pad_to_square(strip)
    assert square.shape == (20, 20)
    assert square.dtype == np.uint8
    # Columns 8..11 hold the strip, the rest is black background.
    assert np.all(square[:, 8:12] == 255)
    assert square[:, :8].max() == 0
    assert square[:, 12:].max() == 0


def test_pad_to_square_float_input():
    digit = np.linspace(0.0, 1.0, 28 * 28, dtype=np.float32).reshape(28, 28)
    square = imaging.pad_to_square(digit)
    assert square.shape == (28, 28)
    assert square[0, 0] == 0
    assert square[-1, -1] == 255


def test_enlarge_keeps_sharp_pixels():
    digit = np.array([[0, 255], [255, 0]], dtype=np.uint8)
    pixels = np.asarray(imaging.enlarge(digit, scale=3))
    assert pixels.shape == (6, 6)
    assert np.all(pixels[:3, :3] == 0)
    assert np.all(pixels[:3, 3:] == 255)


def test_grid_tiles_row_by_row_with_grey_gaps():
    tiles = np.stack([np.full((28, 28), level, dtype=np.uint8) for level in (10, 20, 30)])
    pixels = np.asarray(imaging.grid(tiles, num_columns=2, scale=1))
    assert pixels.shape == (2 * 28 + imaging.GAP_PIXELS, 2 * 28 + imaging.GAP_PIXELS)
    assert pixels[0, 0] == 10
    assert pixels[0, 30] == 20
    assert pixels[30, 0] == 30
    assert pixels[28, 0] == imaging.GAP_LEVEL
    # The empty fourth cell stays the gap colour.
    assert pixels[-1, -1] == imaging.GAP_LEVEL


def test_grid_of_nothing_is_refused():
    with pytest.raises(ValueError, match="at least one image"):
        imaging.grid(np.zeros((0, 28, 28), dtype=np.uint8))
