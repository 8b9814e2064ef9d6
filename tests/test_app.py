"""Tests of the Streamlit app with AppTest, against the pretrained gallery in trained/.

Every page is run headless in this process through ``streamlit_app.py`` and its
``st.navigation``. Models load once per process, so the first page that needs
TensorFlow pays for the import and later tests reuse the cached models.
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_FILE = REPO_ROOT / "streamlit_app.py"
GALLERY = REPO_ROOT / "trained"
RUN_TIMEOUT_SECONDS = 300  # a first run imports TensorFlow and loads models
TRAINING_TIMEOUT_SECONDS = 240


def gallery_families():
    """Return the families present in trained/manifest.json, or None when there is no readable manifest."""
    try:
        manifest = json.loads((GALLERY / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {entry.get("family") for entry in manifest.get("variants", {}).values()}


def require_gallery(*families):
    """Skip unless trained/ has a manifest listing every one of ``families``."""
    present = gallery_families()
    if present is None:
        pytest.skip(f"{GALLERY / 'manifest.json'} is missing or unreadable: build the gallery with "
                    "python -m digitcore reproduce")
    missing = [family for family in families if family not in present]
    if missing:
        pytest.skip(f"the gallery in {GALLERY} has no {', '.join(missing)} models yet: build them with "
                    "python -m digitcore reproduce")


_app_test_run = AppTest.run


@pytest.fixture(autouse=True)
def runs_through_entry_point(monkeypatch):
    """Mark every AppTest run as started by streamlit_app.py.

    After ``switch_page`` AppTest executes the page file itself, which a page takes
    for a run that skipped the entry point, so without the mark it redirects to Home.
    """
    def run(self, *, timeout=None):
        self.session_state["entry_point_ran"] = True
        return _app_test_run(self, timeout=timeout)

    monkeypatch.setattr(AppTest, "run", run)


@pytest.fixture
def gallery_env(monkeypatch, tmp_path):
    """Point the app at the real gallery and at a temporary runs folder."""
    monkeypatch.setenv("DIGITCORE_GALLERY", str(GALLERY))
    monkeypatch.setenv("DIGITCORE_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def open_page(page_file=None):
    """Run the app, switch to ``page_file`` (such as "pages/draw.py") and run it."""
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT_SECONDS)
    app.run()
    if page_file is not None:
        app.switch_page(page_file)
        app.run()
    return app


def texts(elements):
    return " ".join(str(element.value) for element in elements)


def button(app, label):
    matches = [widget for widget in app.button if widget.label == label]
    assert matches, f"no button labelled {label!r}; buttons: {[widget.label for widget in app.button]}"
    return matches[0]


def assert_no_exception(app):
    assert not app.exception, [exception.value for exception in app.exception]


# Home.

def test_home_shows_results_and_links(gallery_env):
    require_gallery("classifier")
    app = open_page()

    assert_no_exception(app)
    assert not app.error, texts(app.error)
    assert app.title[0].value == "How a computer learns to read and write digits"
    assert app.metric[0].label == "Best digit reader: test accuracy"
    assert app.metric[0].value.endswith("%")
    page_text = texts(app.markdown) + texts(app.caption)
    assert "Reported by the original study" in page_text
    assert "Yann LeCun and Corinna Cortes" in page_text
    assert "CC BY-SA 3.0" in page_text
    link_labels = [link.value for link in app.get("page_link")]
    for label in ("Recognise", "Draw", "Latent space", "Create", "Train"):
        assert label in link_labels


def test_home_paints_without_tensorflow(gallery_env):
    """Home runs in a fresh interpreter without importing TensorFlow or digitcore."""
    require_gallery("classifier")
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({str(APP_FILE)!r}, default_timeout=60)\n"
        "app.run()\n"
        "assert not app.exception, [e.value for e in app.exception]\n"
        "print(sorted(name for name in ('tensorflow', 'keras', 'digitcore') if name in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                               cwd=REPO_ROOT)

    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == "[]"


# Recognise.

def test_recognise_shows_misread_digits_of_chosen_cell(gallery_env):
    require_gallery("classifier")
    app = open_page("pages/recognise.py")
    assert_no_exception(app)
    assert not app.error, texts(app.error)
    assert [box.label for box in app.selectbox] == ["Classifier", "Classifier", "Real digit", "Read as"]

    app.selectbox(key="confusion_true").set_value(4)
    app.selectbox(key="confusion_predicted").set_value(9)
    app.run()

    assert_no_exception(app)
    cell_text = texts(app.markdown) + texts(app.info)
    assert "a **4** that" in cell_text or "never read a 4 as a 9" in cell_text
    assert app.session_state["confusion_true"] == 4
    assert app.session_state["confusion_predicted"] == 9


# Draw.

def test_draw_with_empty_canvas_asks_for_a_digit(gallery_env):
    require_gallery("classifier")
    app = open_page("pages/draw.py")

    assert_no_exception(app)
    assert [info.value for info in app.info] == ["Draw a digit first."]
    assert app.slider[0].label == "Pen width (pixels)"
    assert button(app, "Clear")
    assert "Consensus" not in texts(app.success)

    button(app, "Clear").click()
    app.run()
    assert_no_exception(app)
    assert [info.value for info in app.info] == ["Draw a digit first."]
    assert app.session_state["canvas_version"] == 1


# Latent space.

def test_latent_space_without_drawing_asks_to_draw(gallery_env):
    require_gallery("cvae")
    app = open_page("pages/latent_space.py")
    assert_no_exception(app)
    assert not app.error, texts(app.error)

    button(app, "Encode my drawing").click()
    app.run()

    assert_no_exception(app)
    assert "Draw a digit on the Draw page first" in texts(app.info)


def test_latent_number_input_moves_slider(gallery_env):
    require_gallery("cvae")
    app = open_page("pages/latent_space.py")
    low = app.number_input(key="latent_z1_number").min
    high = app.number_input(key="latent_z1_number").max
    target = round((low + 3 * high) / 4, 2)

    app.number_input(key="latent_z1_number").set_value(target)
    app.run()

    assert_no_exception(app)
    assert app.slider(key="latent_z1_slider").value == pytest.approx(target)
    assert app.session_state["latent_z1"] == pytest.approx(target)
    assert app.slider(key="latent_z2_slider").value == pytest.approx(app.session_state["latent_z2"])


def test_latent_space_encodes_drawing(gallery_env, mnist_splits):
    require_gallery("cvae")
    app = open_page("pages/latent_space.py")
    _, test = mnist_splits
    app.session_state["drawn_digit"] = test.images[0].astype(np.float32) / 255.0
    app.run()

    button(app, "Encode my drawing").click()
    app.run()

    assert_no_exception(app)
    assert "Your drawing lands at" in texts(app.caption)
    assert "Draw a digit on the Draw page first" not in texts(app.info)


# Create.

def test_create_new_samples_changes_seed(gallery_env):
    require_gallery("dcgan")
    app = open_page("pages/create.py")
    assert_no_exception(app)
    assert not app.error, texts(app.error)
    assert app.number_input(key="create_seed").value == 0
    assert "with seed 0" in texts(app.caption)

    app.number_input(key="create_seed").set_value(1234)
    app.run()
    assert "with seed 1234" in texts(app.caption)

    button(app, "New samples").click()
    app.run()
    new_seed = app.number_input(key="create_seed").value
    assert new_seed != 1234
    assert f"with seed {new_seed}" in texts(app.caption)


def test_create_makes_requested_digit(gallery_env):
    require_gallery("classifier", "dcgan")
    app = open_page("pages/create.py")
    app.selectbox(key="create_make_digit").set_value(1)
    app.run()

    button(app, "Make me a 1").click()
    app.run()

    assert_no_exception(app)
    made_text = texts(app.caption) + texts(app.warning)
    assert "reads as a 1" in made_text or "was read as a 1" in made_text


# Errors in the gallery.

def test_corrupt_model_file_is_named(monkeypatch, tmp_path):
    require_gallery("cvae")
    broken = tmp_path / "gallery"
    broken.mkdir()
    shutil.copy(GALLERY / "manifest.json", broken / "manifest.json")
    (broken / "CVAE-1").mkdir()
    for name in ("extras.npz", "run.json", "metrics.json", "history.json"):
        shutil.copy(GALLERY / "CVAE-1" / name, broken / "CVAE-1" / name)
    (broken / "CVAE-1" / "model.keras").write_bytes(b"not a zip archive")
    monkeypatch.setenv("DIGITCORE_GALLERY", str(broken))

    app = open_page("pages/latent_space.py")
    assert_no_exception(app)
    message = texts(app.error)
    assert str(broken / "CVAE-1" / "model.keras") in message
    assert "python -m digitcore train CVAE-1" in message

    home = open_page()
    assert_no_exception(home)
    assert not home.error, texts(home.error)


def test_missing_or_corrupt_manifest_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITCORE_GALLERY", str(tmp_path))
    app = open_page()
    assert_no_exception(app)
    assert str(tmp_path / "manifest.json") in texts(app.error)
    assert "python -m digitcore reproduce" in texts(app.error)

    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    app = open_page("pages/recognise.py")
    assert_no_exception(app)
    assert "is corrupt" in texts(app.error)


# Train.

def wait_for_training(app, timeout=TRAINING_TIMEOUT_SECONDS):
    """Rerun the page (as the polling fragment would) until the run has ended.

    Every AppTest run costs the training thread some CPU, so this polls every 2 s, well
    within the 30 s after which an unwatched run cancels itself.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(2.0)
        app.run()
        job = app.session_state["train_job"]
        if not job.is_active():
            app.run()
            return job
    raise AssertionError(f"training did not end within {timeout} s")


