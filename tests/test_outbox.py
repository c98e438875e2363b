"""The kiosk outbox: durable under SIGKILL, corrupt files moved aside (never deleted),
a full disk refused cleanly, follow-ups sealed, migrations keep rows."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from hailong.settings import load
from kiosk.config import KIOSK_SETTINGS
from sync.outbox import Outbox, OutboxFull, migrations
from kiosk.recorder import PressGuard, Recorder
from sync.contract import Contact

WRITER = textwrap.dedent("""
    import sys
    from sync.outbox import Outbox
    from kiosk.recorder import Recorder
    outbox = Outbox(sys.argv[1])
    recorder = Recorder(outbox, kiosk="k01", commune="xa-test", counter="q1")
    n = 0
    while True:
        n += 1
        rating = recorder.press(1 + n % 4, at=n * 30.0)
        print(rating.id, flush=True)   # printed only after the durable commit
""")


def recorder_for(path, **kw) -> Recorder:
    return Recorder(Outbox(path), kiosk="k01", commune="xa-test", counter="q1", **kw)


@pytest.mark.slow
def test_survives_sigkill_of_its_writer_in_a_loop(tmp_path):
    path = tmp_path / "outbox.db"
    rng = random.Random(5)
    committed: set[str] = set()
    for _ in range(100):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                                 stdout=subprocess.PIPE, text=True)
        committed.add(child.stdout.readline().strip())  # it is writing now
        time.sleep(rng.uniform(0, 0.03))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        committed.update(line for line in out.splitlines() if len(line) == 36)
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()
    assert not list(tmp_path.glob("*.corrupt-*"))
    with Outbox(path) as outbox:
        stored = {r[0] for r in outbox.db.execute("SELECT id FROM ratings")}
    assert committed <= stored, f"{len(committed - stored)} committed ratings missing"
    assert len(committed) > 100


def test_corrupt_file_is_moved_aside_and_reported(tmp_path):
    path = tmp_path / "outbox.db"
    recorder = recorder_for(path)
    recorder.press(4)
    recorder.outbox.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\x00garbage" * 499 + b"\x00" * 4  # smash the header and schema page
    path.write_bytes(bytes(data))
    with Outbox(path) as outbox:
        assert outbox.counts()["pending"] == 0
        event = outbox.last_event()
    assert event["kind"] == "outbox-corrupt" and "moved aside" in event["detail"]
    kept = list(tmp_path.glob("outbox.db.corrupt-*"))
    assert len(kept) == 1 and kept[0].stat().st_size == len(data)  # kept, never deleted


def test_full_disk_refuses_cleanly_and_keeps_what_was_stored(tmp_path):
    path = tmp_path / "outbox.db"
    recorder = recorder_for(path, guard=PressGuard(min_interval=0))
    first = recorder.press(4)
    # SQLite's own limit: the same SQLITE_FULL a full SD card gives
    page_count = recorder.outbox.db.execute("PRAGMA page_count").fetchone()[0]
    recorder.outbox.db.execute(f"PRAGMA max_page_count = {page_count}")
    with pytest.raises(OutboxFull, match="disk full"):
        for _ in range(1000):
            recorder.press(3)
    recorder.outbox.close()
    with Outbox(path) as outbox:
        assert outbox.get(first.id)["state"] == "pending"
        assert outbox.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_follow_up_amends_then_seals(tmp_path):
    recorder = recorder_for(tmp_path / "outbox.db")
    rating = recorder.press(1, sealed=False)
    outbox = recorder.outbox
    assert outbox.due(10) == []  # not sent while the citizen is still answering
    contact = Contact(phone="0912345678", consent=True, consent_text="Đồng ý gọi lại")
    assert recorder.amend(rating.id, reasons=["long-wait"], contact=contact)
    assert [r[0] for r in outbox.due(10)] == [rating.id]
    assert '"long-wait"' in outbox.get(rating.id)["body"]
    assert not recorder.amend(rating.id, reasons=["other"])  # sealed: no later change


def test_walked_away_follow_up_is_sealed_by_the_uplink_rule(tmp_path):
    recorder = recorder_for(tmp_path / "outbox.db")
    rating = recorder.press(1, sealed=False)
    assert recorder.outbox.seal_stale(grace=180) == 0
    assert recorder.outbox.seal_stale(grace=180, now=time.time() + 181) == 1
    assert recorder.outbox.get(rating.id)["sealed"] == 1


def test_migrations_keep_rows_across_an_upgrade(tmp_path):
    path = tmp_path / "outbox.db"
    import sqlite_utils
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m002_inbox")  # a kiosk still on the first schema
    db["ratings"].insert({"id": "old", "body": "{}", "state": "pending", "sealed": 1,
                          "stored_at": 1.0, "attempts": 0, "next_send_at": 0.0})
    db.close()
    with Outbox(path) as outbox:
        assert outbox.get("old")["state"] == "pending"
        assert outbox.db["remote_config"].exists()


def test_guard_flags_fast_presses_and_bursts():
    guard = PressGuard(min_interval=4, burst_count=6, burst_window=60)
    assert guard.check(0) is None
    assert guard.check(1) == "too-fast"
    times = [10, 20, 30, 40, 50]
    assert [guard.check(t) for t in times][-1] == "burst"  # 6 in under 60 s


def test_config_errors_are_one_clear_line(tmp_path):
    bad = tmp_path / "kiosk.toml"
    bad.write_text('[kiosk]\nid = "k01"\ncommune = "x"\ncounter = "q1"\nscale = 7\n')
    result = subprocess.run([sys.executable, "-m", "hailong", "kiosk", "status", "--config",
                             str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: {bad}: [kiosk] scale: 7 is above the maximum 5"
    bad.write_text('[kiosk]\nid = "k01"\ncomune = "x"\n')
    with pytest.raises(Exception, match=r"\[kiosk\] comune: unknown key"):
        load(bad, KIOSK_SETTINGS)
    missing = subprocess.run([sys.executable, "-m", "hailong", "server", "stats", "--config",
                              str(tmp_path / "nope.toml")], capture_output=True, text=True)
    assert missing.returncode == 1 and "no such config file" in missing.stderr
    assert "Traceback" not in missing.stderr + result.stderr


def test_secrets_come_from_a_file_or_the_environment_and_are_redacted(tmp_path):
    (tmp_path / "secret").write_text("s3cret\n")
    conf = tmp_path / "kiosk.toml"
    conf.write_text('[kiosk]\nid = "k01"\ncommune = "x"\ncounter = "q1"\n'
                    '[broker]\nusername = "k01"\npassword_file = "secret"\n')
    config = load(conf, KIOSK_SETTINGS)
    assert config.broker.password == "s3cret"
    assert config.redacted()["broker"]["password"] == "***"
    conf.write_text('[kiosk]\nid = "k01"\ncommune = "x"\ncounter = "q1"\n')
    config = load(conf, KIOSK_SETTINGS, environ={"HAILONG_BROKER_PASSWORD": "env"})
    assert config.broker.password == "env"


def test_simulate_rates_whoever_is_on_duty_on_the_servers_scale(tmp_path):
    from sync.contract import KioskConfig, Official
    conf = tmp_path / "kiosk.toml"
    conf.write_text('[kiosk]\nid = "k01"\ncommune = "xa-test"\ncounter = "q1"\n'
                    '[store]\npath = "outbox.db"\n')
    with Outbox(tmp_path / "outbox.db") as outbox:
        outbox.save_config(KioskConfig(v=1, revision=1, scale=5, on_duty="cb-an",
                                       officials=[Official(id="cb-an", name="Nguyễn Thị Ân")]))
    result = subprocess.run([sys.executable, "-m", "hailong", "kiosk", "simulate", "--config",
                             str(conf), "--count", "5", "--seed", "1"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    import json
    with Outbox(tmp_path / "outbox.db") as outbox:
        bodies = [json.loads(r[0]) for r in outbox.db.execute("SELECT body FROM ratings")]
    assert len(bodies) == 5
    assert {b["official"] for b in bodies} == {"cb-an"} and {b["scale"] for b in bodies} == {5}
    assert all(b["suspect"] is None for b in bodies)


def test_amend_waits_for_the_uplinks_write_instead_of_failing(tmp_path):
    """The UI reads then writes (amend) while the uplink holds the write lock and then
    commits. With a deferred BEGIN, SQLite refuses the UI's write at once ("database
    is locked", BUSY_SNAPSHOT); with the lock taken at BEGIN it simply waits."""
    import threading
    path = tmp_path / "outbox.db"
    recorder = recorder_for(path)
    rating = recorder.press(1, sealed=False)
    holding = threading.Event()

    def uplink_commit():
        conn = sqlite3.connect(path, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE ratings SET attempts = attempts + 1")
        holding.set()
        time.sleep(0.3)
        conn.commit()
        conn.close()

    thread = threading.Thread(target=uplink_commit)
    thread.start()
    holding.wait()
    try:
        assert recorder.amend(rating.id, reasons=["long-wait"])
    finally:
        thread.join()
    assert '"long-wait"' in recorder.outbox.get(rating.id)["body"]
