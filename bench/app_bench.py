"""Measure how fast the app responds and whether its server's memory grows, in one run.

Run from the repository root (it reads the gallery in ``$DIGITCORE_GALLERY``, else ``trained/``)::

    PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=2 nice -n 19 .venv/bin/python bench/app_bench.py

It needs Debian's ``chromium`` for the browser part and prints one table at the end:

1. In the browser, on a fresh server: Home's first paint next to Recognise's, which imports
   TensorFlow, and the round trip of a Draw stroke and of a Latent space slider step. The
   server's resident memory is read before and after ``--memory-reruns`` interactions on each.
2. Whether running Home in a fresh interpreter (Streamlit's ``AppTest``) imports TensorFlow.
3. The first run and the warm rerun of each page: median of ``NUM_RERUNS`` ``AppTest.run()`` calls.
4. The model work behind the interactive pages, done the way the pages do it, with each
   network wrapped in a ``tf.function``. These are medians of warm runs of: canvas image to
   the 7 predictions, latent point to a displayable decoded image, and 100 samples of each DCGAN.

All times are wall-clock on this machine, so a busy CPU inflates them.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests import browser_support  # noqa: E402  (needs the repository on sys.path)

PAGE_FILES = {"home": "pages/home.py", "recognise": "pages/recognise.py", "draw": "pages/draw.py",
              "latent-space": "pages/latent_space.py", "create": "pages/create.py", "train": "pages/train.py"}
CLASSIFIERS = ("CNN-1", "CNN-2", "CNN-3", "FCNN-1", "FCNN-2", "FCNN-3", "FCNN-4")
CVAES = ("CVAE-1", "CVAE-2", "CVAE-3", "CVAE-4", "CVAE-5")
DCGANS = ("DCGAN-1", "DCGAN-2", "DCGAN-3", "DCGAN-4", "DCGAN-5")

NUM_RERUNS = 5
NUM_LATENCY_RUNS = 30
NUM_GAN_RUNS = 10
NUM_GAN_SAMPLES = 100
NUM_MEMORY_RERUNS = 100
CANVAS_SIZE = 280
DECODED_SCALE = 8  # the decoded 28×28 digit is shown 8 times larger
APPTEST_TIMEOUT_SECONDS = 300

TARGET_PREDICTIONS_MS = 150
TARGET_DECODE_MS = 50
TARGET_GAN_MS = 300
MAX_RSS_GROWTH_MIB = 50  # this benchmark's own bound on growth over all memory reruns

# Runs in a fresh interpreter, with the entry point's path as its only argument.
HOME_IMPORTS_SCRIPT = """
import json, sys, time
from streamlit.testing.v1 import AppTest
started = time.perf_counter()
app = AppTest.from_file(sys.argv[1], default_timeout=120).run()
print(json.dumps({"seconds": time.perf_counter() - started,
                  "title": app.title[0].value if app.title else None,
                  "exceptions": [item.message for item in app.exception],
                  "tensorflow_imported": "tensorflow" in sys.modules,
                  "digitcore_imported": "digitcore" in sys.modules}))
