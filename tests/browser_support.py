"""Run the Streamlit app on loopback and drive it with Debian's headless Chromium.

Shared by the browser tests and ``bench/app_bench.py``. Nothing here downloads a
browser: Playwright drives the system package ``chromium`` (``apt-get install chromium``).
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
LOOPBACK = "127.0.0.1"
SERVER_START_SECONDS = 90
VIEWPORT = {"width": 1400, "height": 1000}
DEFAULT_TIMEOUT_MS = 300_000  # the first run of a model page imports TensorFlow and loads models

# Paths the pages are served under by st.navigation, by page name.
PAGE_PATHS = {"home": "", "recognise": "recognise", "draw": "draw",
              "latent-space": "latent_space", "create": "create", "train": "train"}

IDLE_APP = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
EXCEPTION_BOX = '[data-testid="stException"]'
STATUS_WIDGET = '[data-testid="stStatusWidget"]'
MAIN_TITLE = '[data-testid="stMain"] h1'


class ChromiumMissingError(RuntimeError):
    """The system Chromium that the browser tests drive is not installed."""


def require_chromium():
    """Return the Chromium path; raise ChromiumMissingError with the install command if it is missing."""
    if not CHROMIUM_PATH.is_file():
        raise ChromiumMissingError(
            f"{CHROMIUM_PATH} not found: the browser tests drive Debian's chromium package. "
            "Install it with: sudo apt-get install chromium")
    return CHROMIUM_PATH


def free_port():
    """Return a TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def server_environment(extra=None):
    """Return this process's environment (so ``DIGITCORE_GALLERY`` passes through) for the server."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra or {})
    return env


class AppServer:
    """``streamlit run streamlit_app.py`` on a free loopback port, logging to a temporary file.

    Use it as a context manager: entering waits for ``/_stcore/health``, leaving terminates it.
    """

    def __init__(self, env=None):
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.env = server_environment(env)
        self.process = None
        self.log_file = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def pid(self):
        return self.process.pid

    def start(self, timeout_seconds=SERVER_START_SECONDS):
        command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
                   "--server.port", str(self.port), "--server.address", LOOPBACK,
                   "--server.headless", "true", "--browser.gatherUsageStats", "false",
                   "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
        self.log_file = tempfile.NamedTemporaryFile(prefix="digitcore-streamlit-", suffix=".log", delete=False)
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=self.log_file, stderr=subprocess.STDOUT)
        self._wait_for_health(timeout_seconds)

    def _wait_for_health(self, timeout_seconds):
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log_tail()
                self.stop()
                raise RuntimeError(f"streamlit exited with code {self.process.returncode} before it "
                                   f"served {self.url}. Its log:\n{log}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        log = self.log_tail()
        self.stop()
        raise TimeoutError(f"streamlit did not answer {self.url}/_stcore/health within "
                           f"{timeout_seconds} s. Its log:\n{log}")

    def log_tail(self, num_chars=4000):
        """Return the end of the server's log, for failure messages."""
        if self.log_file is None:
            return ""
        self.log_file.flush()
        return Path(self.log_file.name).read_text(errors="replace")[-num_chars:]

    def rss_kib(self):
        """Return the server process's resident set size (VmRSS) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"/proc/{self.pid}/status has no VmRSS line")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        if self.log_file is not None:
            self.log_file.close()
            Path(self.log_file.name).unlink(missing_ok=True)
            self.log_file = None


def launch_chromium(playwright):
    """Launch the system Chromium headless with the flags that keep it off the network."""
    return playwright.chromium.launch(executable_path=str(require_chromium()), headless=True,
                                      args=CHROMIUM_ARGS)


def new_app_page(browser):
    """Open a page in a fresh browser context that counts the app's script runs (``window.__scriptRuns``)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RUN_COUNTER_SCRIPT)
    return context.new_page()


