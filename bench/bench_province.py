"""The province: a commune's backlog drained into PostgreSQL, 300 communes forwarding
at once against the commune's own SQLite ingest, and the dashboard at scale.

    .venv/bin/python bench/bench_province.py [--ratings 20000] [--seed-communes 300]
                                             [--seed-ratings 1000] [--page-runs 40]

1. A throw-away PostgreSQL database (127.0.0.1:5432), a locked-down province mosquitto
   with the commune enrolled by `hailong province add-commune`, a real
   `hailong province run`.
2. A commune store holding ``--ratings`` ratings (with contacts and reasons), all in
   the forward outbox, as after the province was unreachable; then a real
   `hailong server run` with ``[province] enabled``: seconds until every one is acked.
3. ``--sim-communes`` simulated communes (each its own broker account and MQTT
   connection) forwarding ``--sim-ratings`` each at once, in batches of 500: sustained
   ratings/s stored and acked by the province; then, in the same run, the commune's own
   SQLite ingest: ``--commune-ratings`` kiosk ratings published to the commune broker
   in batches of 500, seconds until the commune server acked them all.
4. ``hailong province seed`` of ``--seed-communes`` × ``--seed-ratings`` (COPY); the
   issue's figure is 20,000,000 (``--seed-ratings 66667``).
5. ``hailong province run`` started again on that store: seconds until the dashboard
   answers; then ``--page-runs`` requests of every page, logged in (ranking for each
   period, a commune's trend, its officials, SIPAS, the report page, the report as
   XLSX and DOCX): p50 and p95 in ms; the PDF (LibreOffice) once.

Prints one JSON line of figures last.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hailong.broker import LocalBroker, free_port  # noqa: E402
from hailong.demo import server_toml  # noqa: E402
from province_support import (TempDatabase, fill_commune, province_broker,  # noqa: E402
                              province_toml)


def hailong(*args: str, log: Path | None = None):
    cmd = [sys.executable, "-m", "hailong", *args]
    if log is None:
        return subprocess.run(cmd, capture_output=True, text=True, check=True)
    return subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def enrol_many(pconf: Path, communes: list[str]) -> dict[str, str]:
    from province import brokerfiles, store
    from province.config import load_province_config
    config = load_province_config(pconf)
    pool = store.connect(config.store.url)
    try:
        return {c: brokerfiles.add_commune(config, pool, c) for c in communes}
    finally:
        pool.close()


def simulate(port: int, passwords: dict[str, str], per_commune: int) -> dict:
    """Every simulated commune publishes its ratings at once; seconds until every id
    is acked (so stored and committed) by the province."""
    import threading
    import uuid

    import paho.mqtt.client as mqtt

    from sync import contract
    acked = 0
    lock, done = threading.Lock(), threading.Event()
    total = per_commune * len(passwords)

    def on_message(client, userdata, msg):
        nonlocal acked
        ack = contract.decode_forward_ack(msg.payload)
        with lock:
            acked += len(ack.stored)
            if acked >= total:
                done.set()

    clients, payloads = [], []
    now = time.time()
    for c, password in passwords.items():
        cl = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=c,
                         protocol=mqtt.MQTTv311)
        cl.username_pw_set(c, password)
        cl.on_message = on_message
        cl.connect("127.0.0.1", port)
        cl.loop_start()
        cl.subscribe(contract.province_topic(c, "acks"), qos=1)
        clients.append((c, cl))
        records = [contract.ForwardedRating(
            id=str(uuid.uuid4()), commune=c, kiosk="k1", counter="q1", score=1 + i % 4,
            scale=4, occurred_at=now - i, official="cb-01", reasons=["cho-doi-lau"])
            for i in range(per_commune)]
        payloads.append([contract.encode_forward_batch(f"b{j}", records[j:j + 500])
                         for j in range(0, per_commune, 500)])
    time.sleep(2)  # every subscription in place
    started = time.monotonic()
    for (c, cl), batches in zip(clients, payloads):
        for payload in batches:
            cl.publish(contract.province_topic(c, "ratings"), payload, qos=1)
    if not done.wait(300):
        raise SystemExit(f"simulated communes: only {acked} of {total} acked in 300 s")
    took = time.monotonic() - started
    for _, cl in clients:  # all at once: each loop_stop waits on its thread
        cl.disconnect()
    for _, cl in clients:
        cl.loop_stop()
    return {"sim_communes": len(passwords), "sim_ratings": total,
            "sim_s": round(took, 2), "sim_ratings_per_s": round(total / took)}


def commune_ingest(port: int, commune: str, n: int) -> dict:
    """``n`` kiosk ratings published to the commune broker at once (batches of 500 from
    kiosk k1): seconds until the commune server (SQLite) acked every one."""
    import threading

    import paho.mqtt.client as mqtt

    from province_support import make_ratings
    from sync import contract
    acked, lock, done = 0, threading.Lock(), threading.Event()

    def on_message(client, userdata, msg):
        nonlocal acked
        ack = contract.decode_ack(msg.payload)
        with lock:
            acked += len(ack.stored) + len(ack.rejected)
            if acked >= n:
                done.set()

    cl = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-k1")
    cl.on_message = on_message
    cl.connect("127.0.0.1", port)
    cl.loop_start()
    cl.subscribe(contract.topic(commune, "k1", "acks"), qos=1)
    raws = make_ratings(commune, n, seed=777)
    payloads = [contract.encode_batch(raws[i:i + 500]) for i in range(0, n, 500)]
    time.sleep(1)
    started = time.monotonic()
    for payload in payloads:
        cl.publish(contract.topic(commune, "k1", "ratings"), payload, qos=1)
    if not done.wait(300):
        raise SystemExit(f"commune ingest: only {acked} of {n} acked in 300 s")
    took = time.monotonic() - started
    cl.disconnect()
    cl.loop_stop()
    return {"commune_ingest_ratings": n, "commune_ingest_s": round(took, 2),
            "commune_ingest_ratings_per_s": round(n / took)}


class Browser:
    """A logged-in dashboard session over plain HTTP (http.client: no redirects
    followed, so the session cookie is read from the login answer)."""

    def __init__(self, port: int, user: str, password: str):
        import http.client
        import urllib.parse
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        body = urllib.parse.urlencode({"username": user, "password": password})
        self.conn.request("POST", "/login", body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"http://127.0.0.1:{port}"})
        r = self.conn.getresponse()
        r.read()
        cookie = r.getheader("Set-Cookie", "")
        if r.status != 302 or not cookie:
            raise SystemExit(f"login failed: {r.status}")
        self.cookie = cookie.split(";")[0]

    def get(self, path: str) -> tuple[int, int, float]:
        started = time.perf_counter()
        self.conn.request("GET", path, headers={"Cookie": self.cookie})
        r = self.conn.getresponse()
        body = r.read()
        return r.status, len(body), (time.perf_counter() - started) * 1000


def wait_for_web(port: int, limit: float = 300) -> float:
    import http.client
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/login")
            if c.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the province dashboard did not answer")


def pages(port: int, runs: int, communes: list[str]) -> dict:
    """p50 / p95 of every dashboard page, ms."""
    import random

    from province.web import quarter_key
    from province.store import local_day
    rnd = random.Random(3)
    b = Browser(port, "bench.admin", "bench-password")
    q = quarter_key(local_day(time.time()))
    paths = {
        "ranking_30d": lambda: "/?days=30", "ranking_90d": lambda: "/?days=90",
        "ranking_365d": lambda: "/?days=365",
        "commune_trend": lambda: f"/commune/{rnd.choice(communes)}",
        "officials": lambda: f"/commune/{rnd.choice(communes)}/officials?days=365",
        "sipas": lambda: f"/sipas?quarter={q}", "reports": lambda: "/reports",
        "report_xlsx": lambda: f"/reports/{q}.xlsx",
        "report_docx": lambda: f"/reports/{q}.docx",
    }
    out = {}
    for name, path in paths.items():
        times = []
        for _ in range(runs):
            status, size, ms = b.get(path())
            if status != 200:
                raise SystemExit(f"{name}: HTTP {status}")
            times.append(ms)
        if name.startswith("report_"):  # the first one builds the file, the rest reuse it
            out[f"first_{name}_ms"] = round(times[0], 1)
        times.sort()
        out[f"p50_{name}_ms"] = round(times[len(times) // 2], 1)
        out[f"p95_{name}_ms"] = round(times[min(len(times) - 1, int(len(times) * 0.95))], 1)
    status, size, ms = b.get(f"/reports/{q}.pdf")
    out["report_pdf_ms"] = round(ms)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ratings", type=int, default=20000)
    ap.add_argument("--seed-communes", type=int, default=300)
    ap.add_argument("--seed-ratings", type=int, default=1000)
    ap.add_argument("--sim-communes", type=int, default=300)
    ap.add_argument("--sim-ratings", type=int, default=500)
    ap.add_argument("--commune-ratings", type=int, default=20000)
    ap.add_argument("--page-runs", type=int, default=40)
    args = ap.parse_args()
    figures: dict = {"backlog": args.ratings}
    with tempfile.TemporaryDirectory() as tmp, TempDatabase() as pg:
        folder = Path(tmp)
        pport = free_port()
        pconf = province_toml(folder, pg.url, pport)
        out = hailong("province", "add-commune", "--config", str(pconf), "xa-bench").stdout
        password = next(line.split('"')[1] for line in out.splitlines()
                        if line.startswith("password"))
        sims = [f"xa-sim-{i:03d}" for i in range(args.sim_communes)]
        sim_passwords = enrol_many(pconf, sims)
        procs = []
        with province_broker(folder, pport), LocalBroker(folder / "commune") as commune:
            store = folder / "commune.db"
            started = time.monotonic()
            for i in range(0, args.ratings, 1000):  # made as the commune's ingest stores them
                fill_commune(store, "xa-bench", min(1000, args.ratings - i), seed=i // 1000 + 1)
            figures["fill_s"] = round(time.monotonic() - started, 1)
            conf = folder / "commune.toml"
            conf.write_text(server_toml(
                commune="xa-bench", store=str(store), port=commune.port, web_port=free_port(),
                extra=(f'\n[province]\nenabled = true\nhost = "127.0.0.1"\nport = {pport}\n'
                       f'username = "xa-bench"\npassword = "{password}"\n')))
            try:
                procs.append(hailong("province", "run", "--config", str(pconf),
                                     log=folder / "province.log"))
                time.sleep(2)
                started = time.monotonic()
                procs.append(hailong("server", "run", "--config", str(conf),
                                     log=folder / "server.log"))
                while True:
                    with sqlite3.connect(store) as conn:
                        left = conn.execute("SELECT count(*) FROM forward_outbox").fetchone()[0]
                    if not left:
                        break
                    if time.monotonic() - started > 600:
                        raise SystemExit(f"not drained after 600 s: {left} left")
                    time.sleep(0.1)
                drain = time.monotonic() - started
                figures["drain_s"] = round(drain, 2)
                figures["drain_ratings_per_s"] = round(args.ratings / drain)
                figures.update(simulate(pport, sim_passwords, args.sim_ratings))
                figures.update(commune_ingest(commune.port, "xa-bench", args.commune_ratings))
                print("so far:", json.dumps(figures), flush=True)
            finally:
                for p in procs:
                    p.terminate()
                    p.wait(timeout=20)
        stats = json.loads(hailong("province", "stats", "--config", str(pconf),
                                   "--json").stdout)
        figures["province_ratings"] = stats["ratings"]
        figures["province_contacts"] = stats["contacts"]
        started = time.monotonic()
        hailong("province", "seed", "--config", str(pconf), "--communes",
                str(args.seed_communes), "--ratings", str(args.seed_ratings))
        figures["seed_ratings"] = args.seed_communes * args.seed_ratings
        figures["seed_s"] = round(time.monotonic() - started, 1)
        figures["seed_ratings_per_s"] = round(figures["seed_ratings"] / figures["seed_s"])
        print("so far:", json.dumps(figures), flush=True)  # a long run's figures so far
        hailong("province", "add-user", "--config", str(pconf), "--role", "province-admin",
                "--password", "bench-password", "bench.admin")
        from province.config import load_province_config
        web_port = load_province_config(pconf).web.port
        with province_broker(folder, pport):
            proc = hailong("province", "run", "--config", str(pconf),
                           log=folder / "province2.log")
            try:
                figures["startup_s"] = round(wait_for_web(web_port), 2)
                seeded = [f"xa-demo-{i + 1:03d}" for i in range(args.seed_communes)]
                figures.update(pages(web_port, args.page_runs, seeded))
                print("so far:", json.dumps(figures), flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
        figures["province_ratings_total"] = json.loads(hailong(
            "province", "stats", "--config", str(pconf), "--json").stdout)["ratings"]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
