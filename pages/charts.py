"""The Altair charts of the app, one builder per chart, each taking a tidy pandas frame."""

import altair as alt
import pandas as pd

# Okabe and Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/).
OURS_COLOR = "#0072B2"
REPORTED_COLOR = "#E69F00"
HIGHLIGHT_COLOR = "#D55E00"
MUTED_COLOR = "#A7B0BA"
# Ten digits need more colours than Okabe-Ito's eight: Tableau 10, backed by ten shapes.
DIGIT_COLORS = ["#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F",
                "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC"]
STAR = "M0,-1L0.29,-0.4L0.95,-0.31L0.48,0.15L0.59,0.81L0,0.5L-0.59,0.81L-0.48,0.15L-0.95,-0.31L-0.29,-0.4Z"
HEXAGON = "M1,0L0.5,0.87L-0.5,0.87L-1,0L-0.5,-0.87L0.5,-0.87Z"
DIGIT_SHAPES = ["circle", "square", "triangle-up", "diamond", "cross",
                "triangle-down", "triangle-right", "triangle-left", STAR, HEXAGON]
DIGITS = [str(digit) for digit in range(10)]
# One colour per classifier: Okabe-Ito without its yellow, which is too pale on white.
VARIANT_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
SERIES_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]


def accuracy_against_time(points):
    """Scatter of test accuracy against training minutes, ours and reported, one row per point.

    ``points`` columns: variant, source, minutes, accuracy, note. Colour is the variant;
    ours are filled circles, reported numbers hollow diamonds, and a dashed line joins
    the two points of one variant.
    """
    sources = sorted(points["source"].unique(), key=lambda source: source.startswith("Reported"))
    variants = list(dict.fromkeys(points["variant"]))
    color = alt.Color("variant:N", title="Variant", sort=variants,
                      scale=alt.Scale(domain=variants, range=VARIANT_COLORS[:len(variants)]))
    shape = alt.Shape("source:N", title=None, sort=sources,
                      scale=alt.Scale(domain=sources, range=["circle", "diamond"][:len(sources)]),
                      legend=alt.Legend(orient="bottom", labelLimit=400))
    x = alt.X("minutes:Q", title="Training time (minutes, log scale)", scale=alt.Scale(type="log"))
    y = alt.Y("accuracy:Q", title="Test accuracy", scale=alt.Scale(zero=False),
              axis=alt.Axis(format=".1%"))
    tooltip = [alt.Tooltip("variant:N", title="Variant"), alt.Tooltip("source:N", title="Source"),
               alt.Tooltip("accuracy:Q", title="Test accuracy", format=".2%"),
               alt.Tooltip("minutes:Q", title="Training minutes", format=".2f"),
               alt.Tooltip("note:N", title="Note")]

    base = alt.Chart(points)
    pairs = base.mark_line(strokeDash=[4, 4], opacity=0.6).encode(x=x, y=y, color=color, detail="variant:N")
    ours = base.transform_filter(alt.datum.source == sources[0]).mark_point(
        size=150, filled=True, opacity=0.9).encode(x=x, y=y, color=color, shape=shape, tooltip=tooltip)
    layers = [pairs, ours]
    if len(sources) > 1:
        layers.append(base.transform_filter(alt.datum.source == sources[1]).mark_point(
            size=170, filled=False, strokeWidth=2.5).encode(x=x, y=y, color=color, shape=shape, tooltip=tooltip))
    return alt.layer(*layers).properties(height=380)


def training_curve(frame, metric_title, lowest_epoch=None, percent=False):
    """Line chart of one metric per epoch for the training and validation sets.

    ``frame`` columns: epoch, set, value. A vertical rule marks ``lowest_epoch``.
    """
    axis = alt.Axis(format=".1%") if percent else alt.Axis()
    x = alt.X("epoch:Q", title="Epoch", axis=alt.Axis(tickMinStep=1, format="d"))
    y = alt.Y("value:Q", title=metric_title, scale=alt.Scale(zero=False), axis=axis)
    color = alt.Color("set:N", title=None, scale=alt.Scale(
        domain=["training", "validation"], range=[OURS_COLOR, HIGHLIGHT_COLOR]),
        legend=alt.Legend(orient="bottom"))
    tooltip = ["epoch:Q", "set:N", alt.Tooltip("value:Q", title=metric_title,
                                               format=".2%" if percent else ".4f")]
    chart = alt.Chart(frame).mark_line(point=True).encode(x=x, y=y, color=color, tooltip=tooltip)
    if lowest_epoch is not None:
        marker = pd.DataFrame({"epoch": [lowest_epoch],
                               "label": [f"lowest validation loss: epoch {lowest_epoch}"]})
        # Label on the side with more room, so it stays inside the plot.
        middle = (frame["epoch"].min() + frame["epoch"].max()) / 2 if len(frame) else lowest_epoch
        align, dx = ("right", -4) if lowest_epoch > middle else ("left", 4)
        rule = alt.Chart(marker).mark_rule(strokeDash=[6, 4], color="#555").encode(x="epoch:Q")
        text = alt.Chart(marker).mark_text(align=align, dx=dx, color="#555").encode(
            x="epoch:Q", y=alt.value(8), text="label:N")
        chart = chart + rule + text
    return chart.properties(height=260)