# Every change of stApp's data-test-script-state to "running" is one script run (or rerun).
RUN_COUNTER_SCRIPT = """
window.__scriptRuns = 0;
new MutationObserver((mutations) => {
  for (const mutation of mutations) {
    if (mutation.target.getAttribute('data-test-script-state') === 'running') window.__scriptRuns += 1;
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""


def script_runs(page):
    return page.evaluate("() => window.__scriptRuns ?? 0")


def wait_for_idle(page, timeout_ms=DEFAULT_TIMEOUT_MS):
    """Wait until the script run has finished: connected, not running, no status widget, no stale elements."""
    page.wait_for_selector(IDLE_APP, state="attached", timeout=timeout_ms)
    page.locator(STATUS_WIDGET).wait_for(state="hidden", timeout=timeout_ms)
    page.wait_for_function("() => document.querySelectorAll('.stale-element').length === 0",
                           timeout=timeout_ms)


def wait_for_settled(page, quiet_ms=1000, timeout_ms=DEFAULT_TIMEOUT_MS):
    """Wait until the app is idle and no new script run started for ``quiet_ms``.

    A widget that mounts after a run, such as a canvas with a new key, can send its first
    value and so start one more run. This function waits for that run too.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        wait_for_idle(page, timeout_ms)
        runs = script_runs(page)
        page.wait_for_timeout(quiet_ms)
        if script_runs(page) == runs and page.locator(IDLE_APP).count() == 1:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app kept rerunning for {timeout_ms} ms")


def open_app_page(page, base_url, page_name, timeout_ms=DEFAULT_TIMEOUT_MS):
    """Load one page of the app and wait until its script has run to the end and its title shows."""
    page.goto(f"{base_url}/{PAGE_PATHS[page_name]}", wait_until="domcontentloaded", timeout=timeout_ms)
    page.locator(MAIN_TITLE).first.wait_for(state="visible", timeout=timeout_ms)
    wait_for_settled(page, timeout_ms=timeout_ms)


def full_page_screenshot(page, path, settle_timeout_ms=20_000):
    """Save a screenshot of the whole page, however long.

    Streamlit scrolls the main area inside ``stMain``, not the document, so Playwright's
    ``full_page`` captures only the viewport. The viewport is made as tall as that area's
    content for the shot and then restored. Elements that were off screen (images, charts)
    render only once they are in view, so the shot is taken when two consecutive shots
    half a second apart are identical, or after ``settle_timeout_ms``.
    """
    viewport = page.viewport_size
    content_height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
        "[data-testid=\"stSidebarContent\"]')].map((element) => element.scrollHeight), 0)")
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], content_height)})
    try:
        deadline = time.monotonic() + settle_timeout_ms / 1000
        previous = None
        while True:
            page.wait_for_timeout(500)
            shot = page.screenshot(full_page=True)
            if shot == previous or time.monotonic() > deadline:
                break
            previous = shot
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(shot)
    finally:
        page.set_viewport_size(viewport)


def drag_mouse(page, points, steps_per_segment=8):
    """Press the left button at ``points[0]``, move through the others in small steps, and release.

    Points are page coordinates. Fabric.js builds a free-drawing path from every move event,
    so each segment is split into ``steps_per_segment`` moves.
    """
    start_x, start_y = points[0]
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=steps_per_segment)
    page.mouse.up()


# The Draw page. streamlit-drawable-canvas 0.13 is a Streamlit v2 component: its Fabric.js
# canvases sit in an open shadow root in the page itself (no iframe), and Playwright's CSS
# selectors reach into open shadow roots.

DRAWING_CANVAS = '[data-testid="stMain"] canvas.upper-canvas'  # takes the mouse events
DRAWN_CANVAS = '[data-testid="stMain"] canvas.dc-canvas.lower-canvas'  # shows the finished strokes
STROKE_TIMEOUT_MS = 5_000
CANVAS_SCROLL_BOX = '[data-testid="stMain"] .dc-scroll'
EMPTY_CANVAS_MESSAGE = "Draw a digit first."
CONSENSUS_PATTERN = re.compile(r"Consensus: (\d)")
CLEAR_BUTTON_NAME = "Clear"

# A "1": one vertical stroke down the middle, from 15 % to 85 % of the canvas height.
STROKE_OF_ONE = [(0.5, 0.15), (0.5, 0.35), (0.5, 0.55), (0.5, 0.85)]


