"""Latent space: the 2-D map a variational autoencoder makes of all digits, and decoding any point of it."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from pages import charts, imaging, ui

GRID_CELLS = 50  # clickable cells per axis over the visible range
MANIFOLD_SIDE = 15
SILHOUETTE_MEASURES = ["Ours: mean", "Ours: median", "Reported: project page (about)",
                       "Reported: re-run, median"]
SILHOUETTE_COLORS = [charts.OURS_COLOR, "#56B4E9", charts.REPORTED_COLOR, charts.HIGHLIGHT_COLOR]

ui.sidebar()

st.title("Latent space: a map of all digits")
st.markdown(
    "A variational autoencoder learns to squeeze each 28×28 digit (784 numbers) into just **two "
    "numbers**, and to redraw the digit from those two numbers alone. So every digit becomes a "
    "point on a flat map, and every point of the map can be turned back into a digit. Below, "
    "the 10,000 test digits are placed on the map of the model you choose. **Click** anywhere "
    "on the map, **drag** a box, or use the sliders to pick a point, and see what the model "
    "draws there."
)

try:
    manifest = ui.read_manifest()
except ui.GalleryError as error:
    ui.show_gallery_error(error, "the autoencoders")
    st.stop()
cvaes = [name for name in ui.CVAES if name in manifest["variants"]]
if not cvaes:
    st.info("The gallery has no autoencoder yet. Train them with: "
            "`python -m digitcore reproduce --family cvae`")
    st.stop()


def _set_point(z1, z2):
    """Store the point to decode in the canonical state and in all four of its widgets."""
    st.session_state["latent_z1"] = st.session_state["latent_z1_slider"] = st.session_state[
        "latent_z1_number"] = float(z1)
    st.session_state["latent_z2"] = st.session_state["latent_z2_slider"] = st.session_state[
        "latent_z2_number"] = float(z2)


def _copy_widget(source_key, axis):
    def copy():
        _set_point(*(st.session_state[source_key] if index == axis else st.session_state[f"latent_z{index}"]
                     for index in (1, 2)))
    return copy


if st.session_state.get("latent_variant") not in cvaes:
    st.session_state["latent_variant"] = cvaes[0]
variant = st.segmented_control("Autoencoder", cvaes, required=True, key="latent_variant")
st.caption(f"{variant}: {manifest['variants'][variant].get('summary', '')}")

@st.cache_data(show_spinner=False, max_entries=20)
def visible_domain(variant_name, means):
    """Return ((x_min, x_max), (y_min, y_max)) covering 99% of the points, padded by 5%."""
    low = np.percentile(means, 0.5, axis=0)
    high = np.percentile(means, 99.5, axis=0)
    pad = 0.05 * np.maximum(high - low, 1e-3)
    return tuple((round(float(a), 2), round(float(b), 2)) for a, b in zip(low - pad, high + pad))


def _apply_chart_selection():
    """Decode the clicked cell's centre or the dragged box's centre (runs before the rerun)."""
    selection = st.session_state["latent_chart"].selection
    pick = selection.get("pick") or []
    drag = selection.get("drag") or {}
    previous = st.session_state.get("latent_previous_selection", {})
    st.session_state["latent_previous_selection"] = {"pick": pick, "drag": drag}
    x_range, y_range = st.session_state["latent_domain"]
    if drag and drag != previous.get("drag") and "gx" in drag and "gy" in drag:
        _set_point(np.clip(np.mean(drag["gx"]), *x_range), np.clip(np.mean(drag["gy"]), *y_range))
    elif pick and pick != previous.get("pick"):
        # A cell is named by its lower-left corner, and the map may be wider than the sliders.
        x_cell, y_cell = st.session_state["latent_cell_size"]
        _set_point(np.clip(pick[0]["gx"] + x_cell / 2, *x_range), np.clip(pick[0]["gy"] + y_cell / 2, *y_range))


@st.cache_data(show_spinner=False, max_entries=20)
def click_grid(domain):
    """Return the invisible click cells tiling ``domain``, one row per cell (corners gx, gy, gx2, gy2)."""
    (x_low, x_high), (y_low, y_high) = domain
    xs = np.linspace(x_low, x_high, GRID_CELLS + 1)
    ys = np.linspace(y_low, y_high, GRID_CELLS + 1)
    return pd.DataFrame([{"gx": xs[i], "gx2": xs[i + 1], "gy": ys[j], "gy2": ys[j + 1]}
                         for i in range(GRID_CELLS) for j in range(GRID_CELLS)])


@st.cache_data(show_spinner=False, max_entries=20)
def scatter_points(variant_name, means, labels):
    return pd.DataFrame({"z1": means[:, 0], "z2": means[:, 1], "digit": labels.astype(str)})


def encode_drawing(variant_name, digit):
    """Return the latent mean (z1, z2) of a 28×28 digit under ``variant_name``'s encoder."""
    encode = ui.forward_function(variant_name, "encoder")
    z_mean = np.asarray(encode(digit.reshape(1, 28, 28, 1).astype(np.float32))[0])[0]
    return float(z_mean[0]), float(z_mean[1])


