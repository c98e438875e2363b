"""ingest: 10 kiosks draining at once into one server -> sustained ratings/s stored
and acked (10 uplink processes, one server process, one mosquitto). The baseline is
10,000 plain QoS 1 publishes with paho to the same broker, in the same run."""

from __future__ import annotations

import subprocess
import sys
import time

from common import (copy_outbox, emit, median, paho_baseline, prepared_outbox, workdir,
                    write_kiosk, write_server)

from hailong.broker import LocalBroker
from sync.outbox import Outbox

KIOSKS = [f"k{n:02d}" for n in range(1, 11)]
PER_KIOSK = 2000
RUNS = 3


def hailong(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hailong", "--log-level", "warning", *args])


def ingest_once(folder, port, templates, n) -> tuple[float, float]:
    """(seconds from starting the uplinks to all acked, sustained ratings/s from the
    first ack to the last: process start-up on 2 cores left out)"""
    run = folder / f"run{n}"
    run.mkdir()
    server = hailong("server", "run", "--config", str(write_server(run, port)))
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
    templates = {k: prepared_outbox(folder, k, PER_KIOSK) for k in KIOSKS}
    total = PER_KIOSK * len(KIOSKS)
    with LocalBroker(folder / "broker", extra="max_queued_messages 1000") as broker:
        baselines, times, rates = [], [], []
        for n in range(RUNS):
            baselines.append(paho_baseline(broker.port))
            elapsed, sustained = ingest_once(folder, broker.port, templates, n)
            times.append(elapsed)
            rates.append(sustained)
            print(f"run {n}: paho {baselines[-1]:.0f} msg/s; {total} ratings from "
                  f"{len(KIOSKS)} kiosks in {elapsed:.2f} s, sustained {sustained:.0f}/s",
                  file=sys.stderr)
    emit({"bench": "ingest", "kiosks": len(KIOSKS), "ratings": total, "runs": RUNS,
          "seconds_incl_uplink_start_median": median(times),
          "sustained_ratings_per_s_median": round(median(rates)),
          "paho_qos1_msgs_per_s_median": round(median(baselines)),
          "ratio_sustained_to_paho": round(median(rates) / median(baselines), 2)})


if __name__ == "__main__":
    main()
