"""Recognise: the seven classifiers side by side, with the study's reported numbers beside ours."""

import numpy as np
import pandas as pd
import streamlit as st

from pages import charts, imaging, ui

MAX_SHOWN_IMAGES = 60
OURS = "Ours (this gallery)"
REPORTED_RERUN = "Reported by the original study (re-run on CPU)"

ui.sidebar()

st.title("Recognise: seven ways to read a digit")
st.markdown(
    "Seven networks learned to read handwritten digits. They differ in how many layers of "
    "**pattern detectors** they stack (small filters that light up on strokes, curves and "
    "corners) and in how they turn those patterns into an answer. Here you can see how "
    "accurate each one is, how long it took to learn, when it started to memorise instead of "
    "learning, and which digits fool it."
)

try:
    manifest = ui.read_manifest()
except ui.GalleryError as error:
    ui.show_gallery_error(error, "the classifiers")
    st.stop()

classifiers = [name for name in ui.CLASSIFIERS if name in manifest["variants"]]
if not classifiers:
    st.info("The gallery has no classifier yet. Train them with: "
            "`python -m digitcore reproduce --family classifier`")
    st.stop()
entries = {name: manifest["variants"][name] for name in classifiers}


# 1. Accuracy against training time.
st.header("Accuracy against training time")
st.markdown(
    "Higher is better, further left is cheaper. Filled circles are the models in this app; "
    "hollow diamonds are what the original study reported for the same designs, where it gave "
    "both an accuracy and a training time. A dashed line joins the two points of one design. "
    "Hover over a point for details."
)

rows = []
for name, entry in entries.items():
    rows.append({"variant": name, "source": OURS, "minutes": max(entry.get("train_minutes", 0.0), 0.01),
                 "accuracy": entry["metrics"].get("test_accuracy"),
                 "note": f"{entry.get('num_epochs', '?')} epochs, {entry.get('recipe', '?')} recipe"})
    reported = entry.get("reported", {})
    if reported.get("audit_accuracy") is not None and reported.get("audit_cpu_minutes") is not None:
        rows.append({"variant": name, "source": REPORTED_RERUN, "minutes": reported["audit_cpu_minutes"],
                     "accuracy": reported["audit_accuracy"], "note": reported.get("page_note", "")})
points = pd.DataFrame(rows).dropna(subset=["accuracy"])
st.altair_chart(charts.accuracy_against_time(points), width="stretch")

reported_table = pd.DataFrame([{
    "Variant": name,
    "Ours: test accuracy": ui.percent(entry["metrics"].get("test_accuracy")),
    "Ours: training minutes": ui.number(entry.get("train_minutes")),
    "Reported: project page": ui.percent(entry.get("reported", {}).get("page_accuracy"), 1),
    "Reported: re-run": ui.percent(entry.get("reported", {}).get("audit_accuracy")),
    "Reported: re-run CPU minutes": ui.number(entry.get("reported", {}).get("audit_cpu_minutes"), 1),
    "Reported: remark": entry.get("reported", {}).get("page_note", ""),
} for name, entry in entries.items()])
st.dataframe(reported_table, hide_index=True, width="stretch")
with st.expander("Why our times and the reported times differ", icon=":material/info:"):
    devices = ", ".join(sorted({entry.get("device", "?") for entry in entries.values()}))
    st.markdown(
        f"Our models were trained with the `{manifest.get('recipe', '?')}` recipe on {devices}: "
        "a larger batch, a learning rate that warms up and then decays, and only a few epochs. "
        "The study trained each model for 100 epochs at batch 128 on a different CPU. So the "
        "time axis compares two different budgets; the *ordering* of the models is the "
        "interesting part. The study's re-run gave no training times for the FCNNs, so only "
        "their accuracies appear, in the table. Columns marked *Reported* are "
        f"{ui.REPORTED_LABEL}."
    )


