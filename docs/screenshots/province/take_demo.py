"""Screenshots of a running province demo's dashboard (``hailong demo --province``).

    .venv/bin/hailong demo --province --communes 3      # in one terminal
    .venv/bin/python docs/screenshots/province/take_demo.py http://127.0.0.1:8090/

The demo's three communes each have their own character (hailong/demo_province.py,
CHARACTERS): one good, one average, one with a problem official. Saves demo-*.png next
to this file: the ranking, the problem commune's trend and officials, and the SIPAS
page, at a desktop's width (1366) and a phone's (390).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from docs.screenshots.browser import chromium, login, save_page  # noqa: E402
from hailong.demo_province import PROVINCE_LOGIN  # noqa: E402

PROBLEM = "xa-cat-tien"  # the third commune: the problem official's
PAGES = [
    ("demo-ranking", "/?days=90", 1366), ("demo-ranking-phone", "/?days=90", 390),
    ("demo-commune", f"/commune/{PROBLEM}", 1366),
    ("demo-commune-phone", f"/commune/{PROBLEM}", 390),
    ("demo-officials", f"/commune/{PROBLEM}/officials?days=90", 1366),
    ("demo-sipas", "/sipas", 1366), ("demo-sipas-phone", "/sipas", 390),
]


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: take_demo.py PROVINCE-DASHBOARD-URL (as the demo prints it)")
    base = sys.argv[1].rstrip("/")
    with chromium() as driver:
        login(driver, base, *PROVINCE_LOGIN, button="form button")
        for name, path, width in PAGES:
            driver.get(base + path)
            save_page(driver, HERE / f"{name}.png", width)


if __name__ == "__main__":
    main()