"""


# Results, collected as rows of the final table.

class Table:
    """Rows of (measurement, value, target, verdict), printed aligned at the end."""

    def __init__(self):
        self.rows = []

    def add(self, name, value, target="", passed=None):
        verdict = ""
        if passed is not None:
            verdict = "PASS" if passed else "FAIL"
        self.rows.append((name, value, target, verdict))
        print(f"  {name}: {value} {verdict}".rstrip(), flush=True)

    def add_ms(self, name, milliseconds, target_ms=None):
        target = "" if target_ms is None else f"<= {target_ms} ms"
        passed = None if target_ms is None else milliseconds <= target_ms
        self.add(name, f"{milliseconds:.1f} ms", target, passed)

    def print(self):
        widths = [max(len(str(row[i])) for row in self.rows + [self.header()]) for i in range(4)]
        line = "  ".join("-" * width for width in widths)
        print("\n" + "  ".join(str(cell).ljust(width) for cell, width in zip(self.header(), widths)))
        print(line)
        for row in self.rows:
            print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())

    @staticmethod
    def header():
        return ("measurement", "value", "target", "verdict")


def median_ms(function, num_runs, num_warmup=3):
    """Return the median wall time of ``function()`` in milliseconds, after ``num_warmup`` calls."""
    for _ in range(num_warmup):
        function()
    durations = []
    for _ in range(num_runs):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return 1000.0 * statistics.median(durations)


def gallery_dir():
    return Path(os.environ.get("DIGITCORE_GALLERY") or REPO_ROOT / "trained")


def child_environment():
    return browser_support.server_environment()


# 1. Home without TensorFlow, in a fresh interpreter.

def measure_home_imports(table):
    """Run Home once with AppTest in a fresh interpreter and report whether TensorFlow was imported."""
    command = [sys.executable, "-c", HOME_IMPORTS_SCRIPT, str(REPO_ROOT / "streamlit_app.py")]
    completed = subprocess.run(command, cwd=REPO_ROOT, env=child_environment(), capture_output=True, text=True,
                               timeout=APPTEST_TIMEOUT_SECONDS)
    if completed.returncode != 0:
        raise RuntimeError(f"the AppTest run of Home failed:\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    table.add("Home in a fresh interpreter (AppTest): TensorFlow imported",
              "yes" if result["tensorflow_imported"] else "no", "no",
              not result["tensorflow_imported"])
    table.add("Home in a fresh interpreter (AppTest): digitcore imported",
              "yes" if result["digitcore_imported"] else "no", "no", not result["digitcore_imported"])
    table.add("Home in a fresh interpreter (AppTest): exceptions", len(result["exceptions"]), "0",
              not result["exceptions"])
    table.add_ms("Home in a fresh interpreter (AppTest): first run", 1000.0 * result["seconds"])


# 2. Warm reruns of every page.

def measure_warm_reruns(table):
    """Time the first run and ``NUM_RERUNS`` reruns of each page with Streamlit's AppTest."""
    from streamlit.testing.v1 import AppTest

    for page_name, page_file in PAGE_FILES.items():
        app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=APPTEST_TIMEOUT_SECONDS)
        if page_name != "home":
            app.run()  # switch_page() finds st.navigation's pages only after a first run
            app.switch_page(page_file)
        started = time.perf_counter()
        app.run()
        first_ms = 1000.0 * (time.perf_counter() - started)

        durations = []
        for _ in range(NUM_RERUNS):
            started = time.perf_counter()
            app.run()
            durations.append(1000.0 * (time.perf_counter() - started))
        errors = [item.message for item in app.exception]
        table.add_ms(f"{page_name}: first run in this process (AppTest)", first_ms)
        table.add_ms(f"{page_name}: warm rerun, median of {NUM_RERUNS} (AppTest)", statistics.median(durations))
        table.add(f"{page_name}: exceptions (AppTest)", len(errors), "0", not errors)


# 3. Model work behind the interactive pages.

def compiled_forward(network):
    """Wrap ``network`` in a ``tf.function`` with a batch-agnostic input signature, as the app does."""
    import tensorflow as tf

    shape = [None, *network.inputs[0].shape[1:]]

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
    def forward(inputs):
        return network(inputs, training=False)

    return forward


def load_gallery_model(variant_name):
    from digitcore import artifacts

    return artifacts.load_model(gallery_dir() / variant_name / "model.keras", variant_name)


def rendered_canvas(digit):
    """Draw a 28×28 MNIST digit the way the canvas returns it: a 280×280 RGBA array, alpha = ink."""
    import numpy as np
    from PIL import Image

    size = round(0.7 * CANVAS_SIZE)
    offset = (CANVAS_SIZE - size) // 2
    enlarged = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR))
    canvas = np.zeros((CANVAS_SIZE, CANVAS_SIZE, 4), dtype=np.uint8)
    canvas[offset:offset + size, offset:offset + size, 3] = enlarged
    return canvas


def png_bytes(image):
    stream = io.BytesIO()
    image.save(stream, format="PNG")
    return stream.getvalue()


