"""Issue 8, time: one valid-looking message must not stop the server for good.

The reproductions from the issue (an unsynchronised rating with a huge ``mono`` beside
one with a tiny ``mono``; a "synchronised" status with a far-future ``at``), then a
server restart, against a real server process, a real mosquitto and a real SQLite
store; rows an older version stored out of range are quarantined at start; the time
rules at the door; placement in bounded work."""

from __future__ import annotations

import json
import time
import uuid

import paho.mqtt.client as mqtt
import requests

from conftest import COMMUNE, wait_until
from helpers import both_stores, server_stats
from server.config import load_server_config
from server.ingest.store import Store, connect, stats as store_stats
from server.followup.watch import Watcher
from server.web import create_app
from sync import contract, timerules

from dashboard_support import add_users, load, login

NOW = time.time()


def record(**changes) -> dict:
    r = {"id": str(uuid.uuid4()), "v": 1, "kiosk": "k01", "commune": COMMUNE, "counter": "q1",
         "score": 1, "scale": 4, "created_at": 978307200.0, "clock_synced": False,
         "boot_id": str(uuid.uuid4()), "mono": 100.0, "official": "cb-an", "reasons": []}
    r.update(changes)
    return r


def batch(*records) -> bytes:
    return json.dumps({"v": 1, "ratings": list(records)}).encode()


def poison_messages() -> list[tuple[str, bytes, bool]]:
    """(topic, payload, retain): the issue's two time-poison cases."""
    boot, boot2 = str(uuid.uuid4()), str(uuid.uuid4())
    ratings = contract.topic(COMMUNE, "k01", "ratings")
    status = contract.topic(COMMUNE, "k01", "status")
    far = 1e15  # tens of millions of years of "uptime"
    return [
        (ratings, batch(record(boot_id=boot, mono=far), record(boot_id=boot, mono=1.0)), False),
        (status, json.dumps({"v": 1, "online": True, "kiosk": "k01", "at": NOW + 1e12,
                             "clock_synced": True, "boot_id": boot2, "mono": 10.0}).encode(),
         True),
        (ratings, batch(record(boot_id=boot2, mono=20.0)), False),
    ]


def publish(port: int, messages) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-poison")
    client.connect("127.0.0.1", port)
    client.loop_start()
    for topic_name, payload, retain in messages:
        client.publish(topic_name, payload, qos=1, retain=retain).wait_for_publish(5)
        time.sleep(0.3)  # in this order: the status before the rating it would place
    client.loop_stop()
    client.disconnect()


def web_session(base: str) -> requests.Session:
    s = requests.Session()
    r = s.post(base + "/login", data={"username": "leader", "password": "correct horse battery"},
               headers={"Origin": base}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.status_code
    return s


@both_stores
def test_time_poison_then_restart(site, procs, broker):
    config = load_server_config(site.server_conf)
    add_users(config)
    server = procs(["server", "run", "--config", str(site.server_conf)],
                   site.folder / "server.log")
    server.wait_for_log("ingest subscribed")
    publish(broker.port, poison_messages())
    store = connect(site.store).conn
    handled = lambda: sum(store.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: E731
                          for t in ("ratings", "rejections"))
    wait_until(lambda: handled() >= 3, timeout=30, message="the poison handled")
    time.sleep(1)
    # every stored row lies in the product's range; what could not be true was refused
    for (occurred,) in store.execute("SELECT occurred_at FROM ratings"):
        assert timerules.PRODUCT_EPOCH <= occurred <= time.time() + 3600, occurred
    store.close()
    server.stop()

    # the restart the issue saw fail for good
    server = procs(["server", "run", "--config", str(site.server_conf)],
                   site.folder / "server2.log")
    server.wait_for_log("ingest subscribed", timeout=60)
    base = f"http://127.0.0.1:{site.web_port}"
    wait_until(lambda: _up(base), timeout=60, message="dashboard up")
    assert server.alive()
    s = web_session(base)
    for page in ("/cases", "/", "/api/v1/overview", "/api/v1/trend", "/reports"):
        assert s.get(base + page, timeout=30).status_code == 200, page
    stats = server_stats(site.server_conf)
    assert stats["rejected_by_reason"].get(timerules.MONO_IMPLAUSIBLE) == 1
    assert stats["rejected_by_reason"].get(timerules.TIME_FUTURE) >= 1  # the status
    assert stats["ratings"] == 2 and stats["quarantined"] == 0


def _up(base: str) -> bool:
    try:
        return requests.get(base + "/login", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def old_poisoned_store(config) -> str:
    """A store as an older version left it: ratings placed millions of years away and
    one in 2191 (one with a call-back number), a poisoned boot anchor, one good row.
    Returns the good row's id."""
    add_users(config)
    with Store(config.store) as store:
        with store.db.conn:
            good = record(clock_synced=True, created_at=NOW - 3600, score=3)
            store.add_ratings(COMMUNE, "k01", [json.dumps(good).encode()], NOW)
            conn = store.db.conn
            for n, occurred in enumerate((-3e13, 3e13, 7e9)):
                rid = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO ratings (id, kiosk, commune, counter, official, score, scale, "
                    "reasons, clock_synced, boot_id, mono, occurred_at, time_source, "
                    "received_at, fingerprint, created_at) "
                    "VALUES (?, 'k01', ?, 'q1', 'cb-an', 1, 4, '[]', 0, 'b', 1, ?, "
                    "'receipt-bound', ?, 'x', 0)", [rid, COMMUNE, occurred, NOW])
                if n == 0:
                    conn.execute("INSERT INTO contacts VALUES (?, '0912345678', 'ok', ?)",
                                 [rid, NOW])
            conn.execute("INSERT INTO boot_anchors (kiosk, boot_id, bound_offset) "
                         "VALUES ('k01', 'b', ?)", [NOW - 1e15])
    return good["id"]


@both_stores
def test_unplaceable_rows_are_quarantined_and_the_server_starts(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    good = old_poisoned_store(config)
    conn = connect(config.store).conn
    from server.followup import cases as followup
    followup.open_cases(conn, low_at_or_below=1, deadline_days=3)  # as the old server did
    assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 3
    conn.close()
    with Watcher(config) as w:  # start-up: must not raise
        w.round()
    with Store(config.store) as store:
        rows = {r["id"]: r for r in store.db["ratings"].rows}
        assert list(rows) == [good]
        assert store.db["quarantine"].count == 3
        held = json.loads(next(store.db["quarantine"].rows_where("reason = 'out-of-range'"))["row"])
        assert "rating" in held
        assert store.db["cases"].count == 0
        assert not list(store.db["boot_anchors"].rows_where("boot_id = 'b'"))  # forgotten
        stats = store_stats(store.db)
        assert stats["quarantined"] == 3 and stats["ratings"] == 1
    client = create_app(config).test_client()
    login(client, "leader")
    for page in ("/cases", "/", "/api/v1/overview", "/api/v1/trend", "/reports"):
        assert client.get(page).status_code == 200, page


@both_stores
def test_the_server_process_starts_on_a_poisoned_store(site, procs):
    """The restart itself, with a store poisoned by an older version."""
    config = load_server_config(site.server_conf)
    old_poisoned_store(config)
    server = procs(["server", "run", "--config", str(site.server_conf)],
                   site.folder / "server.log")
    server.wait_for_log("ingest subscribed", timeout=60)
    assert server.alive()
    stats = server_stats(site.server_conf)
    assert stats["quarantined"] == 3 and stats["ratings"] == 1
    assert "quarantined 3 rating(s)" in (site.folder / "server.log").read_text()
