"""Tests for turning drawings into MNIST-style 28×28 digits."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps
from scipy import ndimage

from digitcore.data.mnist import load_mnist
from digitcore.engine import train
from digitcore.preprocess import NothingDrawnError, PreprocessedDigit, is_blank, preprocess_drawing

CANVAS_SIZE = 280
NUM_DIGITS = 1000
MIN_ACCURACY = 0.97


def blank_canvas():
    return np.zeros((CANVAS_SIZE, CANVAS_SIZE, 4), dtype=np.uint8)


def render_on_canvas(digit, rng):
    """Draw an MNIST digit the way the canvas returns it: black strokes, alpha = ink.

    The 28×28 digit is enlarged to 60-80 % of the 280 px canvas and placed at a random
    offset, on a fully transparent background.
    """
    size = round(CANVAS_SIZE * rng.uniform(0.6, 0.8))
    top, left = rng.integers(0, CANVAS_SIZE - size + 1, size=2)
    enlarged = Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR)

    canvas = blank_canvas()
    canvas[top : top + size, left : left + size, 3] = np.asarray(enlarged)
    return canvas


def draw_seven(mode="L", size=200):
    """A hand-drawn style 7 as black strokes on white, binary so every mode stores it exactly."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(50, 40), (150, 40), (90, 170)], fill=0, width=14)
    draw.line([(80, 100), (130, 100)], fill=0, width=10)
    return image.convert(mode) if mode != "L" else image


def classify(model, digits):
    batch = np.concatenate([digit.model_input for digit in digits])
    return model.predict(batch, batch_size=500, verbose=0).argmax(axis=1)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def cnn_1():
    """CNN-1 after one epoch of the training engine's fast recipe (54,000 images, seed 0)."""
    return train("CNN-1", num_epochs=1, seed=0).model


@pytest.fixture(scope="module")
def canvas_digits(mnist):
    _, test = mnist
    rng = np.random.default_rng(0)
    return [preprocess_drawing(render_on_canvas(digit, rng)) for digit in test.images[:NUM_DIGITS]]


# Nothing drawn


def test_none_is_nothing_drawn():
    with pytest.raises(NothingDrawnError, match="Nothing drawn: draw a digit first"):
        preprocess_drawing(None)


def test_empty_canvas_is_nothing_drawn():
    with pytest.raises(NothingDrawnError, match="Nothing drawn"):
        preprocess_drawing(blank_canvas())


def test_transparent_coloured_canvas_is_nothing_drawn():
    canvas = blank_canvas()
    canvas[..., 0] = 255  # red everywhere, but fully transparent
    with pytest.raises(NothingDrawnError):
        preprocess_drawing(canvas)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (280, 280), 255),
        Image.new("L", (280, 280), 0),
        Image.new("RGB", (100, 60), (120, 120, 120)),
        Image.new("RGBA", (280, 280), (255, 0, 0, 255)),
        np.full((28, 28), 0.5, dtype=np.float32),
    ],
    ids=["white", "black", "grey-rgb", "opaque-red", "float-grey"],
)
def test_one_colour_image_is_nothing_drawn(image):
    with pytest.raises(NothingDrawnError):
        preprocess_drawing(image)


def test_stray_dot_is_nothing_drawn():
    canvas = blank_canvas()
    rows, cols = np.indices(canvas.shape[:2])
    canvas[(rows - 140) ** 2 + (cols - 90) ** 2 <= 8**2, 3] = 255  # a dot of 197 pixels

    with pytest.raises(NothingDrawnError, match="Found 197 ink pixels, and at least 392 are needed"):
        preprocess_drawing(canvas)
    assert is_blank(canvas)

    # A lower threshold accepts the same dot.
    assert preprocess_drawing(canvas, min_ink_pixels=100).centered.max() == pytest.approx(1.0)


def test_is_blank_on_digit_and_none():
    assert is_blank(None)
    assert is_blank(blank_canvas())
    assert not is_blank(draw_seven())