def confusion_heatmap(cells, selection_name="cell"):
    """Heatmap of a confusion matrix with a click selection of one cell.

    ``cells`` columns: true, predicted (digit strings), count, share_of_true, selected.
    """
    cell = alt.selection_point(name=selection_name, fields=["true", "predicted"], on="click",
                               clear=False, toggle=False)
    x = alt.X("predicted:O", title="The network read it as", sort=DIGITS, axis=alt.Axis(labelAngle=0))
    y = alt.Y("true:O", title="The digit really is", sort=DIGITS)
    tooltip = [alt.Tooltip("true:N", title="Real digit"), alt.Tooltip("predicted:N", title="Read as"),
               alt.Tooltip("count:Q", title="Test images"),
               alt.Tooltip("share_of_true:Q", title="Share of this digit", format=".2%")]
    base = alt.Chart(cells).encode(x=x, y=y)
    squares = base.mark_rect().encode(
        color=alt.Color("count:Q", title="Test images",
                        scale=alt.Scale(type="symlog", scheme="blues")),
        stroke=alt.condition("datum.selected", alt.value(HIGHLIGHT_COLOR), alt.value("white")),
        strokeWidth=alt.condition("datum.selected", alt.value(3), alt.value(0.5)),
        tooltip=tooltip,
    ).add_params(cell)
    numbers = base.mark_text(fontSize=11).encode(
        text="count:Q",
        color=alt.condition("datum.count > 300", alt.value("white"), alt.value("#1B1F24")),
        tooltip=tooltip)
    return (squares + numbers).properties(height=430)


def probability_bars(predictions, consensus):
    """Horizontal bars of each classifier's confidence in the digit it reads.

    ``predictions`` columns: variant, digit (str), confidence, label. Bars of the
    models that agree with ``consensus`` are highlighted.
    """
    frame = predictions.assign(agrees=predictions["digit"] == str(consensus))
    y = alt.Y("variant:N", title=None, sort=list(frame["variant"]))
    x = alt.X("confidence:Q", title="Confidence in its answer", scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format="%", tickCount=5))
    color = alt.condition("datum.agrees", alt.value(OURS_COLOR), alt.value(MUTED_COLOR))
    tooltip = [alt.Tooltip("variant:N", title="Model"), alt.Tooltip("digit:N", title="Reads"),
               alt.Tooltip("confidence:Q", title="Confidence", format=".1%")]
    base = alt.Chart(frame).encode(y=y)
    bars = base.mark_bar(cornerRadiusEnd=3).encode(x=x, color=color, tooltip=tooltip)
    labels = base.mark_text(align="left", dx=4, fontSize=13).encode(
        x=x, text="label:N", tooltip=tooltip)
    return (bars + labels).properties(height=34 * len(frame) + 40)


