"""Every dashboard page on a phone (390x844) in headless Debian Chromium, on seeded
data (issue 10): no horizontal scroll, no chart text under 12 px, the menu folded
away, the follow-up queue as cards with each deadline on screen. The same pages at
1366x768 keep their tables whole (the fields page used to clip its last column)."""

from __future__ import annotations

import shutil
import time

import pytest

from server import accounts
from server.followup import cases as followup
from server.ingest import seed
from server.ingest.store import connect
from server.followup.watch import Watcher
from server.web.serve import WebServer

from dashboard_support import load

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)),
                                reason="Debian's chromium and chromium-driver are needed")

PAGES = ["/", "/officials", "/officials/{official}", "/counters", "/fields", "/cases",
         "/cases?state=all&page=2", "/cases/{case}", "/fleet", "/alerts", "/audit",
         "/reports", "/reports?period=prev-quarter", "/fields?from=2026-01-01&to=2026-06-30"]

# What the page measures, in one script: the document's overflow, chart text as drawn
# (computed font size times the SVG's own scale), the menu's height, the deadlines.
MEASURE = """
const out = {scroll: document.documentElement.scrollWidth - window.innerWidth,
             small: [], header: document.querySelector('header.top').offsetHeight,
             deadlines: 0, hidden_deadlines: 0, clipped: []};
for (const t of document.querySelectorAll('svg text')) {
  const r = t.getBoundingClientRect();
  if (!r.width || !t.getClientRects().length) continue;
  const svg = t.ownerSVGElement, m = svg.getScreenCTM();
  const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
  if (px < 12) out.small.push([t.textContent, Math.round(px * 10) / 10]);
}
for (const d of document.querySelectorAll('table.cases td.deadline')) {
  const r = d.getBoundingClientRect();
  out.deadlines++;
  if (!r.width || r.left < 0 || r.right > window.innerWidth) out.hidden_deadlines++;
}
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.width && r.right > window.innerWidth + 1) out.clipped.push(el.tagName + '.' + el.className);
}
// A table box that scrolls (or clips) sideways hides its last column.
for (const box of document.querySelectorAll('.scroll')) {
  if (box.scrollWidth > box.clientWidth + 1) out.clipped.push('scrolling box: ' + box.innerText.slice(0, 30));
}
// Text that runs past the edge (a cell too narrow for its words) counts too.
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n; (n = walker.nextNode());) {
  const range = document.createRange();
  range.selectNodeContents(n);
  const r = range.getBoundingClientRect();
  if (r.width && r.right > window.innerWidth + 1) out.clipped.push(n.textContent.slice(0, 30));
}
return out;
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("phone")
    config = load(folder)
    db = connect(config.store)
    seed.seed(db, 6000, days=400, commune="xa-test")
    accounts.add_user(db.conn, "chutich", "leader", "mat-khau-demo")
    case = db.execute("SELECT max(id) FROM cases WHERE state != 'closed'").fetchone()[0]
    official = db.execute("SELECT official FROM cases WHERE id = ?", [case]).fetchone()[0]
    followup.assign(db.conn, case, "chutich", "chutich")
    followup.close(db.conn, case - 1, "explained", "chutich")
    db.close()
    with Watcher(config) as watcher:
        watcher.round()
        with WebServer(config) as web:
            yield web.url.rstrip("/"), {"case": case, "official": official}


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
                 "--lang=vi"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _login(driver, base):
    from selenium.webdriver.common.by import By
    driver.get(base + "/login")
    if "/login" not in driver.current_url:
        return  # still signed in from the test before
    driver.find_element(By.NAME, "username").send_keys("chutich")
    driver.find_element(By.NAME, "password").send_keys("mat-khau-demo")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    deadline = time.monotonic() + 20
    while "/login" in driver.current_url and time.monotonic() < deadline:
        time.sleep(0.2)


def _viewport(driver, w, h):
    driver.set_window_size(w, h)
    # The window includes no chrome in headless mode, but make sure of the viewport.
    inner = driver.execute_script("return window.innerWidth")
    if inner != w:
        driver.set_window_size(w + (w - inner), h)


def test_every_page_fits_a_phone(site, browser):
    base, ids = site
    _login(browser, base)
    _viewport(browser, 390, 844)
    problems = {}
    for path in PAGES:
        browser.get(base + path.format(**ids))
        m = browser.execute_script(MEASURE)
        bad = {}
        if m["scroll"] > 0 or m["clipped"]:
            bad["horizontal scroll px"] = (m["scroll"], m["clipped"][:4])
        if m["small"]:
            bad["chart text < 12px"] = m["small"][:5]
        if m["header"] > 140:
            bad["menu height px"] = m["header"]
        if m["hidden_deadlines"]:
            bad["deadlines off screen"] = m["hidden_deadlines"]
        if path.startswith("/cases?") and not m["deadlines"]:
            bad["no deadline shown"] = True
        if bad:
            problems[path] = bad
    assert not problems, problems


def test_menu_opens_on_a_phone(site, browser):
    from selenium.webdriver.common.by import By
    base, _ = site
    _login(browser, base)
    _viewport(browser, 390, 844)
    browser.get(base + "/")
    nav = browser.find_element(By.ID, "menu")
    assert not nav.is_displayed()
    browser.find_element(By.CSS_SELECTOR, "label.menu-button").click()
    assert nav.is_displayed()
    links = nav.find_elements(By.TAG_NAME, "a")
    assert len(links) >= 8 and all(a.is_displayed() for a in links)


def test_desktop_pages_are_whole_at_1366(site, browser):
    base, ids = site
    _login(browser, base)
    _viewport(browser, 1366, 768)
    problems = {}
    for path in PAGES:
        browser.get(base + path.format(**ids))
        m = browser.execute_script(MEASURE)
        if m["scroll"] > 0 or m["clipped"]:
            problems[path] = (m["scroll"], m["clipped"][:5])
    assert not problems, problems
