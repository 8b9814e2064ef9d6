"""Train: train any variant live from the sidebar, watch it learn, and compare it with the pretrained one."""

import datetime
import json
import threading
import uuid

import numpy as np
import pandas as pd
import streamlit as st

from pages import charts, imaging, ui
from pages.training_job import ABANDONED_AFTER_SECONDS, TrainingJob

ALL_VARIANTS = ui.CLASSIFIERS + ui.CVAES + ui.DCGANS
FAMILY_OF = {**dict.fromkeys(ui.CLASSIFIERS, "classifier"), **dict.fromkeys(ui.CVAES, "cvae"),
             **dict.fromkeys(ui.DCGANS, "dcgan")}
# "Quick" budgets, meant to finish within about a minute on an idle 2-core CPU, test evaluation
# included. A GAN "epoch" in the fast recipe is 200 steps whatever the subset size, and the
# engine takes no step count, so Quick GANs use batches of 16, which halves the step time.
# NOTE: these sizes are estimates from the gallery's per-step times, not timed on an idle machine.
QUICK_BUDGET = {
    "classifier": {"num_epochs": 1, "train_subset": 6000, "batch_size": 64},
    "cvae": {"num_epochs": 1, "train_subset": 6000, "batch_size": 64},
    "dcgan": {"num_epochs": 1, "train_subset": 2048, "batch_size": 16},
}
BATCH_SIZES = [16, 32, 64, 128, 256, 512]
MAX_SUBSET = 54_000  # the training split once the 6,000 validation images are held out
LIVE_SERIES = {
    "classifier": (("loss", "Loss"), ("accuracy", "Accuracy")),
    "cvae": (("loss", "Loss"), ("reconstruction_loss", "Reconstruction loss"), ("kl_loss", "KL loss")),
    "dcgan": (("d_loss", "Critic loss"), ("g_loss", "Forger loss")),
}


@st.cache_resource
def training_slot():
    """Return the process-wide lock that lets one training run at a time share the CPU."""
    return threading.Lock()


def describe_budget(settings):
    """Return the budget in words, such as "1 epoch, 6,000 training images, batch 64"."""
    values = QUICK_BUDGET[FAMILY_OF[settings["variant"]]] if settings["budget"] == "Quick" else settings
    epochs = f"{values['num_epochs']} epoch{'s' if values['num_epochs'] > 1 else ''}"
    return f"{epochs}, {values['train_subset']:,} training images, batch {values['batch_size']}"


def sidebar_controls():
    """Draw the training settings in the sidebar and return them as a dict."""
    job = st.session_state.get("train_job")
    active = job is not None and job.is_active()
    st.subheader("Train a model")
    settings = {
        "variant": st.selectbox("Variant", ALL_VARIANTS, key="train_variant", disabled=active,
                                format_func=lambda name: f"{name} ({FAMILY_OF[name]})"),
        "recipe": st.radio("Recipe", ["fast", "seed"], key="train_recipe", horizontal=True, disabled=active,
                           help="fast: this project's settings for a CPU (learning-rate warm-up and "
                                "decay, larger batches). seed: the original study's optimiser settings."),
        "budget": st.radio("Budget", ["Quick", "Custom"], key="train_budget", horizontal=True, disabled=active,
                           help="Quick: one short epoch on a stratified subset, about a minute on a "
                                "2-core CPU. Custom: choose epochs, images and batch size."),
    }
    if settings["budget"] == "Custom":
        settings["num_epochs"] = st.number_input("Epochs", 1, 200, 2, key="train_epochs", disabled=active,
                                                 help="Passes over the training images (GANs: 200 steps "
                                                      "each with the fast recipe).")
        settings["train_subset"] = st.number_input(
            "Training images", 100, MAX_SUBSET, 6000, step=500, key="train_subset", disabled=active,
            help="A stratified subset of the 54,000 training images: every digit keeps its share.")
        settings["batch_size"] = st.select_slider("Batch size", BATCH_SIZES, 64, key="train_batch_size",
                                                  disabled=active, help="Images per training step.")
    settings["seed"] = st.number_input("Seed", 0, 2**31 - 1, 0, key="train_seed", disabled=active,
                                       help="Fixes the initial weights and the order of the images.")
    st.caption(f"Budget: {describe_budget(settings)}.")

    st.button("Start training", type="primary", icon=":material/play_arrow:", disabled=active,
              on_click=_start_training, args=(settings,), width="stretch")
    st.button("Cancel training", icon=":material/stop:", disabled=not active, on_click=_cancel_training,
              width="stretch")
    return settings


def _train_options(settings):
    """Return the keyword arguments of ``digitcore.engine.train`` for these settings."""
    family = FAMILY_OF[settings["variant"]]
    options = {"recipe": settings["recipe"], "seed": int(settings["seed"])}
    if settings["budget"] == "Quick":
        options.update(QUICK_BUDGET[family])
    else:
        options.update(num_epochs=int(settings["num_epochs"]), train_subset=int(settings["train_subset"]),
                       batch_size=int(settings["batch_size"]))
    if family == "dcgan":
        reference = _reference_classifier_path()
        if reference is not None:
            options["reference_classifier"] = reference
    return options


