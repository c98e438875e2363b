"""ingest: 10 kiosks draining at once into one server -> sustained ratings/s stored
and acked (10 uplink processes, one server process, one mosquitto). The baseline is
10,000 plain QoS 1 publishes with paho to the same broker, in the same run.

Issue 12: the same on the server store's two engines, SQLite (the default) and
PostgreSQL (a throw-away database on HAILONG_TEST_PG's server, or 127.0.0.1:5432), each
with kiosks whose clocks are synchronised and not (the server then places every rating
from its boot's evidence). One JSON line of figures last."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

from common import (copy_outbox, emit, median, paho_baseline, prepared_outbox, workdir,
                    write_kiosk, write_server)

from hailong.broker import LocalBroker
from sync.outbox import Outbox

KIOSKS = [f"k{n:02d}" for n in range(1, 11)]
PER_KIOSK = 2000
RUNS = int(os.environ.get("HAILONG_BENCH_RUNS", 3))
PG_ADMIN = os.environ.get("HAILONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def hailong(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hailong", "--log-level", "warning", *args])


def pg_database(drop: str | None = None) -> str:
    """A new empty database (its URL), or with ``drop``, that one dropped."""
    import psycopg
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{drop.rsplit("/", 1)[1]}" WITH (FORCE)')
            return drop
        name = f"hailong_bench_{secrets.token_hex(4)}"
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def ingest_once(folder, port, templates, n, url: str = "") -> tuple[float, float]:
    """(seconds from starting the uplinks to all acked, sustained ratings/s from the
    first ack to the last: process start-up on 2 cores left out)"""
    run = folder / f"run{n}"
    run.mkdir()
    server = hailong("server", "run", "--config", str(write_server(run, port, url)))
    stores = [copy_outbox(templates[k], run / f"{k}.db") for k in KIOSKS]
    confs = [write_kiosk(run, k, port, s) for k, s in zip(KIOSKS, stores)]
    time.sleep(2.0)  # the server is up and subscribed
    start = time.perf_counter()
    uplinks = [hailong("sync", "run", "--config", str(c)) for c in confs]
    watches = [Outbox(s) for s in stores]
    first_ack = first_acked = None
    while True:
        counts = [w.counts() for w in watches]
        now = time.perf_counter()
        acked = sum(c["acked"] for c in counts)
        if first_ack is None and acked:
            first_ack, first_acked = now, acked
        if not any(c["pending"] for c in counts):
            break
        if now - start > 300:
            raise SystemExit("not drained after 300 s")
        time.sleep(0.02)
    elapsed = now - start
    sustained = (acked - first_acked) / max(now - first_ack, 1e-6)
    for p in [*uplinks, server]:
        p.terminate()
        p.wait()
    for w in watches:
        w.close()
    return elapsed, sustained


def main() -> None:
    folder = workdir("ingest")
    total = PER_KIOSK * len(KIOSKS)
    figures: dict = {"bench": "ingest", "kiosks": len(KIOSKS), "ratings": total,
                     "runs": RUNS}
    with LocalBroker(folder / "broker", extra="max_queued_messages 1000") as broker:
        baselines = []
        n = 0
        for clock in ("synced", "unsynced"):
            templates = {k: prepared_outbox(folder, k, PER_KIOSK, clock) for k in KIOSKS}
            for engine in ("sqlite", "postgresql"):
                times, rates = [], []
                for _ in range(RUNS):
                    baselines.append(paho_baseline(broker.port))
                    url = pg_database() if engine == "postgresql" else ""
                    try:
                        elapsed, sustained = ingest_once(folder, broker.port, templates, n,
                                                         url)
                    finally:
                        if url:
                            pg_database(drop=url)
                    n += 1
                    times.append(elapsed)
                    rates.append(sustained)
                    print(f"{engine}, {clock} clocks: paho {baselines[-1]:.0f} msg/s; "
                          f"{total} ratings from {len(KIOSKS)} kiosks in {elapsed:.2f} s, "
                          f"sustained {sustained:.0f}/s", file=sys.stderr)
                # the first pair keeps the names earlier runs of this bench printed
                key = "" if (engine, clock) == ("sqlite", "synced") else f"{engine}_{clock}_"
                figures[f"{key}seconds_incl_uplink_start_median"] = median(times)
                figures[f"{key}sustained_ratings_per_s_median"] = round(median(rates))
    figures["paho_qos1_msgs_per_s_median"] = round(median(baselines))
    figures["ratio_sustained_to_paho"] = round(
        figures["sustained_ratings_per_s_median"] / median(baselines), 2)
    emit(figures)


if __name__ == "__main__":
    main()
