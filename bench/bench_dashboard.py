"""Dashboard under load: page times over 1,000,000 seeded ratings, and the ingest rate
with and without people browsing, in the same run.

    .venv/bin/python bench/bench_dashboard.py [--ratings 1000000] [--backlog 3000]

1. Seeds a store with ``--ratings`` ratings over a year (``server/ingest/seed.py``), starts a
   private mosquitto and a real ``hailong server run`` (ingest + dashboard).
2. Page times: each page ``--rounds`` times, one after another, logged in as a
   leader: p50 / p95 / max in ms.
3. Ingest: ``--backlog`` ratings are published as kiosk A in QoS 1 batches of 500
   (what an uplink with a backlog sends) and the time until all are stored gives
   the rate with nobody browsing; then as kiosk B while ``--browsers`` threads load
   pages all the time, whose page times are kept too.

Prints one JSON line of figures last.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from hailong.broker import LocalBroker  # noqa: E402
from hailong.demo import server_toml  # noqa: E402
from server import accounts  # noqa: E402
from server.ingest import seed
from server.reports.figures import parse_period  # noqa: E402
from server.ingest.store import connect  # noqa: E402
from server.web.serve import pick_port  # noqa: E402
from sync import contract  # noqa: E402

COMMUNE = "xa-bench"
PASSWORD = "bench-password"


def pages() -> dict[str, str]:
    q = parse_period("quarter").key
    return {"overview": "/", "officials": f"/officials?period={q}",
            "official": f"/officials/cb-le-van-cuong?period={q}",
            "report": f"/reports?period={q}", "report_year": "/reports?period=year",
            "cases": "/cases", "api_report": f"/api/v1/report?period={q}",
            # issue 10: a deep page of the queue, its filters, a date range, last quarter
            "cases_page40": "/cases?state=all&page=40",
            "cases_filtered": "/cases?state=all&official=cb-le-van-cuong&assignee=-"
                              "&from=2026-01-01&to=2026-06-30",
            "fields_range": "/fields?from=2026-01-01&to=2026-06-30",
            "officials_prev": "/officials?period=prev-quarter"}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))], 1)


def figures(times: dict[str, list[float]]) -> dict:
    return {name: {"p50_ms": pct(v, 0.5), "p95_ms": pct(v, 0.95), "max_ms": round(max(v), 1),
                   "n": len(v)} for name, v in times.items() if v}


def login(base: str) -> requests.Session:
    s = requests.Session()
    r = s.post(base + "/login", data={"username": "bench", "password": PASSWORD},
               allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.status_code
    return s


def load_pages(base: str, rounds: int) -> dict[str, list[float]]:
    s = login(base)
    times: dict[str, list[float]] = {name: [] for name in pages()}
    for _ in range(rounds):
        for name, path in pages().items():
            t = time.perf_counter()
            r = s.get(base + path, timeout=60)
            times[name].append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (path, r.status_code)
    return times


def stored(db_path: Path) -> int:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM ratings").fetchone()[0]
    finally:
        conn.close()


def hailong(*args: str, log: Path) -> subprocess.Popen:  # a real server process
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "hailong", *args], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def make_batches(kiosk: str, count: int, size: int = 500) -> list[bytes]:
    """``count`` valid rating records from ``kiosk``, in batches as an uplink sends them."""
    rng = random.Random(kiosk)
    boot = str(uuid.uuid4())
    now = time.time()
    raws = []
    for n in range(count):
        score = rng.choices((4, 3, 2, 1), (0.58, 0.30, 0.08, 0.04))[0]
        raws.append(json.dumps({
            "id": str(uuid.uuid4()), "v": 1, "kiosk": kiosk, "commune": COMMUNE,
            "counter": "q1", "score": score, "scale": 4, "created_at": now - count + n,
            "clock_synced": True, "boot_id": boot, "mono": 1000.0 + n,
            "official": rng.choice(("cb-nguyen-van-an", "cb-le-van-cuong")),
            "reasons": ["long-wait"] if score == 1 else [], "dossier": f"H{n:09d}",
            "procedure": "Đăng ký khai sinh", "field": "Hộ tịch"}).encode())
    return [contract.encode_batch(raws[i:i + size]) for i in range(0, count, size)]


def ingest_run(port: int, kiosk: str, db_path: Path, count: int) -> float:
    """Publish ``count`` ratings as kiosk ``kiosk`` (QoS 1 batches, as the uplink does)
    and time until all are stored: ratings per second."""
    batches = make_batches(kiosk, count)
    start_count = stored(db_path)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{kiosk}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    t = time.perf_counter()
    try:
        for payload in batches:
            client.publish(contract.topic(COMMUNE, kiosk, "ratings"), payload, qos=1
                           ).wait_for_publish(30)
        while stored(db_path) < start_count + count:
            if time.perf_counter() - t > 600:
                raise SystemExit("ingest did not finish in 10 minutes")
            time.sleep(0.05)
        return count / (time.perf_counter() - t)
    finally:
        client.loop_stop()
        client.disconnect()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ratings", type=int, default=1_000_000)
    ap.add_argument("--backlog", type=int, default=40000)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--browsers", type=int, default=2)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        folder = Path(tmp)
        db_path = folder / "server.db"
        t = time.perf_counter()
        db = connect(db_path)
        seed.seed(db, args.ratings, commune=COMMUNE)
        accounts.add_user(db.conn, "bench", "leader", PASSWORD)
        db.close()
        seed_s = time.perf_counter() - t
        print(f"seeded {args.ratings} ratings in {seed_s:.1f} s", file=sys.stderr)

        with LocalBroker(folder / "broker") as broker:
            web_port = pick_port(preferred=0)
            server_conf = folder / "server.toml"
            server_conf.write_text(server_toml(commune=COMMUNE, store=str(db_path),
                                               port=broker.port, web_port=web_port))
            t = time.perf_counter()
            server = hailong("server", "run", "--config", str(server_conf),
                             log=folder / "server.log")
            base = f"http://127.0.0.1:{web_port}"
            while True:
                try:
                    if requests.get(base + "/login", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.perf_counter() - t > 300:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
            startup_s = time.perf_counter() - t
            try:
                idle = load_pages(base, args.rounds)
                rate_quiet = ingest_run(broker.port, "ka", db_path, args.backlog)

                stop = threading.Event()
                busy: dict[str, list[float]] = {name: [] for name in pages()}

                def browse() -> None:
                    s = login(base)
                    while not stop.is_set():
                        for name, path in pages().items():
                            t0 = time.perf_counter()
                            s.get(base + path, timeout=60)
                            busy[name].append((time.perf_counter() - t0) * 1000)
                            if stop.is_set():
                                break

                browsers = [threading.Thread(target=browse) for _ in range(args.browsers)]
                for b in browsers:
                    b.start()
                time.sleep(1)
                rate_browsing = ingest_run(broker.port, "kb", db_path, args.backlog)
                stop.set()
                for b in browsers:
                    b.join()
                after = load_pages(base, 5)  # figures caught up with the new ratings
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
        log = (folder / "server.log").read_text(errors="replace")

    result = {
        "ratings_seeded": args.ratings, "seed_s": round(seed_s, 1),
        "server_startup_s": round(startup_s, 1),
        "pages_idle": figures(idle),
        "pages_while_ingesting": figures(busy),
        "pages_after": figures(after),
        "ingest_ratings_per_phase": args.backlog,
        "ingest_rate_quiet_per_s": round(rate_quiet, 1),
        "ingest_rate_browsing_per_s": round(rate_browsing, 1),
        "browsers": args.browsers,
        "ingest_errors_in_log": log.count("ingest failed"),
        "p95_max_idle_ms": max(v["p95_ms"] for v in figures(idle).values()),
    }
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
