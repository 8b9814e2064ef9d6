"""Turn a drawn digit into an MNIST-style 28×28 image, keeping every step for display.

The steps follow how MNIST itself was made. Its page (LeCun, Cortes and Burges,
http://yann.lecun.com/exdb/mnist/) says each digit was scaled to fit a 20×20 box, keeping
its aspect ratio, and then shifted so that its centre of mass is at the centre of 28×28.

1. ink: a 2-D map in [0, 1] where ink is high, taken from the alpha channel when the image
   has transparent pixels (a drawing canvas), else from the luminance. The polarity comes
   from the border: a bright border means dark ink on a light background, so the map is
   inverted. The border level is then subtracted, so a grey paper tone becomes 0.
2. cropped: the bounding box of the pixels above ``INK_THRESHOLD``.
3. fitted: the crop resized so that its longer side is 20 px with a Lanczos filter, which
   PIL widens by the shrink factor so no source pixel is skipped. It is then rescaled so
   that its maximum is 1.
4. centered: the fitted digit in a 28×28 field, shifted by the rounded offset that moves its
   centre of mass to pixel (14, 14), and clipped so that no ink leaves the field.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

IMAGE_SIZE = 28
FIT_SIZE = 20
CENTER = 14.0  # the mean centre of mass of the MNIST images, in pixel indices
INK_THRESHOLD = 0.1  # ink level below which a pixel is treated as background noise
MIN_INK_FRACTION = 0.005  # so a 20 px wide dot on a 280×280 canvas (0.4 %) is not a digit
MIN_INK_PIXELS = 4
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as PIL's "L" mode uses


class NothingDrawnError(ValueError):
    """An image that contains no digit: it is empty, of one colour, or only a stray dot."""

    def __init__(self, detail=""):
        message = "Nothing drawn: draw a digit first."
        super().__init__(f"{message} {detail}" if detail else message)


@dataclass(frozen=True)
class PreprocessedDigit:
    """The intermediate images of one drawing, all float32 in [0, 1] with ink high."""

    ink: np.ndarray  # (H, W), the size of the input
    cropped: np.ndarray  # the bounding box of the ink
    fitted: np.ndarray  # longer side FIT_SIZE
    centered: np.ndarray  # (IMAGE_SIZE, IMAGE_SIZE), white digit on black like MNIST

    @property
    def model_input(self):
        """The centered image as a batch of one, shaped (1, 28, 28, 1), for a classifier."""
        return self.centered.reshape(1, IMAGE_SIZE, IMAGE_SIZE, 1).astype(np.float32)


def preprocess_drawing(image, min_ink_pixels=None):
    """Convert a drawing into an MNIST-style digit, keeping each intermediate image.

    ``image`` is a canvas array (H, W, 4) such as streamlit-drawable-canvas returns in
    ``image_data``, any PIL image, or a NumPy array shaped (H, W) or (H, W, C) with C in
    1..4. Integer arrays are read on the 0..255 scale (0..65535 when a value exceeds 255).
    Float arrays are read as [0, 1] when their maximum is at most 1, else as 0..255.
    ``min_ink_pixels`` is the number of pixels above ``INK_THRESHOLD`` needed to count as a
    drawing. The default is 0.5 % of the image area, and at least 4.

    Raises NothingDrawnError for None, an image of one colour, or too little ink, and
    ValueError for an array or image that cannot be read.
    """
    ink = extract_ink(image)
    ink_pixels = int(np.count_nonzero(ink > INK_THRESHOLD))
    required_pixels = _required_ink_pixels(ink, min_ink_pixels)
    if ink_pixels < required_pixels:
        raise NothingDrawnError(f"Found {ink_pixels} ink pixels, and at least {required_pixels} are needed.")

    cropped = crop_to_ink(ink)
    fitted = fit_to_box(cropped)
    centered = center_by_mass(fitted)
    return PreprocessedDigit(ink=ink, cropped=cropped, fitted=fitted, centered=centered)


def is_blank(image, min_ink_pixels=None):
    """Return True when ``preprocess_drawing`` would raise NothingDrawnError on ``image``."""
    try:
        ink = extract_ink(image)
    except NothingDrawnError:
        return True
    ink_pixels = np.count_nonzero(ink > INK_THRESHOLD)
    return bool(ink_pixels < _required_ink_pixels(ink, min_ink_pixels))


def extract_ink(image):
    """Return the float32 ink map (H, W) of ``image``: 1 is full ink, 0 is background."""
    if image is None:
        raise NothingDrawnError("No image was received.")
    pixels = _to_float_array(image)

    # Transparency marks the strokes of a canvas drawing, whatever their colour.
    has_alpha = pixels.shape[2] in (2, 4)
    if has_alpha and pixels[..., -1].min() < 1.0:
        ink = pixels[..., -1]
    elif pixels.shape[2] >= 3:
        ink = pixels[..., :3] @ LUMA_WEIGHTS
    else:
        ink = pixels[..., 0]

    # The border is mostly background, so its median gives the background level.
    border = np.concatenate([ink[0], ink[-1], ink[1:-1, 0], ink[1:-1, -1]])
    background = float(np.median(border))
    if background > 0.5:
        ink = 1.0 - ink
        background = 1.0 - background
    ink = np.clip((ink - background) / (1.0 - background), 0.0, 1.0)
    return ink.astype(np.float32)


def crop_to_ink(ink):
    """Return the bounding box of the pixels of ``ink`` above ``INK_THRESHOLD``."""
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise NothingDrawnError(f"No pixel is above the ink threshold {INK_THRESHOLD}.")
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy()


def fit_to_box(cropped, size=FIT_SIZE):
    """Resize ``cropped`` so that its longer side is ``size``, keeping the aspect ratio."""
    height, width = cropped.shape
    scale = size / max(height, width)
    new_height = max(1, min(size, round(height * scale)))
    new_width = max(1, min(size, round(width * scale)))

    # A float "F" image keeps the ink levels exact. Lanczos can overshoot, hence the clip.
    resized = Image.fromarray(cropped.astype(np.float32)).resize(
        (new_width, new_height), Image.Resampling.LANCZOS
    )
    fitted = np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)

    # Shrinking a thin stroke dims it, but MNIST strokes reach full intensity.
    peak = fitted.max()
    if peak > 0:
        fitted = fitted / peak
    return fitted.astype(np.float32)


def center_by_mass(fitted, size=IMAGE_SIZE):
    """Place ``fitted`` in a ``size``×``size`` field with its centre of mass near the centre."""
    height, width = fitted.shape
    rows, cols = np.indices(fitted.shape)
    mass = fitted.sum()
    center_row = (rows * fitted).sum() / mass
    center_col = (cols * fitted).sum() / mass

    # Round half up, then clip so that the whole box stays inside the field.
    top = min(max(math.floor(CENTER - center_row + 0.5), 0), size - height)
    left = min(max(math.floor(CENTER - center_col + 0.5), 0), size - width)

    centered = np.zeros((size, size), dtype=np.float32)
    centered[top : top + height, left : left + width] = fitted
    return centered


def _required_ink_pixels(ink, min_ink_pixels):
    if min_ink_pixels is None:
        return max(MIN_INK_PIXELS, math.ceil(MIN_INK_FRACTION * ink.size))
    if isinstance(min_ink_pixels, bool) or not isinstance(min_ink_pixels, (int, np.integer)) or min_ink_pixels < 1:
        raise ValueError(f"min_ink_pixels must be a positive integer or None, got {min_ink_pixels!r}.")
    return int(min_ink_pixels)


def _to_float_array(image):
    """Return ``image`` as a float64 array (H, W, C) in [0, 1], C being 1 to 4."""
    if isinstance(image, Image.Image):
        image = _pil_to_array(image)
    pixels = np.asarray(image)
    description = f"shape {pixels.shape} and dtype {pixels.dtype}"
    expected = "expected a non-empty (H, W) or (H, W, C) array with C in 1..4, or a PIL image"

    if pixels.ndim not in (2, 3) or pixels.size == 0:
        raise ValueError(f"Invalid image of {description}: {expected}.")
    if pixels.ndim == 2:
        pixels = pixels[..., np.newaxis]
    if not 1 <= pixels.shape[2] <= 4:
        raise ValueError(f"Invalid image with {pixels.shape[2]} channels ({description}): {expected}.")

    if pixels.dtype == bool:
        return pixels.astype(np.float64)
    if np.issubdtype(pixels.dtype, np.integer):
        return _scale_integers(pixels, description)
    if np.issubdtype(pixels.dtype, np.floating):
        return _scale_floats(pixels, description)
    raise ValueError(f"Invalid image of {description}: expected integer, float or bool pixels.")


def _pil_to_array(image):
    has_transparency = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_transparency:
        return np.asarray(image.convert("RGBA"))
    if image.mode in ("I", "F") or image.mode.startswith("I;"):
        return np.asarray(image)
    try:
        return np.asarray(image.convert("L"))
    except ValueError as error:
        message = f"Unsupported PIL image mode {image.mode!r}: {error}. Convert the image to 'L' or 'RGBA' first."
        raise ValueError(message) from error


def _scale_integers(pixels, description):
    low, high = int(pixels.min()), int(pixels.max())
    if low < 0 or high > 65535:
        raise ValueError(
            f"Invalid image of {description} with values from {low} to {high}: "
            "expected integers from 0 to 255 (or to 65535 for 16-bit images)."
        )
    full_scale = 255.0 if high <= 255 else 65535.0
    return pixels.astype(np.float64) / full_scale


def _scale_floats(pixels, description):
    if not np.isfinite(pixels).all():
        raise ValueError(f"Invalid image of {description}: it contains NaN or infinite values.")
    low, high = float(pixels.min()), float(pixels.max())
    if low < 0 or high > 255:
        raise ValueError(
            f"Invalid image of {description} with values from {low} to {high}: "
            "expected floats in [0, 1] or in [0, 255]."
        )
    pixels = pixels.astype(np.float64)
    return pixels if high <= 1.0 else pixels / 255.0
