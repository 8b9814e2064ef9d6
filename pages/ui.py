"""Shared parts of every page: gallery paths, the sidebar, error messages and cached loaders.

Home must paint before TensorFlow is imported (the import takes seconds), so this module
imports neither TensorFlow nor ``digitcore`` at module level. JSON files are read with
plain ``json``. Models, arrays and the library itself are loaded inside
``st.cache_resource``/``st.cache_data`` functions, once per process and file version:
each cache key contains the file's modification time, so a rebuilt gallery is read again.
"""

import json
import os
import types
from pathlib import Path

import streamlit as st

REPO_DIR = Path(__file__).resolve().parents[1]
MANIFEST_FILE = "manifest.json"
REBUILD_GALLERY_COMMAND = "python -m digitcore reproduce"
MNIST_CREDIT = ("Digits from MNIST by Yann LeCun and Corinna Cortes, "
                "licensed under CC BY-SA 3.0.")
CLASSIFIERS = ("CNN-1", "CNN-2", "CNN-3", "FCNN-1", "FCNN-2", "FCNN-3", "FCNN-4")
CVAES = ("CVAE-1", "CVAE-2", "CVAE-3", "CVAE-4", "CVAE-5")
DCGANS = ("DCGAN-1", "DCGAN-2", "DCGAN-3", "DCGAN-4", "DCGAN-5")
REPORTED_LABEL = "reported by the original study"
PAGE_FILES = {"recognise": "pages/recognise.py", "draw": "pages/draw.py",
              "latent_space": "pages/latent_space.py", "create": "pages/create.py",
              "train": "pages/train.py"}  # by url_path, as streamlit_app.py declares them


class GalleryError(Exception):
    """A gallery file that is missing or unreadable. The message names it and the command that rebuilds it."""


# Paths, read from the environment on every call so tests can point them elsewhere.

def gallery_dir():
    """Return the pretrained gallery: ``$DIGITCORE_GALLERY``, else ``<repo>/trained``."""
    return Path(os.environ.get("DIGITCORE_GALLERY") or REPO_DIR / "trained")


def runs_dir():
    """Return where the Train page saves runs: ``$DIGITCORE_RUNS``, else ``<repo>/runs/app``."""
    return Path(os.environ.get("DIGITCORE_RUNS") or REPO_DIR / "runs" / "app")


def variant_rebuild_command(variant_name):
    return f"python -m digitcore train {variant_name} --out trained/{variant_name}"


def _modified_ns(path):
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return None


# JSON files, without TensorFlow.

@st.cache_data(show_spinner=False, max_entries=200)
def _read_json_file(path, modified_ns, rebuild_command):
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError:
        raise GalleryError(f"{path} not found. Rebuild it with: {rebuild_command}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GalleryError(f"{path} is corrupt ({error}). Rebuild it with: {rebuild_command}") from None


def read_manifest():
    """Return the gallery's ``manifest.json`` as a dict, or raise GalleryError naming the file."""
    path = gallery_dir() / MANIFEST_FILE
    manifest = _read_json_file(str(path), _modified_ns(path), REBUILD_GALLERY_COMMAND)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("variants"), dict):
        raise GalleryError(f"{path} is invalid: it has no 'variants' table. "
                           f"Rebuild it with: {REBUILD_GALLERY_COMMAND}")
    return manifest


def read_variant_json(variant_name, file_name):
    """Return ``<gallery>/<variant>/<file_name>`` (history.json, metrics.json or run.json)."""
    path = gallery_dir() / variant_name / file_name
    return _read_json_file(str(path), _modified_ns(path), variant_rebuild_command(variant_name))


# The library and the models, loaded once per process.

@st.cache_resource(show_spinner="Loading TensorFlow and the digitcore library (a few seconds, once)…")
def library():
    """Import ``digitcore`` (and with it TensorFlow) and return its modules as one namespace."""
    import logging

    import digitcore
    from digitcore import artifacts, engine, evaluation, preprocess, progress, registry
    from digitcore.data import mnist

    # Each network gets its own traced function, traced once. TensorFlow counts those first
    # traces together and warns about "retracing", which here is expected: drop that warning.
    logging.getLogger("tensorflow").addFilter(
        lambda record: "triggered tf.function retracing" not in record.getMessage())

    return types.SimpleNamespace(digitcore=digitcore, artifacts=artifacts, engine=engine,
                                 evaluation=evaluation, preprocess=preprocess, progress=progress,
                                 registry=registry, mnist=mnist)


@st.cache_resource(show_spinner="Loading a pretrained model…", max_entries=40)
def _load_model(path, variant_name, modified_ns):
    lib = library()
    try:
        return lib.artifacts.load_model(path, variant_name)
    except lib.artifacts.ArtifactError as error:
        raise GalleryError(str(error)) from None


def load_model(variant_name):
    """Return the gallery's Keras model of ``variant_name``, or raise GalleryError naming the file."""
    path = gallery_dir() / variant_name / "model.keras"
    return _load_model(str(path), variant_name, _modified_ns(path))


@st.cache_resource(show_spinner="Preparing a pretrained model…", max_entries=40)
def _compiled_forward(path, variant_name, modified_ns, part):
    """Wrap one network of a model in a ``tf.function`` with a fixed input signature.

    A traced function runs a small network in a few milliseconds, where an eager Keras
    call costs tens of milliseconds in Python dispatch on a 2-core CPU.
    """
    import tensorflow as tf

    model = _load_model(path, variant_name, modified_ns)
    network = model if part == "model" else getattr(model, part)
    shape = [None, *network.inputs[0].shape[1:]]

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
    def forward(inputs):
        return network(inputs, training=False)

    forward(tf.zeros([1, *shape[1:]], tf.float32))  # trace now, so the first real call is warm
    return forward