# Invalid input


@pytest.mark.parametrize(
    "shape",
    [(280,), (1, 28, 28, 1), (0, 28), (28, 0, 4), (28, 28, 5), (28, 28, 0)],
)
def test_wrong_shape_raises_value_error(shape):
    with pytest.raises(ValueError, match="Invalid image") as raised:
        preprocess_drawing(np.zeros(shape, dtype=np.uint8))
    assert not isinstance(raised.value, NothingDrawnError)
    assert str(shape).replace(" ", "") in str(raised.value).replace(" ", "")


@pytest.mark.parametrize(
    "array",
    [
        np.full((28, 28), -1, dtype=np.int16),
        np.full((28, 28), 300.0),
        np.full((28, 28), np.nan),
        np.zeros((28, 28), dtype=np.complex64),
        np.full((28, 28), "a"),
    ],
    ids=["negative", "float-over-255", "nan", "complex", "string"],
)
def test_unreadable_values_raise_value_error(array):
    with pytest.raises(ValueError, match="Invalid image") as raised:
        preprocess_drawing(array)
    assert not isinstance(raised.value, NothingDrawnError)
    assert str(array.dtype) in str(raised.value)


@pytest.mark.parametrize("min_ink_pixels", [0, -5, 2.5, True])
def test_invalid_min_ink_pixels_raises(min_ink_pixels):
    with pytest.raises(ValueError, match="min_ink_pixels must be a positive integer"):
        preprocess_drawing(draw_seven(), min_ink_pixels=min_ink_pixels)


# The steps


def test_step_shapes_of_rectangle():
    canvas = blank_canvas()
    canvas[50:150, 100:136] = (0, 0, 255, 255)  # 100 rows by 36 columns of opaque blue

    digit = preprocess_drawing(canvas)

    assert isinstance(digit, PreprocessedDigit)
    assert digit.ink.shape == (280, 280)
    assert digit.cropped.shape == (100, 36)
    assert digit.fitted.shape == (20, 7)  # 36 * 20 / 100 = 7.2 columns
    assert digit.centered.shape == (28, 28)
    assert digit.model_input.shape == (1, 28, 28, 1)
    for step in (digit.ink, digit.cropped, digit.fitted, digit.centered, digit.model_input):
        assert step.dtype == np.float32

    # The centre of mass of the 20×7 block is (9.5, 3), so it lands at rows 5..24 and
    # columns 11..17 (14 - 9.5 rounds half up to 5, 14 - 3 gives 11).
    np.testing.assert_allclose(digit.centered[5:25, 11:18], 1.0, atol=1e-6)
    assert digit.centered.sum() == pytest.approx(140.0, abs=1e-3)


def test_faint_noise_outside_digit_is_not_cropped():
    canvas = blank_canvas()
    canvas[50:150, 100:136, 3] = 255
    canvas[250:270, 10:30, 3] = 20  # alpha 20/255 = 0.08, below the ink threshold

    digit = preprocess_drawing(canvas)

    assert digit.cropped.shape == (100, 36)


def test_centering_clips_instead_of_losing_ink():
    # A heavy square at the top left and a small dot at the bottom right: the centre of
    # mass sits near the square, so the rounded shift (10 px) would push the dot off the
    # field. The shift is clipped to 8 px, which puts the 20×20 box against the far edges.
    canvas = blank_canvas()
    canvas[40:120, 40:120, 3] = 255
    canvas[230:240, 230:240, 3] = 255

    digit = preprocess_drawing(canvas)

    assert digit.fitted.shape == (20, 20)
    assert digit.centered.sum() == pytest.approx(digit.fitted.sum(), rel=1e-5)
    assert digit.centered[-1].max() > 0.5
    assert digit.centered[:, -1].max() > 0.5
    assert digit.centered[:8].max() == 0.0


