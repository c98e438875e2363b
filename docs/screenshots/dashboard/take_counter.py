"""Screenshots of the official's counter page (issue 9) in headless Chromium, on a
phone and a PC, before and after a scanner "types" a dossier code and Enter.

    .venv/bin/python docs/screenshots/dashboard/take_counter.py

A throw-away store with one enrolled kiosk and an official's account; sessions go to a
publisher that only collects them (no broker needed for a picture).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from docs.screenshots.browser import chromium, login  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from server import accounts  # noqa: E402
from server.ingest import feed
from server.config import load_server_config  # noqa: E402
from server.fleet.kiosks import Fleet  # noqa: E402
from server.fleet.roster import Roster  # noqa: E402
from server.ingest.store import connect  # noqa: E402
from server.web.serve import WebServer  # noqa: E402


def build(folder: Path):
    conf = folder / "server.toml"
    conf.write_text('[server]\ncommune = "xa-demo"\ncommune_name = "UBND xã Hài Lòng"\n'
                    '[store]\npath = "server.db"\n[web]\nport = 0\n', encoding="utf-8")
    config = load_server_config(conf)
    db = connect(config.store.path)
    Fleet(db, "xa-demo").enrol("k01", "q1")
    roster = Roster(db)
    roster.add_official("cb-an", "Nguyễn Văn An")
    roster.set_counter("q1", name="Quầy 1 - Tư pháp - Hộ tịch")
    roster.set_on_duty("q1", "cb-an")
    accounts.add_user(db.conn, "an", "official", "mat-khau-demo")
    feed.link_official(db.conn, "an", "cb-an")
    db.close()
    return config


def main() -> None:
    sent: list = []
    with tempfile.TemporaryDirectory() as tmp:
        config = build(Path(tmp))
        with WebServer(config, lambda *a: sent.append(a)) as web:
            shoot(web.url.rstrip("/"))
    print("sessions sent:", len(sent))


def shoot(base: str) -> None:
    with chromium(1280, 800) as driver:
        login(driver, base, "an", "mat-khau-demo")
        for name, width, height in (("counter", 1280, 800), ("counter-phone", 390, 844)):
            driver.set_window_size(width, height)
            driver.get(base + "/counter")
            time.sleep(0.2)
            driver.save_screenshot(str(HERE / f"{name}.png"))
            print("saved", name)
        # what a USB scanner does: the code, then Enter (the field has the focus)
        driver.switch_to.active_element.send_keys("000.31.12.H29-241123-0001" + Keys.ENTER)
        time.sleep(0.5)
        driver.save_screenshot(str(HERE / "counter-sent-phone.png"))
        print("saved counter-sent-phone")


if __name__ == "__main__":
    main()
