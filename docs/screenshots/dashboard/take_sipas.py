"""The SIPAS section of the reports page (issue 12) in headless Chromium.

    .venv/bin/python docs/screenshots/dashboard/take_sipas.py

Stores 300 ratings with survey answers through the ingest path (Store.add_ratings) in a
throw-away store, serves the dashboard and saves ``reports-sipas.png`` next to this file.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from selenium.webdriver.common.by import By  # noqa: E402

from docs.screenshots.browser import chromium, login  # noqa: E402

from hailong import sipas  # noqa: E402
from server import accounts  # noqa: E402
from server.config import load_server_config  # noqa: E402
from server.ingest.store import Store  # noqa: E402
from server.followup.watch import Watcher  # noqa: E402
from server.web.serve import WebServer  # noqa: E402

# how likely each factor's answer is satisfied in the sample (the procedure lags)
LEAN = {"access": 0.85, "procedure": 0.6, "official": 0.9, "result": 0.8, "feedback": 0.55}


def build_store(folder: Path):
    conf = folder / "server.toml"
    conf.write_text('[server]\ncommune = "xa-demo"\ncommune_name = "UBND xã Hài Lòng"\n'
                    '[store]\npath = "server.db"\n[web]\nport = 0\n', encoding="utf-8")
    config = load_server_config(conf)
    rnd = random.Random(12)
    raws = []
    for i in range(300):
        answers = []
        for q in sipas.DEFAULT_QUESTIONS[:rnd.randint(0, 5)]:
            good = rnd.random() < LEAN[q.factor]
            answers.append({"q": q.code, "factor": q.factor, "scale": 4,
                            "level": rnd.choice((3, 4) if good else (1, 2))})
        raws.append(json.dumps({
            "id": str(uuid.uuid4()), "v": 1, "kiosk": "k01", "commune": "xa-demo",
            "counter": "q1", "score": rnd.choice((2, 3, 4, 4)), "scale": 4,
            "created_at": time.time() - i * 600, "clock_synced": True,
            "boot_id": str(uuid.uuid4()), "mono": 100.0, "official": "cb-an",
            "survey": answers}).encode())
    with Store(config.store.path) as store:
        with store.db.atomic():
            store.add_ratings("xa-demo", "k01", raws, time.time())
        accounts.add_user(store.db.conn, "chutich", "leader", "mat-khau-demo")
        store.db.conn.commit()
    return config


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = build_store(Path(tmp))
        with Watcher(config) as watcher:
            watcher.round()
            with WebServer(config) as web:
                shoot(web.url.rstrip("/"))


def shoot(base: str) -> None:
    with chromium(1366, 2000) as driver:
        login(driver, base, "chutich", "mat-khau-demo")
        driver.get(base + "/reports?period=quarter")
        driver.find_element(By.ID, "sipas").screenshot(str(HERE / "reports-sipas.png"))
        print("saved reports-sipas")


if __name__ == "__main__":
    main()
