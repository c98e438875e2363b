"""Ratings made while the kiosk's clock was wrong are stored flagged and placed in time
by the server, from the boot id and seconds since boot."""

from __future__ import annotations

import time
import uuid

from conftest import wait_until
from helpers import kiosk_status
from kiosk.clock import Clock, ClockReading, since_boot
from kiosk.config import load_kiosk_config
from kiosk.outbox import Outbox
from kiosk.recorder import Recorder
from server import clock as placing
from server.store import Store
from sync import contract

BOOT = str(uuid.uuid4())
Y2001 = 978307200.0  # where a Pi's clock can land after a power cut with no network


def rating(mono: float, *, synced: bool, created_at: float) -> bytes:
    return contract.encode(contract.Rating(
        id=str(uuid.uuid4()), v=1, kiosk="k01", commune="xa-test", counter="q1", score=2,
        scale=4, created_at=created_at, clock_synced=synced, boot_id=BOOT, mono=mono))


def placed(store: Store) -> dict[float, tuple[float, str]]:
    return {r["mono"]: (r["occurred_at"], r["time_source"])
            for r in store.db["ratings"].rows}


def test_unsynced_ratings_are_placed_then_corrected(tmp_path):
    store = Store(tmp_path / "server.db")
    boot_start = 1_790_000_000.0  # the true time this kiosk booted
    # made at mono 100 and 200 with a wrong clock; both received at true time boot+300
    store.add_ratings("xa-test", "k01", [rating(100, synced=False, created_at=Y2001),
                                         rating(200, synced=False, created_at=Y2001 + 100)],
                      received_at=boot_start + 300)
    # the bound: boot started no later than 300 - 200 = 100 s before... too late by 100 s
    assert placed(store)[100] == (boot_start + 100 + 100, placing.SOURCE_BOUND)
    # a status sent at mono 400 and received at once tightens the bound to the truth
    status = contract.Status(v=1, online=True, kiosk="k01", at=Y2001 + 300,
                             clock_synced=False, boot_id=BOOT, mono=400)
    store.record_status("xa-test", "k01", status, received_at=boot_start + 400)
    store.place_all()  # re-placement is lazy, in bounded chunks (ingest runs it when idle)
    assert placed(store)[100] == (boot_start + 100, placing.SOURCE_BOUND)
    # NTP syncs later in the same boot (one second of skew): exact placement
    store.add_ratings("xa-test", "k01", [rating(900, synced=True, created_at=boot_start + 901)],
                      received_at=boot_start + 905)
    store.place_all()
    assert placed(store)[100] == (boot_start + 101, placing.SOURCE_BOOT)
    assert placed(store)[200] == (boot_start + 201, placing.SOURCE_BOOT)
    assert placed(store)[900] == (boot_start + 901, placing.SOURCE_KIOSK)
    rows = {r["mono"]: r for r in store.db["ratings"].rows}
    assert rows[100]["created_at"] == Y2001 and rows[100]["clock_synced"] == 0  # kept as sent
    store.close()


class WrongClock(Clock):
    """The Pi after a power cut: wall clock in 2001, not synchronised."""

    def read(self) -> ClockReading:
        return ClockReading(Y2001 + time.monotonic() % 1000, False, self.boot_id, since_boot())


def test_unsynced_kiosk_end_to_end(site, procs):
    conf = site.kiosk("k01", clock="unsynced")
    config = load_kiosk_config(conf)
    with Outbox(config.store.path) as outbox:
        recorder = Recorder.from_config(config, outbox)
        recorder.clock = WrongClock("unsynced")
        made_at = time.time()
        made = recorder.press(1)
    time.sleep(3)  # received well after it was made: the receipt alone would place it late
    procs(["server", "run", "--config", str(site.server_conf)], site.folder / "server.log")
    procs(["sync", "run", "--config", str(conf)], site.folder / "sync.log")
    wait_until(lambda: kiosk_status(conf)["acked"] == 1)
    store = Store(site.folder / "server.db")
    row = wait_until(lambda: (r := store.db["ratings"].get(made.id)) and
                     r["time_source"] == placing.SOURCE_BOUND and r, timeout=10)
    assert row["clock_synced"] == 0 and row["created_at"] < Y2001 + 1000
    assert abs(row["occurred_at"] - made_at) < 1.5, row["occurred_at"] - made_at
    store.close()


def test_a_replayed_status_says_nothing_of_last_seen_or_skew(tmp_path):
    store = Store(tmp_path / "server.db")
    sent = contract.Status(v=1, online=True, kiosk="k01", at=1_790_000_000.0,
                           clock_synced=True, boot_id=BOOT, mono=50)
    store.record_status("xa-test", "k01", sent, received_at=1_790_000_000.2)
    # the server restarts a day later; the broker replays the retained status
    store.record_status("xa-test", "k01", sent, received_at=1_790_086_400.0, replayed=True)
    row = store.db["kiosks"].get("k01")
    assert row["last_seen"] == 1_790_000_000.2 and row["clock_skew"] == -0.2
    store.close()
