"""The app in a real browser: ``streamlit run`` on loopback, driven in Debian's headless Chromium.

The server reads the gallery in ``$DIGITCORE_GALLERY``, else ``trained/``. These tests need
the ``chromium`` package (``apt-get install chromium``) and fail, rather than skip, without it.
Screenshots of every page go to ``tests/screenshots/`` (git-ignored) for a human to look at.
"""

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests import browser_support

SCREENSHOT_DIR = Path(__file__).resolve().parent / "screenshots"
PAGE_TITLES = ["Home", "Recognise", "Draw", "Latent space", "Create", "Train"]
# When every classifier reaches this test accuracy, their consensus on a clean vertical stroke must be 1.
WELL_TRAINED_ACCURACY = 0.9

ERROR_ALERT = '[data-testid="stAlertContentError"]'
DIALOG = '[role="dialog"]'
NAV_LINK = '[data-testid="stSidebarNavLink"]'
READERS_PATTERN = re.compile(r"\d of 7 readers")


@pytest.fixture(scope="session")
def chromium():
    try:
        return browser_support.require_chromium()
    except browser_support.ChromiumMissingError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module")
def app_server():
    with browser_support.AppServer() as server:
        yield server


@pytest.fixture(scope="module")
def browser(chromium):
    with sync_playwright() as playwright:
        browser = browser_support.launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser_support.new_app_page(browser)
    yield page
    page.context.close()


def gallery_manifest():
    gallery = Path(os.environ.get("DIGITCORE_GALLERY") or browser_support.REPO_ROOT / "trained")
    return json.loads((gallery / "manifest.json").read_text(encoding="utf-8"))


def nav_titles(page):
    return [link.inner_text().splitlines()[-1].strip() for link in page.locator(NAV_LINK).all()]


def visible_texts(page, selector):
    return [element.inner_text() for element in page.locator(selector).all() if element.is_visible()]


# Navigation and every page.

@pytest.mark.parametrize("page_name", ["draw", "latent-space"])
def test_deep_link_in_fresh_server(page, page_name):
    # A page's URL opened as the first request of a new server must still go through
    # streamlit_app.py's navigation, not through Streamlit's older pages/ folder lookup,
    # which names pages after their files ("latent_space", not "latent-space").
    with browser_support.AppServer() as fresh_server:
        page.goto(f"{fresh_server.url}/{browser_support.PAGE_PATHS[page_name]}", wait_until="domcontentloaded")
        page.locator(browser_support.MAIN_TITLE).first.wait_for(state="visible",
                                                                timeout=browser_support.DEFAULT_TIMEOUT_MS)
        page.locator(NAV_LINK).first.wait_for(state="visible")
        page.wait_for_timeout(1000)  # a "Page not found" dialog would open by now

        assert page.url.rstrip("/").endswith(browser_support.PAGE_PATHS[page_name])
        assert nav_titles(page) == PAGE_TITLES
        assert visible_texts(page, DIALOG) == []
        assert visible_texts(page, browser_support.EXCEPTION_BOX) == []


@pytest.mark.parametrize("page_name", list(browser_support.PAGE_PATHS))
def test_page_runs_without_errors(app_server, page, page_name):
    browser_support.open_app_page(page, app_server.url, page_name)
    browser_support.full_page_screenshot(page, SCREENSHOT_DIR / f"{page_name}.png")

    assert page.locator(browser_support.MAIN_TITLE).first.inner_text().strip()
    assert page.locator(browser_support.STATUS_WIDGET).count() == 0
    assert visible_texts(page, browser_support.EXCEPTION_BOX) == []
    assert visible_texts(page, ERROR_ALERT) == []
    assert visible_texts(page, DIALOG) == []
    assert nav_titles(page) == PAGE_TITLES


# Draw.

def test_draw_predicts_and_clears(app_server, page):
    browser_support.open_app_page(page, app_server.url, "draw")
    empty_message = page.get_by_text(browser_support.EMPTY_CANVAS_MESSAGE)
    consensus = page.get_by_text(browser_support.CONSENSUS_PATTERN)
    assert empty_message.is_visible()
    assert consensus.count() == 0

    # A vertical stroke, drawn with real mouse events, gets a reading from all 7 classifiers.
    browser_support.draw_stroke(page, browser_support.STROKE_OF_ONE)
    digit = browser_support.consensus_digit(page)
    browser_support.full_page_screenshot(page, SCREENSHOT_DIR / "draw-one.png")
    assert 0 <= digit <= 9
    assert page.get_by_text(READERS_PATTERN).is_visible()
    assert empty_message.count() == 0
    assert visible_texts(page, browser_support.EXCEPTION_BOX) == []
    classifiers = [entry for entry in gallery_manifest()["variants"].values() if entry["family"] == "classifier"]
    if all(entry["metrics"]["test_accuracy"] >= WELL_TRAINED_ACCURACY for entry in classifiers):
        assert digit == 1

    # Clear empties the canvas and brings the message back.
    browser_support.clear_canvas(page)
    assert empty_message.is_visible()
    assert consensus.count() == 0

    # The fresh canvas takes a new drawing.
    browser_support.draw_stroke(page, browser_support.STROKE_OF_ONE)
    assert browser_support.consensus_digit(page) == digit

    # The whole 280 px canvas fits its column: none of it is hidden behind a scroll bar.
    scroll_box = page.locator(browser_support.CANVAS_SCROLL_BOX)
    assert scroll_box.evaluate("(element) => element.scrollWidth - element.clientWidth") <= 0


# Latent space.

def test_latent_controls_change_decoded_image(app_server, page):
    browser_support.open_app_page(page, app_server.url, "latent-space")
    slider = page.locator(browser_support.latent_slider("z₁"))
    z1_input = page.get_by_role("spinbutton", name="z₁ value")
    z2_input = page.get_by_role("spinbutton", name="z₂ value")
    first_source = browser_support.decoded_image(page).locator("img").get_attribute("src")

    # Five key presses on the z₁ slider move the point and redraw the digit.
    z1_before = float(slider.input_value())
    key = "ArrowLeft" if z1_before >= float(slider.get_attribute("max")) else "ArrowRight"
    slider.focus()
    for _ in range(5):
        page.keyboard.press(key)
    second_source = browser_support.wait_for_new_decoded_image(page, first_source)
    browser_support.wait_for_settled(page)
    z1 = float(slider.input_value())
    assert second_source != first_source
    assert z1 != pytest.approx(z1_before)
    assert float(z1_input.input_value()) == pytest.approx(z1)
    assert f"({z1:.2f}, " in browser_support.decoded_image(page).inner_text()

    # A typed z₂ value moves the point too, and the z₂ slider follows it.
    low, high = float(z2_input.get_attribute("min")), float(z2_input.get_attribute("max"))
    z2 = round(low + 0.2 * (high - low), 2)
    if z2 == pytest.approx(float(z2_input.input_value()), abs=0.005):
        z2 = round(low + 0.8 * (high - low), 2)
    z2_input.fill(f"{z2:.2f}")
    z2_input.press("Enter")
    third_source = browser_support.wait_for_new_decoded_image(page, second_source)
    browser_support.wait_for_settled(page)
    assert third_source != second_source
    assert f"({z1:.2f}, {z2:.2f})" in browser_support.decoded_image(page).inner_text()
    assert float(page.locator(browser_support.latent_slider("z₂")).input_value()) == pytest.approx(z2)
    browser_support.full_page_screenshot(page, SCREENSHOT_DIR / "latent-space-moved.png")