def interleaved_medians_ms(functions, num_runs, num_warmup=3):
    """Return {name: median ms} for several functions timed in turn, so a change in load hits all alike."""
    for function in functions.values():
        for _ in range(num_warmup):
            function()
    durations = {name: [] for name in functions}
    for _ in range(num_runs):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            durations[name].append(time.perf_counter() - started)
    return {name: 1000.0 * statistics.median(values) for name, values in durations.items()}


def measure_predictions(table):
    """Time canvas image → preprocessing → one call of each of the 7 classifiers, and each part alone."""
    import numpy as np

    from digitcore.data.mnist import load_mnist
    from digitcore.preprocess import preprocess_drawing

    missing = [name for name in CLASSIFIERS if not (gallery_dir() / name / "model.keras").is_file()]
    if missing:
        table.add("canvas image → 7 predictions", f"missing {', '.join(missing)}",
                  f"<= {TARGET_PREDICTIONS_MS} ms", False)
        return
    models = {name: load_gallery_model(name) for name in CLASSIFIERS}
    forwards = {name: compiled_forward(model) for name, model in models.items()}
    _, test = load_mnist()
    canvas = rendered_canvas(test.images[0])
    model_input = preprocess_drawing(canvas).model_input

    def predict_all():
        digit = preprocess_drawing(canvas)
        return {name: np.asarray(forward(digit.model_input))[0] for name, forward in forwards.items()}

    def classify_compiled():
        return [np.asarray(forward(model_input)) for forward in forwards.values()]

    def classify_eagerly():
        return [np.asarray(model(model_input, training=False)) for model in models.values()]

    medians = interleaved_medians_ms({"all": predict_all, "preprocess": lambda: preprocess_drawing(canvas),
                                      "compiled": classify_compiled, "eager": classify_eagerly},
                                     NUM_LATENCY_RUNS)
    votes = [int(np.argmax(probabilities)) for probabilities in predict_all().values()]
    table.add_ms(f"canvas image → 7 predictions (as Draw does), median of {NUM_LATENCY_RUNS}", medians["all"],
                 TARGET_PREDICTIONS_MS)
    table.add_ms("  of which preprocess_drawing alone", medians["preprocess"])
    table.add_ms("  of which 7 classifier calls through tf.function", medians["compiled"])
    table.add_ms("  7 eager Keras calls instead, for comparison", medians["eager"])
    table.add("  digits read from the rendered test digit", f"{votes} (its label: {test.labels[0]})")


def measure_decoding(table):
    """Time latent point → decoded 28×28 digit → enlarged PNG, for each CVAE in the gallery."""
    import numpy as np

    from pages import imaging

    point = np.array([[0.5, -0.25]], dtype=np.float32)
    for name in CVAES:
        if not (gallery_dir() / name / "model.keras").is_file():
            table.add(f"latent point → image, {name}", "missing", f"<= {TARGET_DECODE_MS} ms", False)
            continue
        decode = compiled_forward(load_gallery_model(name).decoder)

        def decoded_png():
            digit = np.asarray(decode(point))[0]
            return png_bytes(imaging.enlarge(digit, DECODED_SCALE))

        table.add_ms(f"latent point → decoded PNG, {name}, median of {NUM_LATENCY_RUNS}",
                     median_ms(decoded_png, NUM_LATENCY_RUNS), TARGET_DECODE_MS)