# 2. Training curves.
st.header("How they learned")
st.markdown(
    "While training, each model is scored on images it learns from (*training*) and on "
    "6,000 images it never learns from (*validation*). When the validation loss stops "
    "falling while the training loss keeps falling, the model has started to memorise its "
    "training images: it **overfits**. The dashed line marks the epoch with the lowest "
    "validation loss; the app keeps the model from that epoch."
)
curve_variant = st.selectbox("Classifier", classifiers, key="recognise_curve_variant")
try:
    history = ui.read_variant_json(curve_variant, "history.json")["epochs"]
    metrics = ui.read_variant_json(curve_variant, "metrics.json")
except (ui.GalleryError, KeyError, TypeError) as error:
    ui.show_gallery_error(error, f"the training curves of {curve_variant}")
else:
    history_frame = pd.DataFrame(history)
    lowest_epoch = metrics.get("overfitting_epoch")
    loss_column, accuracy_column = st.columns(2)
    for column, metric, title, percent in ((loss_column, "loss", "Loss (lower is better)", False),
                                           (accuracy_column, "accuracy", "Accuracy", True)):
        frame = pd.concat([
            pd.DataFrame({"epoch": history_frame["epoch"], "set": "training",
                          "value": history_frame.get(metric)}),
            pd.DataFrame({"epoch": history_frame["epoch"], "set": "validation",
                          "value": history_frame.get(f"val_{metric}")}),
        ]).dropna()
        with column:
            st.altair_chart(charts.training_curve(frame, title, lowest_epoch, percent), width="stretch")
    note = entries[curve_variant].get("reported", {}).get("page_note")
    st.caption(f"{ui.run_caption(curve_variant)} Lowest validation loss at epoch {lowest_epoch} of "
               f"{len(history)}." + (f" Reported by the original study for this design: {note}." if note else ""))


# 3. Architectures.
st.header("What is inside each one")
try:
    descriptions = ui.variant_descriptions()
except ui.GalleryError as error:
    ui.show_gallery_error(error, "the architecture descriptions")
    descriptions = {}
architecture = pd.DataFrame([{
    "Variant": name,
    "What changed from CNN-1": descriptions[name].change_from_baseline if name in descriptions else "",
    "Parameters": entries[name].get("num_params"),
    "Latency, 1 image (ms)": entries[name].get("latency_ms", {}).get("batch_1"),
    "Latency, 100 images (ms)": entries[name].get("latency_ms", {}).get("batch_100"),
    "In plain words": entries[name].get("summary", ""),
    "Technical description": descriptions[name].technical if name in descriptions else "",
} for name in classifiers])
st.dataframe(architecture, hide_index=True, width="stretch", column_config={
    "Parameters": st.column_config.NumberColumn(format="localized", help="Trainable and fixed weights"),
    "Latency, 1 image (ms)": st.column_config.NumberColumn(
        format="%.2f", help="Median time of one forward pass on the training machine's CPU"),
    "Latency, 100 images (ms)": st.column_config.NumberColumn(format="%.1f"),
    "Technical description": st.column_config.TextColumn(width="large"),
})
st.caption("Parameters are the numbers the model learns. Latency is the median time to read one "
           "image (or 100 at once), measured when the gallery was built.")


# 4. Confusion matrix with the misread digits.
st.header("Which digits fool them")
st.markdown(
    "Each square counts the 10,000 test digits by what they really are (rows) and what the "
    "model read (columns). The diagonal holds the correct answers. **Click a square**, or pick "
    "the two digits below, to see those test images."
)


def _largest_mistake(matrix):
    errors = np.array(matrix, dtype=np.int64)
    np.fill_diagonal(errors, -1)
    true_digit, predicted_digit = np.unravel_index(int(errors.argmax()), errors.shape)
    return int(true_digit), int(predicted_digit)


def _apply_cell_click():
    """Copy a clicked heatmap cell into the two digit pickers (runs before the rerun)."""
    picked = st.session_state["confusion_chart"].selection.get("cell") or []
    if picked:
        st.session_state["confusion_true"] = int(picked[0]["true"])
        st.session_state["confusion_predicted"] = int(picked[0]["predicted"])


