"""drain: 10,000 pending ratings on one kiosk, broker and server up -> seconds until
all are acked. Compared with publishing 10,000 plain QoS 1 messages with paho to the
same broker in the same run (the baseline). Target: <= 5 s, ratio >= 1."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from common import (copy_outbox, emit, median, paho_baseline, prepared_outbox, workdir,
                    write_kiosk, write_server)

from hailong.broker import LocalBroker
from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from sync.uplink import Uplink

COUNT = 10_000
RUNS = 5


def drain_once(folder, port, template, n) -> float:
    run = folder / f"run{n}"
    run.mkdir()
    server = subprocess.Popen([sys.executable, "-m", "hailong", "--log-level", "warning",
                               "server", "run", "--config", str(write_server(run, port))])
    store = copy_outbox(template, run / "outbox.db")
    config = load_kiosk_config(write_kiosk(run, "k01", port, store))
    time.sleep(1.0)  # the server is up and subscribed
    uplink = Uplink(config)
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,))
    start = time.perf_counter()
    thread.start()
    with Outbox(store) as watch:
        while watch.counts()["pending"]:
            if not thread.is_alive() or time.perf_counter() - start > 120:
                raise SystemExit("the uplink stopped or took over 120 s")
            time.sleep(0.01)
    elapsed = time.perf_counter() - start
    stop.set()
    thread.join()
    server.terminate()
    server.wait()
    return elapsed


def main() -> None:
    folder = workdir("drain")
    template = prepared_outbox(folder, "k01", COUNT)
    with LocalBroker(folder / "broker") as broker:
        baselines, drains = [], []
        for n in range(RUNS):
            baselines.append(paho_baseline(broker.port, COUNT))
            drains.append(drain_once(folder, broker.port, template, n))
            print(f"run {n}: paho {baselines[-1]:.0f} msg/s, drain {drains[-1]:.2f} s "
                  f"({COUNT / drains[-1]:.0f} ratings/s)", file=sys.stderr)
    rate = COUNT / median(drains)
    emit({"bench": "drain", "ratings": COUNT, "runs": RUNS,
          "drain_seconds_median": median(drains),
          "drain_ratings_per_s_median": round(rate),
          "paho_qos1_msgs_per_s_median": round(median(baselines)),
          "ratio_drain_to_paho": round(rate / median(baselines), 2),
          "target_seconds": 5.0})


if __name__ == "__main__":
    main()