def measure_gan_samples(table):
    """Time 100 latents → generator → [0, 1] images for each DCGAN, as the Create page makes them.

    The pixel range comes from each run record, as on the page. The second figure adds the
    20-column grid image that the page shows, encoded as PNG.
    """
    import numpy as np

    from digitcore import artifacts
    from pages import imaging

    for name in DCGANS:
        if not (gallery_dir() / name / "model.keras").is_file():
            table.add(f"{NUM_GAN_SAMPLES} GAN samples, {name}", "missing", f"<= {TARGET_GAN_MS} ms", False)
            continue
        gan = load_gallery_model(name)
        generate = compiled_forward(gan.generator)
        pixel_range = tuple(artifacts.read_json(gallery_dir() / name / "run.json", name)["recipe"]["pixel_range"])

        def samples():
            latents = np.random.default_rng(0).normal(size=(NUM_GAN_SAMPLES, gan.latent_dim)).astype(np.float32)
            images = np.asarray(generate(latents), dtype=np.float32)
            if pixel_range == (-1, 1):
                images = (images + 1.0) / 2.0
            return np.clip(images, 0.0, 1.0)

        def samples_as_png():
            return png_bytes(imaging.grid(samples(), num_columns=20, scale=2))

        medians = interleaved_medians_ms({"samples": samples, "png": samples_as_png}, NUM_GAN_RUNS)
        table.add(f"{NUM_GAN_SAMPLES} GAN samples, {name}, median of {NUM_GAN_RUNS}",
                  f"{medians['samples']:.1f} ms ({medians['png']:.1f} ms with the grid PNG)",
                  f"<= {TARGET_GAN_MS} ms", medians["samples"] <= TARGET_GAN_MS)


# 4. The browser: first paint, round trips and the server's memory.

def first_paint(browser, server, page_name):
    """Return (seconds to the title being visible, seconds to the run's end) in a fresh browser page."""
    context = browser.new_context(viewport=browser_support.VIEWPORT)
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{server.url}/{browser_support.PAGE_PATHS[page_name]}", wait_until="commit")
    page.locator(browser_support.MAIN_TITLE).first.wait_for(state="visible",
                                                            timeout=browser_support.DEFAULT_TIMEOUT_MS)
    title_seconds = time.perf_counter() - started
    browser_support.wait_for_idle(page)
    finished_seconds = time.perf_counter() - started
    context.close()
    return title_seconds, finished_seconds


def draw_reruns(page, num_reruns):
    """Alternate a drawn stroke and the Clear button ``num_reruns`` times.

    Returns two lists of milliseconds per stroke: from the first mouse event to the consensus
    being shown, and to the end of the rerun.
    """
    consensus = page.get_by_text(browser_support.CONSENSUS_PATTERN)
    shown_ms, finished_ms = [], []
    for index in range(num_reruns):
        if index % 2 == 1:
            browser_support.clear_canvas(page)
            continue
        started = time.perf_counter()
        browser_support.draw_stroke(page)
        consensus.wait_for(state="visible", timeout=browser_support.DEFAULT_TIMEOUT_MS)
        shown_ms.append(1000.0 * (time.perf_counter() - started))
        browser_support.wait_for_idle(page)
        finished_ms.append(1000.0 * (time.perf_counter() - started))
        browser_support.wait_for_settled(page, quiet_ms=300)
    return shown_ms, finished_ms


def latent_reruns(page, num_reruns):
    """Step the z₁ slider by one key press ``num_reruns`` times, one way until an end and then back.

    Returns two lists of milliseconds per press: to the new decoded image being shown, and to
    the end of the rerun (the map and the rest of the page come after the image).
    """
    slider = page.locator(browser_support.latent_slider("z₁"))
    key = "ArrowRight"
    shown_ms, finished_ms = [], []
    for _ in range(num_reruns):
        value = float(slider.input_value())
        if value >= float(slider.get_attribute("max")):
            key = "ArrowLeft"
        elif value <= float(slider.get_attribute("min")):
            key = "ArrowRight"
        source = browser_support.decoded_image(page).locator("img").get_attribute("src")
        slider.focus()
        started = time.perf_counter()
        page.keyboard.press(key)
        browser_support.wait_for_new_decoded_image(page, source)
        shown_ms.append(1000.0 * (time.perf_counter() - started))
        browser_support.wait_for_idle(page)
        finished_ms.append(1000.0 * (time.perf_counter() - started))
    return shown_ms, finished_ms


