"""Headless Chromium for the screenshot scripts (dashboard/take*.py, province/take.py,
the province demo's): start it, log in, save a page at a width.

The system's Chromium and chromedriver (Debian `chromium`, `chromium-driver`), driven by
selenium as the dashboard tests do; no network of its own (no update checks).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1")
DESKTOP = (1366, 768)
PHONE_HEIGHT = 844      # an iPhone 12-14 at 390 wide
TALLEST = 2600          # a longer page is cut here: a picture, not a scroll


@contextlib.contextmanager
def chromium(width: int = DESKTOP[0], height: int = DESKTOP[1]) -> Iterator[webdriver.Chrome]:
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        driver.set_window_size(width, height)
        yield driver
    finally:
        driver.quit()


def login(driver, base: str, username: str, password: str, *, go: bool = True,
          button: str = "form button[type=submit]") -> None:
    """Fill the login form and send it (``go``: open /login first)."""
    if go:
        driver.get(base + "/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, button).click()


def save_page(driver, out: Path, width: int) -> None:
    """The page open now, ``width`` wide and as tall as it is at that width (at least a
    screen, at most TALLEST), saved to ``out``; the window is a desktop's again after."""
    screen = DESKTOP[1] if width > 500 else PHONE_HEIGHT
    driver.set_window_size(width, screen)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    # The window's size counts the browser's own bars (143 px in headless Chromium),
    # the screenshot only the page: without them a long page came out cut at the foot.
    bars = driver.execute_script("return window.outerHeight - window.innerHeight")
    driver.set_window_size(width, min(max(height + bars, screen), TALLEST))
    time.sleep(0.2)  # the resize's layout and the charts' redraw
    driver.save_screenshot(str(out))
    print("saved", out.name)
    driver.set_window_size(*DESKTOP)