def visible_canvas_box(page, timeout_ms=DEFAULT_TIMEOUT_MS):
    """Return the part of the drawing canvas that is on screen (its scroll box may clip it)."""
    canvas = page.locator(DRAWING_CANVAS)
    canvas.wait_for(state="visible", timeout=timeout_ms)
    box = canvas.bounding_box()
    scroll_box = page.locator(CANVAS_SCROLL_BOX).bounding_box()
    left = max(box["x"], scroll_box["x"])
    right = min(box["x"] + box["width"], scroll_box["x"] + scroll_box["width"])
    top = max(box["y"], scroll_box["y"])
    bottom = min(box["y"] + box["height"], scroll_box["y"] + scroll_box["height"])
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


def draw_stroke(page, fractions=STROKE_OF_ONE, max_attempts=3):
    """Draw one stroke through ``fractions`` of the visible canvas with real mouse events.

    A canvas that has just been mounted (after Clear) can miss a stroke while its Fabric.js
    handlers are still being set up, which happens on a busy machine. So the stroke is
    drawn again, up to ``max_attempts`` times, until the canvas's pixels change.
    """
    drawn_canvas = page.locator(DRAWN_CANVAS)
    for _ in range(max_attempts):
        box = visible_canvas_box(page)
        pixels_before = drawn_canvas.evaluate("(canvas) => canvas.toDataURL()")
        drag_mouse(page, [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in fractions])
        try:
            page.wait_for_function("([canvas, before]) => canvas.toDataURL() !== before",
                                   arg=[drawn_canvas.element_handle(), pixels_before], timeout=STROKE_TIMEOUT_MS)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"the drawing canvas stayed unchanged after {max_attempts} strokes")


def consensus_digit(page, timeout_ms=DEFAULT_TIMEOUT_MS):
    """Wait for the readers' consensus to show after a drawing and return it as an int."""
    consensus = page.get_by_text(CONSENSUS_PATTERN)
    consensus.wait_for(state="visible", timeout=timeout_ms)
    wait_for_settled(page, timeout_ms=timeout_ms)
    return int(CONSENSUS_PATTERN.search(consensus.inner_text()).group(1))


def clear_canvas(page, timeout_ms=DEFAULT_TIMEOUT_MS):
    """Press the page's Clear button and wait for the empty-canvas message and a fresh canvas."""
    page.get_by_role("button", name=CLEAR_BUTTON_NAME).click()
    page.get_by_text(EMPTY_CANVAS_MESSAGE).wait_for(state="visible", timeout=timeout_ms)
    wait_for_settled(page, timeout_ms=timeout_ms)
    page.locator(DRAWING_CANVAS).wait_for(state="visible", timeout=timeout_ms)


# The Latent space page. Streamlit 1.67 renders a slider as an <input type="range"> labelled
# both by itself and by its group, so its accessible name repeats the label; the aria-label
# attribute alone is exact.

def latent_slider(label):
    """Return the selector of the slider labelled ``label`` (such as "z₁")."""
    return f'input[type="range"][aria-label="{label}"]'


DECODED_CAPTION_TEXT = "decodes ("

# The src of the st.image whose caption contains DECODED_CAPTION_TEXT, or null.
DECODED_SOURCE_SCRIPT = """(captionText) => {
  const images = [...document.querySelectorAll('[data-testid="stImage"]')];
  const decoded = images.find((element) => element.innerText.includes(captionText));
  const image = decoded ? decoded.querySelector('img') : null;
  return image ? image.getAttribute('src') : null;
}"""


def decoded_image(page):
    """Return the locator of the decoded digit: the st.image whose caption reads "<variant> decodes (z₁, z₂) …"."""
    return page.locator('[data-testid="stImage"]').filter(has_text=DECODED_CAPTION_TEXT)


def wait_for_new_decoded_image(page, previous_source, timeout_ms=DEFAULT_TIMEOUT_MS):
    """Wait until the decoded image's ``src`` differs from ``previous_source``; return the new one.

    Streamlit names each in-memory media file by a hash of its bytes and MIME type, so a
    new ``src`` means a new image.
    """
    page.wait_for_function(f"(previous) => {{ const source = ({DECODED_SOURCE_SCRIPT})({DECODED_CAPTION_TEXT!r}); "
                           "return source !== null && source !== previous; }",
                           arg=previous_source, timeout=timeout_ms)
    return decoded_image(page).locator("img").get_attribute("src")
