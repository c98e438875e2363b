"""Screenshots of the dashboard's main pages in headless Chromium, on seeded data.

    .venv/bin/python docs/screenshots/dashboard/take.py

Seeds a throw-away store (a year of ratings, a few kiosks with health, open cases,
alerts), serves the dashboard in this process and saves PNGs next to this file.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from docs.screenshots.browser import chromium, login, save_page  # noqa: E402

from server import accounts  # noqa: E402
from server.followup import cases as followup
from server.ingest import seed
from server.config import load_server_config  # noqa: E402
from server.ingest.store import connect  # noqa: E402
from server.followup.watch import Watcher  # noqa: E402
from server.web.serve import WebServer  # noqa: E402

PAGES = [
    ("login", "/login", "vi", 1366),
    ("overview", "/", "vi", 1366),
    ("overview-phone", "/", "vi", 390),
    ("overview-en", "/", "en", 1366),
    ("officials", "/officials?period=quarter", "vi", 1366),
    ("officials-phone", "/officials?period=quarter", "vi", 390),
    ("official", "/officials/cb-le-van-cuong?period=quarter", "vi", 1366),
    ("counters", "/counters?period=prev-quarter", "vi", 1366),
    ("fields", "/fields?period=quarter", "vi", 1366),
    ("fields-phone", "/fields?period=quarter", "vi", 390),
    ("cases", "/cases", "vi", 1366),
    ("cases-phone", "/cases", "vi", 390),
    ("case", "/cases/{case}", "vi", 1366),
    ("case-phone", "/cases/{case}", "vi", 390),
    ("fleet", "/fleet", "vi", 1366),
    ("alerts", "/alerts", "vi", 1366),
    ("alerts-phone", "/alerts", "vi", 390),
    ("audit", "/audit", "vi", 1366),
    ("reports", "/reports?period=2026-Q3", "vi", 1366),
    ("reports-phone", "/reports?period=2026-Q3", "vi", 390),
    ("users", "/users", "vi", 1366),
]


def build_store(folder: Path):
    conf = folder / "server.toml"
    conf.write_text('[server]\ncommune = "xa-demo"\ncommune_name = "UBND xã Hài Lòng"\n'
                    '[store]\npath = "server.db"\n[web]\nport = 0\n', encoding="utf-8")
    config = load_server_config(conf)
    db = connect(config.store.path)
    seed.seed(db, 60_000, days=365)
    accounts.add_user(db.conn, "chutich", "leader", "mat-khau-demo")
    now = time.time()
    kiosks = [("k01", 1, now - 20, {"backlog": 0, "version": "0.1.0", "clock_synced": True}, 0.4),
              ("k02", 1, now - 35, {"backlog": 3, "version": "0.1.0", "clock_synced": True}, -1.2),
              ("k03", 0, now - 5400, {"backlog": 214, "version": "0.1.0",
                                      "clock_synced": False, "last_error": "broker unreachable"},
               None),
              ("k04", 1, now - 12, {"backlog": 0, "version": "0.1.0", "clock_synced": True}, 0.1)]
    for n, (k, online, seen, status, skew) in enumerate(kiosks, start=1):
        db.conn.execute("INSERT OR REPLACE INTO enrolled_kiosks (id, commune, counter, "
                        "password_hash, enrolled_at) VALUES (?,?,?,?,?)",
                        [k, "xa-demo", f"q{n}", "(screenshot)", now - 90 * 86400])
        db.conn.execute("INSERT OR REPLACE INTO kiosks (id, commune, online, last_seen, status, "
                        "clock_skew) VALUES (?,?,?,?,?,?)",
                        [k, "xa-demo", online, seen, json.dumps(status), skew])
    db.conn.commit()
    case = db.execute("SELECT c.id FROM cases c JOIN contacts t ON t.rating_id = c.rating_id "
                      "WHERE c.state = 'open' ORDER BY c.id DESC LIMIT 1").fetchone()
    case_id = case[0] if case else db.execute(
        "SELECT max(id) FROM cases WHERE state = 'open'").fetchone()[0]
    followup.assign(db.conn, case_id, "chutich", "chutich")
    followup.add_note(db.conn, case_id, "Đã gọi điện cho người dân, hẹn gặp lại chiều nay.",
                      "chutich")
    followup.set_deadline(db.conn, case_id, followup.get(db.conn, case_id)["deadline"] + 86400,
                          "Chờ người dân đến bổ sung giấy tờ", "chutich")
    db.close()
    return config, case_id


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config, case_id = build_store(Path(tmp))
        with Watcher(config) as watcher:
            watcher.round()
            with WebServer(config) as web:
                shoot(web.url.rstrip("/"), case_id)


def shoot(base: str, case_id: int) -> None:
    with chromium() as driver:
        driver.get(base + "/login")
        driver.save_screenshot(str(HERE / "login.png"))
        login(driver, base, "chutich", "mat-khau-demo", go=False)
        for name, path, lang, width in PAGES[1:]:
            driver.get(f"{base}/lang/{lang}?next=/login")
            driver.get(base + path.format(case=case_id))
            save_page(driver, HERE / f"{name}.png", width)


if __name__ == "__main__":
    main()