def _encode_drawing_clicked():
    """Show the drawing on the map and decode at its position (runs before the rerun)."""
    digit = st.session_state.get("drawn_digit")
    st.session_state["latent_show_drawing"] = digit is not None
    if digit is not None:
        (x_low, x_high), (y_low, y_high) = st.session_state["latent_domain"]
        z1, z2 = encode_drawing(st.session_state["latent_variant"], digit)
        _set_point(np.clip(z1, x_low, x_high), np.clip(z2, y_low, y_high))


@st.cache_data(show_spinner=False, max_entries=20)
def manifold_image(variant_name, model_path, modified_ns, domain):
    """Return the decoded MANIFOLD_SIDE² grid over ``domain`` as one image (the path and time key the cache)."""
    (x_low, x_high), (y_low, y_high) = domain
    xs = np.linspace(x_low, x_high, MANIFOLD_SIDE, dtype=np.float32)
    ys = np.linspace(y_high, y_low, MANIFOLD_SIDE, dtype=np.float32)
    points = np.array([[x, y] for y in ys for x in xs], dtype=np.float32)
    images = np.asarray(ui.forward_function(variant_name, "decoder")(points))
    return imaging.grid(images, num_columns=MANIFOLD_SIDE, scale=2)


def chart_domain(domain, drawing_point):
    """Return ``domain`` widened to show ``drawing_point`` too, with a margin, if it lies outside."""
    if drawing_point is None:
        return domain
    widened = []
    for (low, high), value in zip(domain, drawing_point):
        margin = 0.05 * (high - low)
        widened.append((min(low, round(value - margin, 2)), max(high, round(value + margin, 2))))
    return tuple(widened)


def explorer(variant):
    """Draw the clickable latent map, the decoder controls and the decoded manifold of ``variant``."""
    try:
        latent_means = ui.read_variant_npz(variant, "extras.npz")["test_latent_means"].astype(np.float32)
        labels = ui.test_split().labels
        if latent_means.shape != (len(labels), 2):
            raise ui.GalleryError(f"{ui.gallery_dir() / variant / 'extras.npz'} contains latent means of "
                                  f"shape {latent_means.shape}, expected ({len(labels)}, 2). Rebuild it "
                                  f"with: {ui.variant_rebuild_command(variant)}")
        decode = ui.forward_function(variant, "decoder")
    except (ui.GalleryError, KeyError) as error:
        ui.show_gallery_error(error, f"the latent space of {variant}")
        return

    domain = visible_domain(variant, latent_means)
    (x_min, x_max), (y_min, y_max) = domain

    # Keep the point inside the visible range of this model, and the widgets in step with it
    # (Streamlit drops a widget's state when the person visits another page).
    widget_keys = ("latent_z1_slider", "latent_z1_number", "latent_z2_slider", "latent_z2_number")
    if st.session_state.get("latent_domain") != domain or any(key not in st.session_state for key in widget_keys):
        st.session_state["latent_domain"] = domain
        _set_point(np.clip(st.session_state.get("latent_z1", 0.0), x_min, x_max),
                   np.clip(st.session_state.get("latent_z2", 0.0), y_min, y_max))

    # The drawing from the Draw page, encoded on request.
    drawing_point = None
    drawn_digit = st.session_state.get("drawn_digit")
    if st.session_state.get("latent_show_drawing") and drawn_digit is not None:
        drawing_point = encode_drawing(variant, drawn_digit)

    map_column, decoded_column = st.columns([3, 2])
    with decoded_column:
        st.subheader("The digit at this point")
        for axis, (low, high) in ((1, (x_min, x_max)), (2, (y_min, y_max))):
            name = f"z{'₁₂'[axis - 1]}"
            slider_column, number_column = st.columns([3, 2])
            slider_column.slider(name, float(low), float(high), step=0.01, key=f"latent_z{axis}_slider",
                                 on_change=_copy_widget(f"latent_z{axis}_slider", axis))
            number_column.number_input(f"{name} value", float(low), float(high), step=0.05, format="%.2f",
                                       key=f"latent_z{axis}_number",
                                       on_change=_copy_widget(f"latent_z{axis}_number", axis))
        z = (st.session_state["latent_z1"], st.session_state["latent_z2"])
        started = time.perf_counter()
        decoded = np.asarray(decode(np.array([z], dtype=np.float32)))[0]
        decode_ms = (time.perf_counter() - started) * 1000.0
        st.image(imaging.enlarge(decoded, 8), width=224,
                 caption=f"{variant} decodes ({z[0]:.2f}, {z[1]:.2f}) into this.")
        st.caption(f"Decoded in {decode_ms:.1f} ms on this server.")

        st.button("Encode my drawing", icon=":material/place_item:", on_click=_encode_drawing_clicked,
                  help="Put the digit you drew on the Draw page onto this map.")
        if drawn_digit is None:
            st.info("Draw a digit on the Draw page first, then encode it here.", icon=":material/draw:")
            st.page_link("pages/draw.py", label="Go to Draw", icon=":material/draw:")
        elif drawing_point is not None:
            st.image(imaging.enlarge(drawn_digit, 3), width=84, caption="Your drawing")
            st.caption(f"Your drawing lands at ({drawing_point[0]:.2f}, {drawing_point[1]:.2f}), "
                       "the diamond on the map.")

    with map_column:
        shown_domain = chart_domain(domain, drawing_point)
        chart = charts.latent_scatter(scatter_points(variant, latent_means, labels), shown_domain,
                                      click_grid(shown_domain), z, drawing_point)
        st.session_state["latent_cell_size"] = tuple((high - low) / GRID_CELLS for low, high in shown_domain)
        st.altair_chart(chart, key="latent_chart", on_select=_apply_chart_selection,
                        selection_mode=["pick", "drag"], width="stretch")
        st.caption("Each mark is one test digit, placed at the mean the encoder gives it. The cross is the "
                   "point being decoded. Double-click clears a dragged box.")

    with st.expander("What the axes mean", icon=":material/info:"):
        st.markdown(
            "The encoder outputs, for each image, the mean and the spread of a 2-D Gaussian, and the "
            "map shows the means (z₁, z₂). Training pulls these Gaussians towards a standard normal, "
            "so most digits land within about ±3 of the origin. It also rewards redrawing each image "
            "well, so similar images land close together. The axes have no set meaning of their own: "
            "the model finds whatever two directions help it redraw digits best."
        )

    st.header("The whole map, redrawn")
    st.markdown(f"The model's drawing at {MANIFOLD_SIDE}×{MANIFOLD_SIDE} evenly spaced points of the "
                "visible range, top left = (smallest z₁, largest z₂). Watch digits morph into each other.")
    model_path = ui.gallery_dir() / variant / "model.keras"
    st.image(manifold_image(variant, str(model_path), model_path.stat().st_mtime_ns, domain), width=600)