def _reference_classifier_path():
    try:
        name = ui.read_manifest().get("reference_classifier")
    except ui.GalleryError:
        return None
    path = ui.gallery_dir() / str(name) / "model.keras"
    return path if name and path.is_file() else None


def _start_training(settings):
    """Start a run unless one is already running (runs before the rerun, so a double click is ignored)."""
    job = st.session_state.get("train_job")
    if job is not None and job.is_active():
        return
    options = _train_options(settings)
    if options.get("train_subset") is not None and options["train_subset"] < options.get("batch_size", 0):
        st.session_state["train_notice"] = (
            f"Invalid budget: {options['train_subset']:,} training images is fewer than one batch of "
            f"{options['batch_size']}. Choose more images or a smaller batch.")
        return
    slot = training_slot()
    if not slot.acquire(blocking=False):
        st.session_state["train_notice"] = ("Another training run is using this server's CPU right now. "
                                            "Try again when it has finished.")
        return

    try:
        lib = ui.library()
        session_folder = st.session_state.setdefault("train_session_folder", uuid.uuid4().hex[:12])
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out_dir = ui.runs_dir() / session_folder / f"{settings['variant']}-{stamp}"
        job = TrainingJob(lib.engine.train, lib.progress.TrainingCancelled, lib.progress.Cancellation(),
                          settings["variant"], FAMILY_OF[settings["variant"]], options, out_dir, slot=slot)
        job.start()
    except BaseException:
        slot.release()
        raise
    st.session_state["train_job"] = job
    st.session_state.pop("train_notice", None)


def _cancel_training():
    job = st.session_state.get("train_job")
    if job is not None and job.is_active():
        job.cancel()


def step_chart_frame(step_logs, keys):
    rows = [{"step": entry["step"], "series": title, "value": entry[key]}
            for entry in step_logs for key, title in keys if key in entry]
    return pd.DataFrame(rows, columns=["step", "series", "value"])


def show_progress(job, snapshot):
    """Draw the progress bar, the live curves and, for generators, the latest sample grid."""
    st.progress(snapshot["fraction"], text=f"Training {job.variant_name}: {snapshot['phase']} "
                                           f"({snapshot['elapsed_seconds']:.0f} s)")
    info = snapshot["info"]
    if info:
        st.caption(f"{info.get('num_params', 0):,} parameters, {info.get('num_train_images', 0):,} training "
                   f"images, {info.get('steps_per_epoch', '?')} steps per epoch, on {info.get('device', '?')}.")
    series = LIVE_SERIES[job.family]
    if snapshot["step_logs"]:
        if job.family == "classifier":
            loss_column, accuracy_column = st.columns(2)
            loss_column.altair_chart(charts.line_per_step(step_chart_frame(snapshot["step_logs"], series[:1]),
                                                          "Loss (running mean in the epoch)"), width="stretch")
            accuracy_column.altair_chart(charts.line_per_step(
                step_chart_frame(snapshot["step_logs"], series[1:]), "Accuracy (running mean in the epoch)"),
                width="stretch")
        else:
            st.altair_chart(charts.line_per_step(step_chart_frame(snapshot["step_logs"], series), "Loss"),
                            width="stretch")
    if snapshot["samples"] is not None:
        st.image(imaging.grid(snapshot["samples"], num_columns=16, scale=2), width="stretch",
                 caption=f"Fixed-seed samples after epoch {snapshot['samples_epoch']}")


@st.fragment(run_every=1.0)
def live_view(job):
    """Poll the run once a second; rerun the whole page once it has ended."""
    job.heartbeat()
    snapshot = job.snapshot()
    if not job.is_active():
        st.rerun()
    show_progress(job, snapshot)


def error_advice(error):
    """Return what the person can do about a failed run, by error type."""
    name = type(error).__name__
    if name == "NonFiniteLossError":
        return ("The loss blew up to NaN or infinity. Pick the fast recipe, a larger batch, or another "
                "seed, and start again.")
    if name == "ValueError":
        return "A setting is invalid: change it in the sidebar and start again."
    if name in ("DataFileError", "ArtifactError", "FileNotFoundError"):
        return "A file the run needs is missing or damaged: the message names it and how to rebuild it."
    if name == "MemoryError":
        return "The server ran out of memory: choose fewer training images or a smaller batch."
    return "This is unexpected: the server log has the full traceback. Try again, or another variant."


def comparison_rows(family, ours, pretrained):
    """Return (metric, your run, pretrained) rows for the headline metrics of a family."""
    if family == "classifier":
        keys = (("test_accuracy", "Test accuracy", ui.percent), ("test_loss", "Test loss", ui.number))
    elif family == "cvae":
        keys = (("silhouette_mean", "Silhouette, mean", ui.number), ("silhouette_median", "Silhouette, median",
                                                                      ui.number),
                ("test_loss", "Test loss", ui.number))
    else:
        keys = (("inception_score", "Inception score", ui.number), ("frechet_distance", "Fréchet distance",
                                                                    ui.number),
                ("confident_share", "Read with ≥ 90% confidence", ui.percent))
    return [{"Metric": title, "Your run": show(ours.get(key)), "Pretrained": show(pretrained.get(key))}
            for key, title, show in keys]


