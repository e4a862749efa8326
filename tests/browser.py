"""Headless Chromium (Debian's chromium and chromium-driver) driven by Selenium, for page tests."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        return "Debian's chromium and chromium-driver are not installed (scripts/test.sh installs them as root)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (it is in the test extra)"
    return None


@contextmanager
def chromium(width: int = 1280, height: int = 900):
    """A headless Chromium with no network and a fresh profile; quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="augcli-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


PAGE_STATE = """
const images = Array.from(document.images);
const sounds = Array.from(document.querySelectorAll('audio'));
return {
  images: images.length,
  broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
  sounds: sounds.length,
  silent: sounds.filter(a => !(a.duration > 0)).map(a => a.src.slice(0, 40)),
  external: Array.from(document.querySelectorAll('[src],[href]'))
    .map(e => e.getAttribute('src') || e.getAttribute('href'))
    .filter(u => /^(https?:)?\\/\\//.test(u)),
};
"""


def inspect_page(driver, page: Path, screenshot: Path) -> dict:
    """Open `page`, wait for its media, and return what loaded, the console's errors and the
    screenshot's pixel variance (a blank page has none)."""
    import time

    import numpy as np
    from PIL import Image

    driver.get(page.resolve().as_uri())
    deadline = time.monotonic() + 30
    state = driver.execute_script(PAGE_STATE)
    while (state["broken"] or state["silent"]) and time.monotonic() < deadline:
        time.sleep(0.25)
        state = driver.execute_script(PAGE_STATE)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(screenshot))
    pixels = np.asarray(Image.open(screenshot).convert("L"), dtype=np.float64)
    state["variance"] = float(pixels.var())
    state["console"] = [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    return state