def probability_heatmap(probabilities):
    """Heatmap of every classifier's probability for every digit.

    ``probabilities`` columns: variant, digit (str), probability.
    """
    return alt.Chart(probabilities).mark_rect().encode(
        x=alt.X("digit:O", title="Digit", sort=DIGITS, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("variant:N", title=None, sort=list(dict.fromkeys(probabilities["variant"]))),
        color=alt.Color("probability:Q", title="Probability", scale=alt.Scale(domain=[0, 1], scheme="blues")),
        tooltip=["variant:N", "digit:N", alt.Tooltip("probability:Q", format=".2%")],
    ).properties(height=250)


def latent_scatter(points, domain, grid, current, drawing=None):
    """Scatter of latent means coloured and shaped by digit, clickable and draggable.

    ``points`` columns: z1, z2, digit. ``grid`` columns gx, gy, gx2, gy2 tile the visible
    ``domain`` ((x_min, x_max), (y_min, y_max)) with invisible cells: a click selects the
    cell under the pointer (selection ``pick``), a drag draws a box (selection ``drag``).
    ``current`` is the (z1, z2) being decoded; ``drawing`` the encoded drawing, or None.
    """
    x_scale = alt.Scale(domain=list(domain[0]), nice=False)
    y_scale = alt.Scale(domain=list(domain[1]), nice=False)
    pick = alt.selection_point(name="pick", fields=["gx", "gy"], on="click", clear=False,
                               toggle=False, nearest=False)
    drag = alt.selection_interval(name="drag", encodings=["x", "y"], clear="dblclick")

    # Nearly transparent cells catch clicks anywhere in the plot.
    cells = alt.Chart(grid).mark_rect(opacity=0.001, color="white", tooltip=False).encode(
        x=alt.X("gx:Q", scale=x_scale, title="Latent dimension 1 (z₁)"), x2="gx2:Q",
        y=alt.Y("gy:Q", scale=y_scale, title="Latent dimension 2 (z₂)"), y2="gy2:Q",
    ).add_params(pick, drag)
    dots = alt.Chart(points).mark_point(size=14, filled=True, opacity=0.55, clip=True).encode(
        x=alt.X("z1:Q", scale=x_scale), y=alt.Y("z2:Q", scale=y_scale),
        color=alt.Color("digit:N", title="Digit", sort=DIGITS,
                        scale=alt.Scale(domain=DIGITS, range=DIGIT_COLORS)),
        shape=alt.Shape("digit:N", title="Digit", sort=DIGITS,
                        scale=alt.Scale(domain=DIGITS, range=DIGIT_SHAPES)),
    )
    # The cells lie above the digits, so a click always lands on a cell, never on a digit.
    layers = [dots, cells, _marker(current, "cross", "decoded point", x_scale, y_scale)]
    if drawing is not None:
        layers.append(_marker(drawing, "diamond", "your drawing", x_scale, y_scale))
    return alt.layer(*layers).properties(height=560)


def _marker(point, shape, description, x_scale, y_scale):
    frame = pd.DataFrame([{"z1": point[0], "z2": point[1], "what": description}])
    return alt.Chart(frame).mark_point(shape=shape, size=420, strokeWidth=3, filled=False,
                                       color="#111111", clip=True).encode(
        x=alt.X("z1:Q", scale=x_scale), y=alt.Y("z2:Q", scale=y_scale),
        tooltip=["what:N", alt.Tooltip("z1:Q", format=".2f"), alt.Tooltip("z2:Q", format=".2f")],
    )


def grouped_bars(frame, value_title, color_domain, color_range, value_format=".2f"):
    """Grouped vertical bars: one group per variant, one bar per measure.

    ``frame`` columns: variant, measure, value.
    """
    tooltip = ["variant:N", "measure:N", alt.Tooltip("value:Q", title=value_title, format=value_format)]
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("variant:N", title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("measure:N", sort=color_domain),
        y=alt.Y("value:Q", title=value_title),
        color=alt.Color("measure:N", title=None, sort=color_domain,
                        scale=alt.Scale(domain=color_domain, range=color_range),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=400)),
        tooltip=tooltip,
    ).properties(height=320)


def line_per_epoch(frame, value_title):
    """Lines of several series over epochs. ``frame`` columns: epoch, series, value."""
    return alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("epoch:Q", title="Epoch", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("value:Q", title=value_title, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None, scale=alt.Scale(range=SERIES_COLORS),
                        legend=alt.Legend(orient="bottom", labelLimit=400)),
        tooltip=["epoch:Q", "series:N", alt.Tooltip("value:Q", format=".4f")],
    ).properties(height=280)


def line_per_step(frame, value_title):
    """Lines of several series over training steps. ``frame`` columns: step, series, value."""
    return alt.Chart(frame).mark_line().encode(
        x=alt.X("step:Q", title="Training step (batch)"),
        y=alt.Y("value:Q", title=value_title, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None, scale=alt.Scale(range=SERIES_COLORS),
                        legend=alt.Legend(orient="bottom", labelLimit=400)),
        tooltip=["step:Q", "series:N", alt.Tooltip("value:Q", format=".4f")],
    ).properties(height=260)


def digit_histogram(frame, highlight=None):
    """Bars of how many generated samples were read as each digit. ``frame`` columns: digit, count."""
    color = alt.value(OURS_COLOR)
    if highlight is not None:
        color = alt.condition(f"datum.digit == '{highlight}'", alt.value(HIGHLIGHT_COLOR), alt.value(OURS_COLOR))
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("digit:O", title="Read as digit", sort=DIGITS, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count:Q", title="Confident samples"),
        color=color,
        tooltip=["digit:N", "count:Q"],
    ).properties(height=260)