def measure_browser(table, num_memory_reruns):
    from playwright.sync_api import sync_playwright

    with browser_support.AppServer() as server, sync_playwright() as playwright:
        browser = browser_support.launch_chromium(playwright)
        table.add("server RSS after start", f"{server.rss_kib() / 1024:.0f} MiB")

        title_seconds, finished_seconds = first_paint(browser, server, "home")
        table.add_ms("Home first paint, fresh server and page: title visible", 1000.0 * title_seconds)
        table.add_ms("Home first paint: script run finished", 1000.0 * finished_seconds)
        title_seconds, finished_seconds = first_paint(browser, server, "recognise")
        table.add_ms("Recognise first paint (imports TensorFlow): title visible", 1000.0 * title_seconds)
        table.add_ms("Recognise first paint: script run finished", 1000.0 * finished_seconds)

        # Warm up: every page once, and both interactions once, so that models, traced
        # functions and caches are in memory before the baseline reading.
        page = browser_support.new_app_page(browser)
        for page_name in browser_support.PAGE_PATHS:
            browser_support.open_app_page(page, server.url, page_name)
        table.add("server RSS after one visit of every page", f"{server.rss_kib() / 1024:.0f} MiB")
        browser_support.open_app_page(page, server.url, "latent-space")
        latent_reruns(page, 2)
        browser_support.open_app_page(page, server.url, "draw")
        draw_reruns(page, 2)
        rss_before_kib = server.rss_kib()
        table.add("server RSS after warm-up (one stroke, two slider steps)", f"{rss_before_kib / 1024:.0f} MiB")

        runs_before = browser_support.script_runs(page)
        shown_ms, finished_ms = draw_reruns(page, num_memory_reruns)
        draw_runs = browser_support.script_runs(page) - runs_before
        table.add_ms(f"Draw: stroke → consensus shown, median of {len(shown_ms)} (browser)",
                     statistics.median(shown_ms))
        table.add_ms("Draw: stroke → rerun finished (browser)", statistics.median(finished_ms))
        rss_after_draw_kib = server.rss_kib()
        table.add(f"server RSS after {draw_runs} Draw reruns", f"{rss_after_draw_kib / 1024:.0f} MiB")

        browser_support.open_app_page(page, server.url, "latent-space")
        runs_before = browser_support.script_runs(page)
        shown_ms, finished_ms = latent_reruns(page, num_memory_reruns)
        latent_runs = browser_support.script_runs(page) - runs_before
        table.add_ms(f"Latent space: slider key press → new image, median of {len(shown_ms)} (browser)",
                     statistics.median(shown_ms))
        table.add_ms("Latent space: slider key press → rerun finished (browser)", statistics.median(finished_ms))
        rss_after_kib = server.rss_kib()
        table.add(f"server RSS after {latent_runs} Latent space reruns", f"{rss_after_kib / 1024:.0f} MiB")

        growth_mib = (rss_after_kib - rss_before_kib) / 1024
        table.add(f"server RSS growth over {draw_runs + latent_runs} reruns", f"{growth_mib:+.0f} MiB",
                  f"<= {MAX_RSS_GROWTH_MIB} MiB", growth_mib <= MAX_RSS_GROWTH_MIB)
        page.context.close()
        browser.close()


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--memory-reruns", type=int, default=NUM_MEMORY_RERUNS,
                        help=f"interactions on each of Draw and Latent space between the two memory "
                             f"readings (default {NUM_MEMORY_RERUNS})")
    arguments = parser.parse_args()
    if arguments.memory_reruns < 2:
        parser.error(f"--memory-reruns must be at least 2, got {arguments.memory_reruns}")
    return arguments


def main():
    arguments = parse_arguments()
    browser_support.require_chromium()
    print(f"gallery: {gallery_dir()}")
    print(f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    table = Table()

    print("Browser (fresh server):", flush=True)
    measure_browser(table, arguments.memory_reruns)
    print("Home imports (fresh interpreter):", flush=True)
    measure_home_imports(table)
    print("Warm reruns (AppTest):", flush=True)
    measure_warm_reruns(table)
    print("Model work (this process):", flush=True)
    measure_predictions(table)
    measure_decoding(table)
    measure_gan_samples(table)

    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    table.print()


if __name__ == "__main__":
    main()