def _reset_cell():
    st.session_state.pop("confusion_true", None)
    st.session_state.pop("confusion_predicted", None)


def confusion_section():
    confusion_variant = st.selectbox("Classifier", classifiers, key="confusion_variant", on_change=_reset_cell)
    try:
        matrix = ui.read_variant_json(confusion_variant, "metrics.json")["confusion_matrix"]
        if np.shape(matrix) != (10, 10):
            raise ui.GalleryError(f"{ui.gallery_dir() / confusion_variant / 'metrics.json'} has an invalid "
                                  f"confusion matrix of shape {np.shape(matrix)}. Rebuild it with: "
                                  f"{ui.variant_rebuild_command(confusion_variant)}")
    except (ui.GalleryError, KeyError) as error:
        ui.show_gallery_error(error, f"the confusion matrix of {confusion_variant}")
        return

    if "confusion_true" not in st.session_state:
        st.session_state["confusion_true"], st.session_state["confusion_predicted"] = _largest_mistake(matrix)
    true_digit = st.session_state["confusion_true"]
    predicted_digit = st.session_state["confusion_predicted"]

    counts = np.array(matrix, dtype=np.int64)
    row_totals = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    cells = pd.DataFrame([{"true": str(row), "predicted": str(column), "count": int(counts[row, column]),
                           "share_of_true": counts[row, column] / row_totals[row, 0],
                           "selected": row == true_digit and column == predicted_digit}
                          for row in range(10) for column in range(10)])

    chart_column, images_column = st.columns([5, 4])
    with chart_column:
        st.altair_chart(charts.confusion_heatmap(cells), key="confusion_chart", on_select=_apply_cell_click,
                        selection_mode="cell", width="stretch")
    with images_column:
        picker_true, picker_predicted = st.columns(2)
        picker_true.selectbox("Real digit", range(10), key="confusion_true")
        picker_predicted.selectbox("Read as", range(10), key="confusion_predicted")
        try:
            predictions = ui.read_variant_npz(confusion_variant, "extras.npz")
            test = ui.test_split()
            predicted_labels = predictions["test_predictions"].astype(np.int64)
            confidence = predictions["test_confidence"].astype(np.float32)
            if predicted_labels.shape != test.labels.shape:
                raise ui.GalleryError(
                    f"{ui.gallery_dir() / confusion_variant / 'extras.npz'} contains {predicted_labels.shape[0]} "
                    f"predictions, expected {test.labels.shape[0]}. Rebuild it with: "
                    f"{ui.variant_rebuild_command(confusion_variant)}")
        except (ui.GalleryError, KeyError) as error:
            ui.show_gallery_error(error, f"the test predictions of {confusion_variant}")
        else:
            chosen = np.flatnonzero((test.labels == true_digit) & (predicted_labels == predicted_digit))
            chosen = chosen[np.argsort(-confidence[chosen], kind="stable")]
            kind = "correctly read" if true_digit == predicted_digit else "misread"
            if chosen.size == 0:
                st.info(f"{confusion_variant} never read a {true_digit} as a {predicted_digit} in the test set.")
            else:
                first_images = chosen[:MAX_SHOWN_IMAGES]
                st.markdown(f"**{chosen.size:,}** test images of a **{true_digit}** that {confusion_variant} "
                            f"read as **{predicted_digit}** ({kind}). Showing {first_images.size}, the most "
                            "confident answers first.")
                num_columns = min(10, first_images.size)
                st.image(imaging.grid(test.images[first_images], num_columns=num_columns, scale=2),
                         width="stretch" if num_columns == 10 else 60 * num_columns)
                st.caption(f"{confusion_variant}'s confidence ranges from {confidence[first_images].min():.0%} to "
                           f"{confidence[first_images].max():.0%} on these images.")


confusion_section()
ui.provenance_expander(classifiers)
