"""time: what a kiosk's unsynchronised clock costs the server (issue 8).

1. drain: N pending ratings on one kiosk -> seconds until all are acked, with the
   kiosk's ``[clock] assume = "unsynced"`` and ``"synced"`` in the same run, for
   N = 10,000 and 200,000. Goal: unsynced within 1.5x of synced.
2. ack latency: another kiosk's publish-to-ack latency (p50, p99) while one kiosk whose
   boot already has ``BOOT_ROWS`` unsynchronised rows on the server sends the worst
   evidence order (one record per message, each moving the boot's receipt bound 10 s
   earlier). Goal: p99 <= 1 s.

Usage: bench_time.py [--small] (``--small``: 10,000 only, fewer runs; under a minute).
Prints one JSON line of figures last.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
import uuid

from common import COMMUNE, emit, median, workdir

import paho.mqtt.client as mqtt

from hailong.broker import LocalBroker, free_port
from hailong.demo import kiosk_toml, server_toml
from kiosk.clock import since_boot
from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from server.ingest.store import Store
from sync import contract
from sync.uplink import Uplink

BOOT_ROWS = 200_000


def records(count: int, *, synced: bool, kiosk: str = "k01", boot: str | None = None,
            now: float | None = None, mono_end: float | None = None) -> list[bytes]:
    """``count`` ratings made over the last hours of this boot, oldest first."""
    now = time.time() if now is None else now
    mono_end = since_boot() if mono_end is None else mono_end
    boot = boot or str(uuid.uuid4())
    span = min(mono_end - 1, count * 0.5)
    out = []
    for i in range(count):
        mono = mono_end - span + span * i / count
        wall = now - (mono_end - mono) if synced else 978307200.0 + mono  # 2001
        out.append(contract.encode(contract.Rating(
            id=str(uuid.uuid4()), v=1, kiosk=kiosk, commune=COMMUNE, counter="q1",
            score=1 + i % 4, scale=4, created_at=wall, clock_synced=synced, boot_id=boot,
            mono=mono, official="cb-an")))
    return out


def outbox_with(path, bodies: list[bytes]) -> None:
    with Outbox(path) as outbox:
        outbox.db.execute("PRAGMA synchronous=OFF")  # setup only, not measured
        with outbox.db.conn:
            outbox.db.conn.executemany(
                "INSERT INTO ratings (id, body, state, sealed, stored_at) VALUES (?,?,?,?,?)",
                [(json.loads(b)["id"], b.decode(), "pending", 1, time.time()) for b in bodies])


def server(folder, port):
    conf = folder / "server.toml"
    conf.write_text(server_toml(commune=COMMUNE, store=str(folder / "server.db"), port=port,
                                web_port=free_port()))
    return subprocess.Popen([sys.executable, "-m", "hailong", "--log-level", "warning",
                             "server", "run", "--config", str(conf)])


def drain_once(folder, port, count: int, clock: str) -> float:
    run = folder / f"drain-{count}-{clock}-{uuid.uuid4().hex[:6]}"
    run.mkdir()
    store = run / "outbox.db"
    outbox_with(store, records(count, synced=clock == "synced"))
    proc = server(run, port)
    conf = run / "k01.toml"
    conf.write_text(kiosk_toml(kiosk="k01", commune=COMMUNE, store=str(store), port=port,
                               clock=clock))
    time.sleep(1.5)  # the server is up and subscribed
    uplink = Uplink(load_kiosk_config(conf))
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,))
    start = time.perf_counter()
    thread.start()
    try:
        with Outbox(store) as watch:
            while watch.counts()["pending"]:
                if not thread.is_alive() or time.perf_counter() - start > 600:
                    raise SystemExit("the uplink stopped or took over 600 s")
                time.sleep(0.02)
        return time.perf_counter() - start
    finally:
        stop.set()
        thread.join()
        proc.terminate()
        proc.wait()


def ack_latency(folder, port, messages: int = 300) -> dict:
    run = folder / "latency"
    run.mkdir()
    boot, now, mono_end = str(uuid.uuid4()), time.time(), 500_000.0
    with Store(run / "server.db") as store:  # the boot's backlog, already on the server
        bodies = records(BOOT_ROWS, synced=False, boot=boot, now=now, mono_end=mono_end)
        for i in range(0, len(bodies), 1000):
            with store.db.conn:
                store.add_ratings(COMMUNE, "k01", bodies[i:i + 1000], now)
    proc = server(run, port)
    time.sleep(2.0)
    latencies: list[float] = []
    sent: dict[str, float] = {}
    done = threading.Event()

    def on_message(client, userdata, msg):
        ack = contract.decode_ack(msg.payload)
        for rid in ack.stored:
            if rid in sent:
                latencies.append(time.perf_counter() - sent.pop(rid))
        if len(latencies) >= messages:
            done.set()

    other = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-other")
    other.on_message = on_message
    other.connect("127.0.0.1", port)
    other.subscribe(contract.topic(COMMUNE, "k02", "acks"), qos=1)
    other.loop_start()
    attacker = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-worst")
    attacker.connect("127.0.0.1", port)
    attacker.loop_start()
    time.sleep(0.5)
    other_boot = str(uuid.uuid4())
    for n in range(messages):
        # the worst order: every message moves the boot's receipt bound 10 s earlier
        worst = records(1, synced=False, boot=boot, now=time.time(),
                        mono_end=mono_end + 100 + 10 * n)
        attacker.publish(contract.topic(COMMUNE, "k01", "ratings"),
                         contract.encode_batch(worst), qos=1)
        mine = records(1, synced=True, kiosk="k02", boot=other_boot)
        sent[json.loads(mine[0])["id"]] = time.perf_counter()
        other.publish(contract.topic(COMMUNE, "k02", "ratings"), contract.encode_batch(mine),
                      qos=1)
        time.sleep(0.02)
    done.wait(120)
    for c in (other, attacker):
        c.loop_stop()
        c.disconnect()
    proc.terminate()
    proc.wait()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None
    return {"ack_latency_messages": messages, "ack_latency_acked": len(latencies),
            "ack_latency_p50_s": round(statistics.median(latencies), 4) if latencies else None,
            "ack_latency_p99_s": round(p99, 4) if p99 is not None else None,
            "ack_latency_max_s": round(latencies[-1], 4) if latencies else None,
            "boot_rows": BOOT_ROWS}


def main() -> None:
    small = "--small" in sys.argv
    sizes = [(10_000, 3)] if small else [(10_000, 3), (200_000, 1)]
    folder = workdir("time")
    figures: dict = {"bench": "time"}
    with LocalBroker(folder / "broker") as broker:
        for count, runs in sizes:
            got = {"synced": [], "unsynced": []}
            for _ in range(runs):
                for clock in ("synced", "unsynced"):
                    got[clock].append(drain_once(folder, broker.port, count, clock))
                    print(f"{count} {clock}: {got[clock][-1]:.2f} s", file=sys.stderr)
            s, u = median(got["synced"]), median(got["unsynced"])
            figures[f"drain_{count}_synced_s"] = s
            figures[f"drain_{count}_unsynced_s"] = u
            figures[f"drain_{count}_ratio_unsynced_to_synced"] = round(u / s, 2)
            figures[f"drain_{count}_runs"] = runs
        if not small:
            figures.update(ack_latency(folder, broker.port))
    figures["goal_ratio"] = 1.5
    figures["goal_p99_s"] = 1.0
    emit(figures)


if __name__ == "__main__":
    main()
