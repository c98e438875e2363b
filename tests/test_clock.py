"""Ratings made while the kiosk's clock was wrong are stored flagged and placed in time
by the server, from the boot id and seconds since boot."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from conftest import wait_until
from helpers import both_stores, kiosk_status, store_setting
from kiosk.clock import Clock, ClockReading, since_boot
from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from kiosk.recorder import Recorder
from server.ingest import clock as placing
from server.ingest.store import Store
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


@both_stores
def test_unsynced_ratings_are_placed_then_corrected(tmp_path, server_store):
    store = Store(server_store)
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


@both_stores
def test_unsynced_kiosk_end_to_end(site, procs):
    conf = site.kiosk("k01", clock="unsynced")
    config = load_kiosk_config(conf)
    with Outbox(config.store.path) as outbox:
        recorder = Recorder.from_config(config, outbox)
        recorder.clock = WrongClock("unsynced")
        made_at = time.time()
        made = recorder.press(1)
    time.sleep(3)  # received well after it was made: the receipt alone would place it late
    # the server subscribed first: the kiosk's status is then received live, not replayed
    # (retained) after a slow start, which would bound the boot late by that start's time
    procs(["server", "run", "--config", str(site.server_conf)],
          site.folder / "server.log").wait_for_log("ingest subscribed")
    procs(["sync", "run", "--config", str(conf)], site.folder / "sync.log")
    wait_until(lambda: kiosk_status(conf)["acked"] == 1)
    store = Store(site.store)
    row = wait_until(lambda: (r := store.db["ratings"].get(made.id)) and
                     r["time_source"] == placing.SOURCE_BOUND and r, timeout=10)
    assert row["clock_synced"] == 0 and row["created_at"] < Y2001 + 1000
    assert abs(row["occurred_at"] - made_at) < 1.5, row["occurred_at"] - made_at
    store.close()


@both_stores
def test_a_replayed_status_says_nothing_of_last_seen_or_skew(tmp_path, server_store):
    store = Store(server_store)
    sent = contract.Status(v=1, online=True, kiosk="k01", at=1_790_000_000.0,
                           clock_synced=True, boot_id=BOOT, mono=50)
    store.record_status("xa-test", "k01", sent, received_at=1_790_000_000.2)
    # the server restarts a day later; the broker replays the retained status
    store.record_status("xa-test", "k01", sent, received_at=1_790_086_400.0, replayed=True)
    row = store.db["kiosks"].get("k01")
    assert row["last_seen"] == 1_790_000_000.2 and row["clock_skew"] == -0.2
    store.close()


# --- issue 8: plausibility at the door, placement in range, bounded work -------------

def _rec(mono: float, *, synced: bool = False, created_at: float = Y2001, boot: str = BOOT,
         score: int = 2) -> bytes:
    return contract.encode(contract.Rating(
        id=str(uuid.uuid4()), v=1, kiosk="k01", commune="xa-test", counter="q1", score=score,
        scale=4, created_at=created_at, clock_synced=synced, boot_id=boot, mono=mono))


def _one(store: Store, raw: bytes, received_at: float):
    with store.db.conn:
        return store.add_ratings("xa-test", "k01", [raw], received_at)


@both_stores
def test_an_unsynced_clock_before_2000_is_placed_not_rejected(tmp_path, server_store):
    """A Pi without network can say 1970: stored on the kiosk, it used to be rejected
    for good ('invalid', the contract's 2000..2100 range)."""
    store = Store(server_store)
    now = time.time()
    for wall in (0.0, 86400.0 * 3, -1.0, 9e11):
        result = _one(store, _rec(500, created_at=wall, boot=str(uuid.uuid4())), now)
        assert result.rejected == [] and len(result.stored) == 1, wall
        row = store.db["ratings"].get(result.stored[0])
        assert row["created_at"] == wall  # kept as sent
        assert abs(row["occurred_at"] - now) < 1 and row["time_source"] == placing.SOURCE_BOUND
    store.close()


@both_stores
def test_time_rules_at_the_door(tmp_path, server_store):
    from sync import timerules as tr
    store = Store(server_store)
    now = time.time()
    cases = [  # (record, expected reason or None for stored)
        (_rec(100, synced=True, created_at=now + tr.AHEAD_TOLERANCE - 5), None),
        (_rec(100, synced=True, created_at=now + tr.AHEAD_TOLERANCE + 5), tr.TIME_FUTURE),
        (_rec(100, synced=True, created_at=tr.PRODUCT_EPOCH - 1), tr.TIME_BEFORE_EPOCH),
        (_rec(100, synced=True, created_at=Y2001), tr.TIME_BEFORE_EPOCH),
        (_rec(tr.MAX_UPTIME + 1, boot=str(uuid.uuid4())), tr.MONO_IMPLAUSIBLE),
        (_rec(now - tr.PRODUCT_EPOCH + 10, boot=str(uuid.uuid4())), tr.MONO_IMPLAUSIBLE),
        (_rec(now - tr.PRODUCT_EPOCH - 10, boot=str(uuid.uuid4())), None),
        (_rec(1e15, boot=str(uuid.uuid4())), tr.MONO_IMPLAUSIBLE),
    ]
    for n, (raw, reason) in enumerate(cases):
        result = _one(store, raw, now)
        if reason is None:
            assert len(result.stored) == 1, n
        else:
            assert [r.reason for r in result.rejected] == [reason], n
    # the boot's other evidence: a synchronised record fixes the boot's start ...
    boot = str(uuid.uuid4())
    assert _one(store, _rec(1000, synced=True, created_at=now, boot=boot), now).stored
    # ... so a mono that puts that boot two hours earlier contradicts it
    late = _one(store, _rec(1000 + 7200, boot=boot), now)
    assert [r.reason for r in late.rejected] == [tr.BOOT_CONTRADICTION]
    assert _one(store, _rec(1500, boot=boot), now + 600).stored  # a consistent one is fine
    # and a synchronised reading cannot put the start after a receipt already seen
    boot2 = str(uuid.uuid4())
    assert _one(store, _rec(5000, boot=boot2), now).stored  # start <= now - 5000
    clash = _one(store, _rec(10, synced=True, created_at=now, boot=boot2), now)
    assert [r.reason for r in clash.rejected] == [tr.BOOT_CONTRADICTION]
    # nothing refused was stored; every rejection is counted with its reason
    stats = placing_stats(store)
    assert stats["rejected"] == 8 and stats["rejected_by_reason"][tr.MONO_IMPLAUSIBLE] == 3
    for row in store.db["ratings"].rows:
        assert tr.PRODUCT_EPOCH <= row["occurred_at"] <= now + tr.AHEAD_TOLERANCE
    store.close()


def placing_stats(store: Store) -> dict:
    from server.ingest.store import stats
    return stats(store.db)


@both_stores
def test_a_status_whose_time_cannot_be_true_is_refused_and_counted(tmp_path, server_store):
    from sync import timerules as tr
    store = Store(server_store)
    now = time.time()
    boot = str(uuid.uuid4())
    far = contract.Status(v=1, online=True, kiosk="k01", at=now + 1e12, clock_synced=True,
                          boot_id=boot, mono=10)
    with store.db.conn:
        store.record_status("xa-test", "k01", far, received_at=now)
    assert store.db["kiosks"].count == 0 and store.db["boot_anchors"].count == 0
    # the rating that status would have placed tens of thousands of years away
    result = _one(store, _rec(20, boot=boot), now)
    assert abs(store.db["ratings"].get(result.stored[0])["occurred_at"] - now) < 1
    old = contract.Status(v=1, online=True, kiosk="k01", at=Y2001, clock_synced=True,
                          boot_id=boot, mono=10)
    huge = contract.Status(v=1, online=True, kiosk="k01", at=Y2001, clock_synced=False,
                           boot_id=boot, mono=1e13)
    fine = contract.Status(v=1, online=True, kiosk="k01", at=Y2001, clock_synced=False,
                           boot_id=boot, mono=30)
    with store.db.conn:
        for status in (old, huge, fine):
            store.record_status("xa-test", "k01", status, received_at=now)
    assert placing_stats(store)["rejected_by_reason"] == {
        tr.TIME_FUTURE: 1, tr.TIME_BEFORE_EPOCH: 1, tr.MONO_IMPLAUSIBLE: 1}
    assert store.db["kiosks"].count == 1  # the plausible one
    store.close()


def test_placement_is_clamped_into_the_products_range():
    from sync import timerules as tr
    now = time.time()
    for ts in (-1e300, -1.0, 0.0, 1e13, float("inf"), float("nan"), now):
        placed = tr.clamp(ts, now)
        assert tr.PRODUCT_EPOCH <= placed <= now + tr.AHEAD_TOLERANCE
    assert tr.clamp(now - 5, now) == now - 5


def test_the_kiosk_never_claims_a_synchronised_clock_outside_the_range():
    # NTP "synced" to a bad server
    assert Clock("synced", wall=lambda: Y2001).read().synced is False
    assert Clock("synced", wall=lambda: 1_790_000_000.0).read().synced is True


@both_stores
def test_tightening_evidence_costs_bounded_work(tmp_path, server_store):
    """Issue 8: each record that tightened a boot's receipt bound rewrote every
    unsynchronised row of that boot on the single writer (here 20,000 per record)."""
    store = Store(server_store)
    now = 1_790_000_000.0
    rows = 20_000
    for start in range(0, rows, 1000):
        with store.db.conn:
            store.add_ratings("xa-test", "k01", [_rec(10_000 + i, score=1 + i % 4)
                                                 for i in range(start, start + 1000)],
                              received_at=now)
    low_ids = [r[0] for r in store.db.execute(
        "SELECT id FROM ratings WHERE score = 1 LIMIT 100")]
    from server.followup import cases as followup
    followup.open_cases(store.db.conn, low_at_or_below=1, deadline_days=3,
                        rating_ids=low_ids)
    # the worst order: every one-record message moves the bound 10 s earlier
    worst = 0
    for n in range(50):
        before = store.db.conn.total_changes
        _one(store, _rec(40_000 + 10 * n), now + 1)
        worst = max(worst, store.db.conn.total_changes - before)
    assert worst < 10, worst  # a row and its boot's anchor, not the boot's 20,000 rows
    # re-placement, in bounded chunks, brings every row to the best evidence
    bound = now + 1 - (40_000 + 10 * 49)
    with store.db.conn:
        before = store.db.conn.total_changes
        assert store.place_some() == placing.PLACE_CHUNK
        assert store.db.conn.total_changes - before <= 2 * placing.PLACE_CHUNK + 1
    store.place_all()
    off = {round(r[0] - r[1], 3) for r in store.db.execute(
        "SELECT occurred_at, mono FROM ratings")}
    assert off == {round(bound, 3)}
    case_times = dict(store.db.execute(
        "SELECT c.rating_id, c.occurred_at - r.occurred_at FROM cases c "
        "JOIN ratings r ON r.id = c.rating_id"))
    assert len(case_times) == 100 and set(case_times.values()) == {0.0}
    assert placing_stats(store)["placement_due"] == 0
    store.close()


# --- property-based: messages at and past every time bound ---------------------------

@both_stores
def test_property_time_fields_at_and_past_every_bound(tmp_path, server_store):
    """Ratings and statuses with wall times and monos at, just inside and just past
    every bound, in any order and mix of boots, through the real ingest and a real
    SQLite store: nothing crashes, every stored time lies in the product's range, and
    the server restarts cleanly (nothing to quarantine, figures catch up)."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    from hailong.settings import load
    from server.reports import rollup
    from server.config import SERVER_SETTINGS
    from server.ingest.worker import Ingest
    from server.followup.watch import Watcher
    from sync import timerules as tr

    now = time.time()
    points = [tr.PRODUCT_EPOCH, tr.PRODUCT_END, now, now + tr.AHEAD_TOLERANCE,
              now - tr.AHEAD_TOLERANCE, 0.0, Y2001, 1e15, -1.0]
    walls = st.one_of(st.sampled_from(points).flatmap(
        lambda p: st.sampled_from([p - 1, p - 1e-3, p, p + 1e-3, p + 1])),
        st.floats(min_value=-1e16, max_value=1e16))
    mono_points = [0.0, tr.MAX_UPTIME, now - tr.PRODUCT_EPOCH, 1.0, 3600.0, 1e15]
    monos = st.one_of(st.sampled_from(mono_points).flatmap(
        lambda p: st.sampled_from([p - 1, p, p + 1, p + 0.5])),
        st.floats(min_value=0, max_value=1e16))
    boots = st.sampled_from([str(uuid.UUID(int=n)) for n in range(1, 4)])
    message = st.tuples(st.sampled_from(["rating", "status"]), walls, st.booleans(), monos,
                        boots, st.integers(min_value=1, max_value=4),
                        st.floats(min_value=-5, max_value=5))
    config = load(None, SERVER_SETTINGS, overrides={
        "server": {"commune": "xa-test"}, "store": store_setting(server_store)})
    ingest = Ingest(config)
    ratings_topic = contract.topic("xa-test", "k01", "ratings")
    status_topic = contract.topic("xa-test", "k01", "status")

    def encode(kind, wall, synced, mono, boot, score, _):
        if mono < 0:
            mono = 0.0
        if kind == "status":
            return status_topic, contract.encode(contract.Status(
                v=1, online=True, kiosk="k01", at=wall, clock_synced=synced, boot_id=boot,
                mono=mono))
        return ratings_topic, contract.encode_batch([contract.encode(contract.Rating(
            id=str(uuid.uuid4()), v=1, kiosk="k01", commune="xa-test", counter="q1",
            score=score, scale=4, created_at=wall, clock_synced=synced, boot_id=boot,
            mono=mono))])

    # on PostgreSQL fewer: the SQL is the same few statements, the time rules are Python
    @settings(max_examples=300 if isinstance(server_store, Path) else 100, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.lists(message, min_size=1, max_size=6))
    def feed(msgs):
        batch = [(*encode(*m), now + m[6]) for m in msgs]
        ingest.handle(batch)
        with database_immediate(ingest.store.db):
            ingest.store.place_some()
        for occurred, in ingest.store.db.execute("SELECT occurred_at FROM ratings"):
            assert tr.PRODUCT_EPOCH <= occurred <= now + 5 + tr.AHEAD_TOLERANCE, occurred
        for row in ingest.store.db["boot_anchors"].rows:
            for key in ("synced_offset", "bound_offset"):
                if row[key] is not None:
                    assert tr.PRODUCT_EPOCH - 1 <= row[key] <= now + 5 + tr.AHEAD_TOLERANCE

    feed()
    stored = ingest.store.db["ratings"].count
    assert stored and ingest.store.db["rejections"].count
    ingest.store.place_all()
    ingest.stop()
    # restart: nothing to quarantine, the figures catch up, ingest opens again
    watcher = Watcher(config)
    watcher.catch_up()
    assert watcher._db["quarantine"].count == 0
    assert rollup.catch_up(watcher._db.conn) == 0
    days = watcher._db.execute("SELECT sum(n) + sum(sus) FROM daily2").fetchone()[0]
    assert days == stored
    watcher.stop()
    Ingest(config).store.close()


def database_immediate(db):
    from hailong.database import immediate
    return immediate(db)


@both_stores
def test_a_server_clock_before_the_epoch_acks_nothing(tmp_path, server_store, monkeypatch):
    """Every rule is judged by the server's clock: with it wrong (booted without NTP)
    valid ratings would be refused for good, so ingest leaves them unacked instead."""
    from hailong.settings import load
    from server.config import SERVER_SETTINGS
    from server.ingest.worker import Ingest
    config = load(None, SERVER_SETTINGS, overrides={
        "server": {"commune": "xa-test"}, "store": store_setting(server_store)})
    ingest = Ingest(config)
    topic_name = contract.topic("xa-test", "k01", "ratings")
    raw = contract.encode_batch([_rec(100)])
    monkeypatch.setattr(time, "time", lambda: Y2001)
    assert ingest.handle([(topic_name, raw, Y2001)]) == []
    monkeypatch.undo()
    assert ingest.store.db["ratings"].count == 0 and ingest.store.db["rejections"].count == 0
    assert ingest.handle([(topic_name, raw, time.time())])[0].stored
    ingest.stop()
