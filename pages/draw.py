"""Draw: a canvas, every preprocessing step, and what each of the seven classifiers reads."""

import time
from collections import Counter

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from pages import charts, imaging, ui

CANVAS_PIXELS = 280
INK_STYLES = {
    "White on black (as in MNIST)": ("#FFFFFF", "#000000"),
    "Black on white": ("#000000", "#FFFFFF"),
}

ui.sidebar()

st.title("Draw: test the readers with your own handwriting")
st.markdown(
    "Draw one digit, 0 to 9, in the box with your mouse or finger. The app cleans your drawing "
    "up the same way the MNIST digits were prepared, then asks all seven readers what they see."
)


def _clear_canvas():
    # A new key gives a fresh, empty canvas, and the old strokes go with the old key.
    st.session_state["canvas_version"] = st.session_state.get("canvas_version", 0) + 1
    st.session_state.pop("drawn_digit", None)


style_column, width_column, clear_column = st.columns([4, 3, 1], vertical_alignment="bottom")
ink_style = style_column.radio("Ink", list(INK_STYLES), horizontal=True, key="draw_ink_style",
                               help="Switching the ink colour starts a new drawing.")
stroke_width = width_column.slider("Pen width (pixels)", 8, 40, 22, key="draw_stroke_width")
clear_column.button("Clear", icon=":material/ink_eraser:", on_click=_clear_canvas, width="stretch")
stroke_color, background_color = INK_STYLES[ink_style]
st.space("small")  # the canvas toolbar floats above the canvas and would cover the ink choice

canvas_column, steps_column = st.columns([1, 2])
with canvas_column:
    canvas = st_canvas(
        stroke_width=stroke_width, stroke_color=stroke_color, background_color=background_color,
        height=CANVAS_PIXELS, width=CANVAS_PIXELS, drawing_mode="freedraw", update_streamlit=True,
        return_image_data=True, key=f"draw_canvas_{st.session_state.get('canvas_version', 0)}",
    )


def read_digit(image):
    """Preprocess ``image`` and run every classifier on it.

    Returns (digit, probabilities by variant, load errors by variant, elapsed milliseconds).
    The time covers preprocessing and the readings, not the first load of each model.
    """
    lib = ui.library()
    forwards, errors = {}, {}
    for name in ui.CLASSIFIERS:
        try:
            forwards[name] = ui.forward_function(name)
        except ui.GalleryError as error:
            errors[name] = error
    started = time.perf_counter()
    digit = lib.preprocess.preprocess_drawing(image)
    probabilities = {name: np.asarray(forward(digit.model_input))[0] for name, forward in forwards.items()}
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    return digit, probabilities, errors, elapsed_ms


def consensus_of(probabilities):
    """Return (digit, votes): the digit most readers chose, a tie going to the larger summed probability."""
    votes = Counter(int(np.argmax(values)) for values in probabilities.values())
    totals = sum(probabilities.values())
    return max(votes, key=lambda digit: (votes[digit], totals[digit])), votes


image = canvas.image_data
if image is None or not np.any(image != image[0, 0]):
    # An image of one colour is an empty canvas, so no model needs to load.
    with steps_column:
        st.info("Draw a digit first.", icon=":material/draw:")
    st.stop()

lib = ui.library()
try:
    digit, probabilities, errors, elapsed_ms = read_digit(image)
except lib.preprocess.NothingDrawnError:
    with steps_column:
        st.info("Draw a digit first.", icon=":material/draw:")
    st.caption("The canvas holds too little ink to be a digit: draw a bigger stroke.")
    st.stop()
st.session_state["drawn_digit"] = digit.centered

# The preprocessing steps, left to right.
with steps_column:
    st.markdown("**How your drawing becomes a 28×28 digit**")
    step_columns = st.columns(4)
    steps = [
        (digit.ink, "1. Ink", "Your strokes as ink levels from 0 to 1, whatever the colours."),
        (digit.cropped, "2. Cropped", "Cut to the smallest box around the ink."),
        (digit.fitted, "3. Fitted to 20×20", "Scaled so the longer side is 20 pixels, shape kept."),
        (digit.centered, "4. Centred in 28×28", "Moved so its centre of mass sits in the middle."),
    ]
    for column, (step_image, title, explanation) in zip(step_columns, steps):
        square = imaging.pad_to_square(step_image)
        scale = max(1, round(140 / len(square)))
        column.image(imaging.enlarge(square, scale), caption=title, width=140)
        column.caption(explanation)
    with st.expander("Why these steps?", icon=":material/info:"):
        st.markdown(
            "The readers learned from MNIST, where every digit was scaled to fit a 20×20 box and "
            "then shifted so its centre of mass is at the centre of a 28×28 image, as white ink on "
            "black. A digit drawn small in a corner would look nothing like that, so the app "
            "repeats those steps. Resizing uses a Lanczos filter; the fitted digit is stretched so "
            "its brightest pixel is 1, because MNIST strokes reach full intensity."
        )

for name, error in errors.items():
    ui.show_gallery_error(error, f"the classifier {name}")
if not probabilities:
    st.stop()

# The prediction of every classifier.
consensus, votes = consensus_of(probabilities)
st.header("What the readers see")
agreeing = votes[consensus]
st.success(f"### Consensus: {consensus}\n{agreeing} of {len(probabilities)} readers read your "
           f"digit as a **{consensus}**.", icon=":material/how_to_vote:")

rows = []
for name, values in probabilities.items():
    predicted = int(np.argmax(values))
    rows.append({"variant": name, "digit": str(predicted), "confidence": float(values[predicted]),
                 "label": f"reads {predicted} ({values[predicted]:.0%})"})
st.altair_chart(charts.probability_bars(pd.DataFrame(rows), consensus), width="stretch")
st.caption(f"Preprocessing and all {len(probabilities)} readings took {elapsed_ms:.0f} ms on this server. "
           "Blue bars agree with the consensus.")

with st.expander("Every reader's probability for every digit", icon=":material/grid_on:"):
    table = pd.DataFrame([{"variant": name, "digit": str(digit_index), "probability": float(value)}
                          for name, values in probabilities.items()
                          for digit_index, value in enumerate(values)])
    st.altair_chart(charts.probability_heatmap(table), width="stretch")
    st.markdown("Each reader ends in a *softmax*: ten numbers between 0 and 1 that add up to 1. "
                "The confidence above is the largest of them.")

st.page_link("pages/latent_space.py", label="See where your digit lands on the map of all digits",
             icon=":material/scatter_plot:")
ui.provenance_expander(list(probabilities))
