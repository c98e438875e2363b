"""What the benchmarks share: a private broker, configs, a prepared outbox, the paho
baseline, and the one JSON line of figures each prints last."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hailong.demo import kiosk_toml, server_toml  # noqa: E402
from kiosk.config import load_kiosk_config  # noqa: E402
from sync.outbox import Outbox  # noqa: E402
from kiosk.recorder import Recorder  # noqa: E402
from kiosk.simulate import simulate  # noqa: E402

COMMUNE = "xa-bench"


def median(values) -> float:
    return round(statistics.median(values), 3)


def emit(figures: dict) -> None:
    print(json.dumps(figures, sort_keys=True), flush=True)


def workdir(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"hailong-bench-{name}-"))


def write_server(folder: Path, port: int, store_url: str = "") -> Path:
    """``store_url``: a PostgreSQL database for the server's store (issue 12); empty:
    SQLite in ``folder``."""
    conf = folder / "server.toml"
    conf.write_text(server_toml(commune=COMMUNE, store=str(folder / "server.db"), port=port,
                                store_url=store_url))
    return conf


def write_kiosk(folder: Path, kiosk: str, port: int, store: Path, extra: str = "",
                clock: str = "synced") -> Path:
    conf = folder / f"{kiosk}.toml"
    conf.write_text(kiosk_toml(kiosk=kiosk, commune=COMMUNE, store=str(store), port=port,
                               clock=clock,
                               extra=extra or os.environ.get("HAILONG_BENCH_KIOSK_EXTRA", "")))
    return conf


def prepared_outbox(folder: Path, kiosk: str, count: int, clock: str = "synced") -> Path:
    """An outbox file holding ``count`` pending ratings, made once and copied per run;
    ``clock = "unsynced"``: made with a clock the kiosk does not trust (the server
    places them in time)."""
    path = folder / (f"template-{kiosk}.db" if clock == "synced"
                     else f"template-{kiosk}-{clock}.db")
    if not path.exists():
        conf = write_kiosk(folder, kiosk, 1883, path, clock=clock)
        config = load_kiosk_config(conf)
        with Outbox(path) as outbox:
            outbox.db.execute("PRAGMA synchronous=OFF")  # setup only, not measured
            simulate(Recorder.from_config(config, outbox), count, seed=1)
            outbox.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def copy_outbox(template: Path, dest: Path) -> Path:
    shutil.copy(template, dest)
    return dest


def paho_baseline(port: int, count: int = 10_000, size: int = 420) -> float:
    """Messages/s for ``count`` plain QoS 1 publishes with paho, until all PUBACKed."""
    done = threading.Event()
    acked = [0]

    def on_publish(client, userdata, mid, reason_code, properties):
        acked[0] += 1
        if acked[0] == count:
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-baseline")
    client.on_publish = on_publish
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = b"x" * size
    start = time.perf_counter()
    for _ in range(count):
        client.publish("bench/baseline", payload, qos=1)
    done.wait(120)
    elapsed = time.perf_counter() - start
    client.loop_stop()
    client.disconnect()
    return count / elapsed
