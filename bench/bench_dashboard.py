"""Dashboard under load: page times over 1,000,000 seeded ratings, and the ingest rate
with and without people browsing, in the same run.

    .venv/bin/python bench/bench_dashboard.py [--ratings 1000000] [--backlog 3000]

1. Seeds a store with ``--ratings`` ratings over a year (``server/seed.py``), starts a
   private mosquitto and a real ``hailong server run`` (ingest + dashboard).
2. Page times: each page ``--rounds`` times, one after another, logged in as a
   leader: p50 / p95 / max in ms.
3. Ingest: two kiosks each get ``--backlog`` ratings recorded in their outbox
   (the citizen's path); kiosk A's uplink is started alone and the time until all
   are stored gives the rate with nobody browsing; then kiosk B's with
   ``--browsers`` threads loading pages all the time, whose page times are also kept.

Prints one JSON line of figures last.
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hailong.broker import LocalBroker  # noqa: E402
from hailong.demo import kiosk_toml, server_toml  # noqa: E402
from kiosk.config import load_kiosk_config  # noqa: E402
from kiosk.outbox import Outbox  # noqa: E402
from kiosk.recorder import Recorder  # noqa: E402
from kiosk.simulate import simulate  # noqa: E402
from server import accounts, seed  # noqa: E402
from server.figures import parse_period  # noqa: E402
from server.store import connect  # noqa: E402
from server.web.serve import pick_port  # noqa: E402

COMMUNE = "xa-bench"
PASSWORD = "bench-password"


def pages() -> dict[str, str]:
    q = parse_period("quarter").key
    return {"overview": "/", "officials": f"/officials?period={q}",
            "official": f"/officials/cb-le-van-cuong?period={q}",
            "report": f"/reports?period={q}", "report_year": "/reports?period=year",
            "cases": "/cases", "api_report": f"/api/v1/report?period={q}"}


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


def hailong(*args: str, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "hailong", *args], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def ingest_run(folder: Path, kiosk_conf: Path, db_path: Path, expect: int) -> float:
    """Start one kiosk's uplink and time until all its backlog is stored: ratings / s."""
    start_count = stored(db_path)
    proc = hailong("sync", "run", "--config", str(kiosk_conf),
                   log=folder / f"{kiosk_conf.stem}.log")
    t = time.perf_counter()
    try:
        while stored(db_path) < start_count + expect:
            if time.perf_counter() - t > 600:
                raise SystemExit("ingest did not finish in 10 minutes")
            time.sleep(0.05)
        return expect / (time.perf_counter() - t)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ratings", type=int, default=1_000_000)
    ap.add_argument("--backlog", type=int, default=3000)
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
            kiosks = []
            for k in ("ka", "kb"):
                conf = folder / f"kiosk-{k}.toml"
                conf.write_text(kiosk_toml(kiosk=k, commune=COMMUNE, port=broker.port,
                                           store=str(folder / f"kiosk-{k}.db")))
                config = load_kiosk_config(conf)
                with Outbox(config.store.path) as outbox:
                    simulate(Recorder.from_config(config, outbox), args.backlog, seed=7,
                             officials=("cb-nguyen-van-an", "cb-le-van-cuong"))
                kiosks.append(conf)
            print(f"recorded {args.backlog} ratings in each of 2 kiosk outboxes",
                  file=sys.stderr)

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
                rate_quiet = ingest_run(folder, kiosks[0], db_path, args.backlog)

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
                rate_browsing = ingest_run(folder, kiosks[1], db_path, args.backlog)
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
        "ingest_backlog_per_kiosk": args.backlog,
        "ingest_rate_quiet_per_s": round(rate_quiet, 1),
        "ingest_rate_browsing_per_s": round(rate_browsing, 1),
        "browsers": args.browsers,
        "ingest_errors_in_log": log.count("ingest failed"),
        "p95_max_idle_ms": max(v["p95_ms"] for v in figures(idle).values()),
    }
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