def test_output_fits_box_and_centre_of_mass(canvas_digits):
    for digit in canvas_digits[:50]:
        rows = np.flatnonzero(digit.centered.any(axis=1))
        cols = np.flatnonzero(digit.centered.any(axis=0))
        assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) <= 20
        assert max(digit.fitted.shape) == 20

        center_row, center_col = ndimage.center_of_mass(digit.centered)
        assert abs(center_row - 14) <= 0.5
        assert abs(center_col - 14) <= 0.5

        assert digit.centered.min() >= 0.0
        assert digit.centered.max() == pytest.approx(1.0)


# Input kinds


@pytest.mark.parametrize(
    "paper",
    ["invert", "invert-rgb", "grey-paper"],
)
def test_polarity_gives_same_digit(mnist, paper):
    _, test = mnist
    white_on_black = Image.fromarray(test.images[0]).resize((200, 200), Image.Resampling.BILINEAR)
    if paper == "invert":
        dark_on_light = ImageOps.invert(white_on_black)
    elif paper == "invert-rgb":
        dark_on_light = ImageOps.invert(white_on_black).convert("RGB")
    else:
        # Black ink on paper of grey level 0.8.
        levels = 0.8 * (1.0 - np.asarray(white_on_black, dtype=np.float32) / 255.0)
        dark_on_light = Image.fromarray(levels)

    expected = preprocess_drawing(white_on_black).centered
    actual = preprocess_drawing(dark_on_light).centered

    np.testing.assert_allclose(actual, expected, atol=1e-4)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "LA", "P", "1", "F", "I;16"])
def test_pil_modes_give_same_digit(mode):
    expected = preprocess_drawing(draw_seven()).centered

    image = draw_seven()
    if mode == "F":
        image = Image.fromarray(np.asarray(image, dtype=np.float32))  # 0..255 floats
    elif mode == "I;16":
        image = Image.fromarray(np.asarray(image).astype(np.uint16) * 257)  # 0..65535
    else:
        image = image.convert(mode)
    assert image.mode == mode

    np.testing.assert_allclose(preprocess_drawing(image).centered, expected, atol=1e-5)


@pytest.mark.parametrize("stroke_colour", [(0, 0, 0), (255, 255, 255), (30, 144, 255)])
def test_canvas_stroke_colour_does_not_matter(stroke_colour):
    seven = 255 - np.asarray(draw_seven(size=280))
    canvas = blank_canvas()
    canvas[..., :3] = stroke_colour
    canvas[..., 3] = seven

    expected = preprocess_drawing(draw_seven(size=280)).centered

    np.testing.assert_allclose(preprocess_drawing(canvas).centered, expected, atol=1e-5)


def test_float_canvas_matches_uint8():
    canvas = blank_canvas()
    canvas[..., 3] = 255 - np.asarray(draw_seven(size=280))
    expected = preprocess_drawing(canvas).centered

    for scaled in (canvas.astype(np.float64), canvas.astype(np.float32) / 255.0):
        np.testing.assert_allclose(preprocess_drawing(scaled).centered, expected, atol=1e-5)


# Accuracy on real digits


def test_cnn_1_accuracy_on_plain_digits(mnist, cnn_1):
    _, test = mnist
    images = (test.images[:NUM_DIGITS].astype(np.float32) / 255.0)[..., np.newaxis]
    predicted = cnn_1.predict(images, batch_size=500, verbose=0).argmax(axis=1)
    accuracy = float(np.mean(predicted == test.labels[:NUM_DIGITS]))
    print(f"CNN-1 accuracy on {NUM_DIGITS} plain test digits: {accuracy:.3f}")
    assert accuracy >= MIN_ACCURACY


def test_cnn_1_accuracy_on_canvas_digits(mnist, cnn_1, canvas_digits):
    _, test = mnist
    predicted = classify(cnn_1, canvas_digits)
    accuracy = float(np.mean(predicted == test.labels[:NUM_DIGITS]))
    print(f"CNN-1 accuracy on {NUM_DIGITS} test digits drawn on a canvas: {accuracy:.3f}")
    assert accuracy >= MIN_ACCURACY