explorer(variant)

# Silhouette comparison.
st.header("How well do the digits separate?")
st.markdown(
    "The **silhouette score** measures whether each digit's points form their own group: for "
    "every point it compares the distance to its own digit's points with the distance to the "
    "nearest other digit. It runs from -1 (mixed up) through 0 (overlapping groups) to 1 "
    "(cleanly apart). A 2-D map of 10 digits always overlaps, so values near 0 are normal."
)
rows = []
for name in cvaes:
    entry = manifest["variants"][name]
    reported = entry.get("reported", {})
    for measure, value in zip(SILHOUETTE_MEASURES, (
            entry["metrics"].get("silhouette_mean"), entry["metrics"].get("silhouette_median"),
            reported.get("page_silhouette"), reported.get("audit_silhouette_median"))):
        if value is not None:
            rows.append({"variant": name, "measure": measure, "value": value})
st.altair_chart(charts.grouped_bars(pd.DataFrame(rows), "Silhouette score", SILHOUETTE_MEASURES,
                                    SILHOUETTE_COLORS), width="stretch")
st.dataframe(pd.DataFrame([{
    "Variant": name,
    "Ours: mean": ui.number(manifest["variants"][name]["metrics"].get("silhouette_mean"), 3),
    "Ours: median": ui.number(manifest["variants"][name]["metrics"].get("silhouette_median"), 3),
    "Reported: project page": ui.number(manifest["variants"][name].get("reported", {}).get("page_silhouette"), 2),
    "Reported: re-run, median": ui.number(
        manifest["variants"][name].get("reported", {}).get("audit_silhouette_median"), 2),
    "Reported: remark": manifest["variants"][name].get("reported", {}).get("page_note", ""),
} for name in cvaes]), hide_index=True, width="stretch")
sample_size = manifest["variants"][cvaes[0]]["metrics"].get("silhouette_sample_size")
st.caption(f"Ours: Euclidean silhouette of the test-set latent means, grouped by digit, on a fixed, seeded "
           f"sample of {sample_size:,} test digits. Columns marked *Reported* are {ui.REPORTED_LABEL}; "
           "a dash marks a number the study did not give." if sample_size else
           f"Columns marked *Reported* are {ui.REPORTED_LABEL}.")
ui.provenance_expander(cvaes)