def show_result(job, snapshot):
    result = snapshot["result"]
    record, metrics = result["record"], result["metrics"]
    st.success(f"{job.variant_name} trained in {record['train_seconds']:.0f} s "
               f"({snapshot['elapsed_seconds']:.0f} s with data preparation and the test) and saved to "
               f"`{result['out_dir']}`.", icon=":material/check_circle:")

    pretrained_entry = None
    try:
        pretrained_entry = ui.read_manifest()["variants"].get(job.variant_name)
    except ui.GalleryError as error:
        ui.show_gallery_error(error, "the pretrained model's numbers")
    pretrained_metrics = (pretrained_entry or {}).get("metrics", {})
    rows = comparison_rows(job.family, metrics, pretrained_metrics)
    recipe = record["recipe"]
    rows.append({"Metric": "Epochs", "Your run": str(recipe["num_epochs"]),
                 "Pretrained": str((pretrained_entry or {}).get("num_epochs", "—"))})
    rows.append({"Metric": "Training images", "Your run": f"{record.get('num_train_images', 0):,}",
                 "Pretrained": "see its run record"})
    rows.append({"Metric": "Training minutes", "Your run": ui.number(record["train_seconds"] / 60.0),
                 "Pretrained": ui.number((pretrained_entry or {}).get("train_minutes"))})
    st.markdown(f"**Your run beside the pretrained {job.variant_name}**")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="content")
    if pretrained_entry is None:
        st.caption(f"The gallery has no pretrained {job.variant_name} to compare with.")
    else:
        st.caption(f"Pretrained: {ui.run_caption(job.variant_name)}")

    if result["history"]:
        history = pd.DataFrame(result["history"])
        keys = [key for key, _ in LIVE_SERIES[job.family]]
        frame = history.melt(id_vars="epoch", value_vars=[key for key in keys if key in history],
                             var_name="series", value_name="value")
        st.altair_chart(charts.line_per_epoch(frame, "Value at the end of each epoch"), width="stretch")
    if snapshot["samples"] is not None:
        st.image(imaging.grid(snapshot["samples"], num_columns=16, scale=2), width="stretch",
                 caption=f"Fixed-seed samples after epoch {snapshot['samples_epoch']}")

    st.download_button("Download model.keras and run.json (zip)", data=job.archive,
                       file_name=f"{result['out_dir'].name}.zip", mime="application/zip",
                       icon=":material/download:", on_click="ignore")
    with st.expander("Run record (run.json)", icon=":material/receipt_long:"):
        st.code(json.dumps(record, indent=1), language="json")


# The page.
settings = ui.sidebar(sidebar_controls, poll_training=False)

st.title("Train: teach a network yourself")
st.markdown(
    "Pick a model, a budget and a seed in the sidebar and press **Start training**. You will see "
    "the loss fall batch by batch and, for the generators, the samples sharpen. A *Quick* run sees "
    "only a fraction of the data for one short epoch, so expect worse numbers than the pretrained "
    "model, which trained for longer on all of it."
)
with st.expander("What happens when you press Start", icon=":material/info:"):
    st.markdown(
        "The run uses the same engine as the pretrained gallery (`digitcore.engine.train`): it seeds "
        "every random generator, builds the model, trains it with Adam, keeps the epoch with the lowest "
        "validation loss (classifiers and autoencoders), evaluates it once on the 10,000 test images "
        "and saves it with its run record into a folder of its own. Your run never touches the "
        "pretrained gallery. If you cancel, nothing is saved. If the page is closed, the run cancels "
        f"itself after {ABANDONED_AFTER_SECONDS:.0f} seconds without a viewer. The server trains one "
        "model at a time."
    )

notice = st.session_state.pop("train_notice", None)
if notice:
    st.warning(notice, icon=":material/block:")

job = st.session_state.get("train_job")
if job is None:
    st.info(f"Ready to train {settings['variant']} with the `{settings['recipe']}` recipe "
            f"({describe_budget(settings)}, seed {settings['seed']}). Press **Start training** in the sidebar.",
            icon=":material/model_training:")
elif job.died_unexpectedly():
    st.error(f"The training thread of {job.variant_name} stopped without reporting why. Nothing was saved. "
             "Start again.", icon=":material/error:")
    st.session_state.pop("train_job", None)
elif job.is_active():
    live_view(job)
else:
    snapshot = job.snapshot()
    if snapshot["state"] == "finished":
        show_result(job, snapshot)
    elif snapshot["state"] == "cancelled":
        st.warning(f"{snapshot['cancel_reason']} Training of {job.variant_name} stopped and nothing was saved.",
                   icon=":material/cancel:")
        show_progress(job, snapshot)
    else:
        error = snapshot["error"]
        st.error(f"Training {job.variant_name} failed: {type(error).__name__}: {error}\n\n"
                 f"**What to do:** {error_advice(error)}", icon=":material/error:")