def start_custom_run(app, variant="CNN-1", train_subset=300):
    app.selectbox(key="train_variant").set_value(variant)
    app.radio(key="train_budget").set_value("Custom")
    app.run()
    app.number_input(key="train_epochs").set_value(1)
    app.number_input(key="train_subset").set_value(train_subset)
    app.select_slider(key="train_batch_size").set_value(64)
    app.run()
    button(app, "Start training").click()
    app.run()


def test_train_small_classifier_run_writes_run_folder(gallery_env):
    require_gallery("classifier")
    runs_dir = gallery_env
    app = open_page("pages/train.py")
    assert_no_exception(app)
    assert not button(app, "Start training").disabled
    assert button(app, "Cancel training").disabled

    start_custom_run(app)
    assert_no_exception(app)
    assert button(app, "Start training").disabled  # a second run cannot start
    job = wait_for_training(app)

    assert_no_exception(app)
    assert job.snapshot()["state"] == "finished", job.snapshot()["error"]
    assert "trained in" in texts(app.success)
    run_dirs = [path for path in runs_dir.glob("*/*") if path.is_dir()]
    assert len(run_dirs) == 1
    assert run_dirs[0].name.startswith("CNN-1-")
    assert (run_dirs[0] / "model.keras").is_file()
    record = json.loads((run_dirs[0] / "run.json").read_text(encoding="utf-8"))
    assert record["variant"] == "CNN-1"
    assert record["recipe"]["num_epochs"] == 1
    assert record["recipe"]["train_subset"] == 300
    assert job.archive[:2] == b"PK"  # the zip offered for download
    assert not button(app, "Start training").disabled


def test_train_cancel_writes_nothing(gallery_env):
    require_gallery("classifier")
    runs_dir = gallery_env
    app = open_page("pages/train.py")
    start_custom_run(app, train_subset=2000)

    button(app, "Cancel training").click()
    app.run()
    job = wait_for_training(app)

    assert_no_exception(app)
    assert job.snapshot()["state"] == "cancelled"
    assert "nothing was saved" in texts(app.warning)
    assert not runs_dir.exists() or not any(path.is_dir() for path in runs_dir.glob("*/*"))