def forward_function(variant_name, part="model"):
    """Return a fast callable for the classifier (``"model"``), ``"decoder"``, ``"encoder"`` or ``"generator"``.

    It takes a float32 NumPy array and returns a tensor, which ``np.asarray`` converts.
    """
    path = gallery_dir() / variant_name / "model.keras"
    return _compiled_forward(str(path), variant_name, _modified_ns(path), part)


@st.cache_data(show_spinner=False, max_entries=40)
def _read_npz(path, variant_name, modified_ns):
    lib = library()
    try:
        return lib.artifacts.read_npz(path, variant_name)
    except lib.artifacts.ArtifactError as error:
        raise GalleryError(str(error)) from None


def read_variant_npz(variant_name, file_name):
    """Return the arrays of ``<gallery>/<variant>/<file_name>`` (extras.npz or samples.npz)."""
    path = gallery_dir() / variant_name / file_name
    return _read_npz(str(path), variant_name, _modified_ns(path))


@st.cache_resource(show_spinner="Loading the MNIST test images…")
def test_split():
    """Return the 10,000 official MNIST test images (uint8) and labels."""
    _, test = library().mnist.load_mnist()
    return test


@st.cache_resource(show_spinner=False)
def variant_descriptions():
    """Return name -> registry ``Variant`` (summary, technical description, change from baseline)."""
    return dict(library().registry.VARIANTS)


# Display helpers.

def show_gallery_error(error, what="this part of the page"):
    """Show a GalleryError (or any file error) as st.error with what still works."""
    st.error(f"Could not load {what}: {error}\n\nThe other pages and sections keep working.",
             icon=":material/error:")


def run_caption(variant_name):
    """Return one line tracing a variant's numbers to its run: recipe, epochs, seed, device and date."""
    try:
        record = read_variant_json(variant_name, "run.json")
    except GalleryError as error:
        return f"{variant_name}: run record unavailable ({error})"
    recipe = record.get("recipe", {})
    subset = recipe.get("train_subset")
    images = f"{subset:,} training images" if subset else "all training images"
    return (f"{variant_name}: `{recipe.get('name', '?')}` recipe, {recipe.get('num_epochs', '?')} epochs "
            f"at batch {recipe.get('batch_size', '?')}, {images}, seed {record.get('seed', '?')}, "
            f"trained on {record.get('device', '?')}, finished {record.get('finished_at', '?')}.")


def provenance_expander(variant_names, title="Where these numbers come from"):
    """Show the run record line of each variant in a collapsed expander."""
    with st.expander(title, icon=":material/receipt_long:"):
        st.markdown("Every number of ours on this page was measured by the run below and is "
                    f"stored in `{gallery_dir()}`. Numbers marked *{REPORTED_LABEL}* are "
                    "copied from the study's two write-ups, not measured here.")
        for name in variant_names:
            st.markdown(f"- {run_caption(name)}")


def percent(value, digits=2):
    return "—" if value is None else f"{100.0 * value:.{digits}f}%"


def number(value, digits=2):
    return "—" if value is None else f"{value:.{digits}f}"


def sidebar(controls=None, poll_training=True):
    """Draw the sidebar every page shares; ``controls()`` adds page widgets in the middle.

    ``poll_training=False`` is for the Train page, which polls its run itself.
    Returns what ``controls`` returns.
    """
    _run_through_entry_point()
    result = None
    with st.sidebar:
        st.caption("How neural networks recognise and create handwritten digits, "
                   "with real models trained on real MNIST.")
        if controls is not None:
            result = controls()
        if poll_training:
            _training_status()
        st.divider()
        try:
            manifest = read_manifest()
            st.caption(f"Pretrained models: `{manifest.get('recipe', '?')}` recipe, "
                       f"updated {manifest.get('updated_at', '?')}.")
        except GalleryError:
            st.caption("Pretrained models: not available (see the message on the page).")
        st.caption(MNIST_CREDIT)
    return result


def _run_through_entry_point():
    """Restart a run that Streamlit began without streamlit_app.py, then go on to the requested page.

    A fresh server's first run can execute a page file directly (see the note in
    streamlit_app.py). Such a run goes through the entry point once, and the run after it
    switches to the page that the URL named. Streamlit's AppTest runs page files directly
    on purpose and has no URL, so without a URL the page simply goes on.
    """
    came_through_entry_point = st.session_state.pop("entry_point_ran", False)
    if not came_through_entry_point and st.context.url:
        url_path = st.context.url.rstrip("/").rsplit("/", 1)[-1]
        st.session_state["entry_redirect"] = PAGE_FILES.get(url_path)
        st.switch_page("streamlit_app.py")
    redirect = st.session_state.pop("entry_redirect", None)
    if redirect is not None:
        st.switch_page(redirect)


def _training_status():
    """While a Train-page run is active, poll it from every other page so it is not abandoned."""
    job = st.session_state.get("train_job")
    if job is None or not job.is_active():
        return
    _poll_training(job)


@st.fragment(run_every=2.0)
def _poll_training(job):
    job.heartbeat()
    snapshot = job.snapshot()
    if not job.is_active():
        st.rerun()
    st.progress(snapshot["fraction"], text=f"Training {job.variant_name}: {snapshot['phase']}")
    st.page_link("pages/train.py", label="Watch it on the Train page", icon=":material/model_training:")
