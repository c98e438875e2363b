"""Issue 12: forwarding to the province, exactly once, with no personal data; the
province store on a real PostgreSQL, the province broker a real mosquitto with an ACL."""

from __future__ import annotations

import json
import re
import sqlite3
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import wait_until
from hailong.broker import free_port
from hailong.demo import server_toml
from helpers import hailong
from province_support import (CONSENT, PHONE, TempDatabase, fill_commune, province_broker,
                              province_toml)
from sync import contract

pytestmark = pytest.mark.slow


@pytest.fixture
def pg():
    with TempDatabase() as db:
        yield db


def province_stats(conf) -> dict:
    return json.loads(hailong("province", "stats", "--config", str(conf), "--json").stdout)


def enrol(conf, commune: str) -> str:
    out = hailong("province", "add-commune", "--config", str(conf), commune).stdout
    return next(line.split('"')[1] for line in out.splitlines() if line.startswith("password"))


def commune_conf(tmp_path, commune, broker_port, province_port, password, *, batch=100,
                 window=2) -> tuple:
    store = tmp_path / f"{commune}.db"
    conf = tmp_path / f"{commune}.toml"
    conf.write_text(server_toml(
        commune=commune, store=str(store), port=broker_port, web_port=free_port(),
        extra=(f'\n[province]\nenabled = true\nhost = "127.0.0.1"\nport = {province_port}\n'
               f'username = "{commune}"\npassword = "{password}"\nbatch_size = {batch}\n'
               f'window = {window}\nack_timeout = 3.0\nbackoff_max = 6.0\n')))
    return conf, store


def backlog(store) -> int:
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT count(*) FROM forward_outbox").fetchone()[0]


# --- what leaves the commune ---------------------------------------------------------------

def test_forwarded_record_is_the_allow_list_only(tmp_path):
    """Everything a batch to the province carries, for ratings with a contact, a dossier
    code, a procedure and a field: none of them, nor the consent text, is in it."""
    from server.ingest import forward
    from server.ingest.store import connect
    store = tmp_path / "c.db"
    assert fill_commune(store, "xa-a", 20, seed=1) == 20
    db = connect(store)
    assert forward.backlog(db.conn) == 20   # queued by the insert's own transaction
    rows = db.conn.execute(forward._SELECT, [0, 100]).fetchall()
    payload = contract.encode_forward_batch("b1", [forward.forwarded(r, forward.pseudonym_key(db.conn)) for r in rows])
    text = payload.decode()
    for secret in (PHONE, CONSENT, "000.31.12.H29", "Đăng ký khai sinh", "Hộ tịch",
                   "boot_id", "mono", "dossier", "procedure", "contact"):
        assert secret not in text, secret
    batch = contract.decode_forward_batch(payload)   # and the province accepts it
    first = contract.decode_forwarded(bytes(batch.ratings[0]))
    assert len(batch.ratings) == 20 and first.reasons and first.commune == "xa-a"
    # a rating taken out of the store (quarantined: server/ingest/clock.py) is not waited for
    with db.conn:
        db.conn.execute("DELETE FROM contacts WHERE rating_id = ?", [rows[0][1]])
        db.conn.execute("DELETE FROM ratings WHERE id = ?", [rows[0][1]])
    assert forward.backlog(db.conn) == 19
    assert set(contract.ForwardedRating.__struct_fields__) == {
        "id", "commune", "kiosk", "counter", "score", "scale", "occurred_at", "official",
        "reasons", "time_source", "suspect", "survey"}   # survey: codes and levels only


def test_ratings_stored_before_the_upgrade_are_queued_too(tmp_path):
    """The migration queues what the store held before forwarding existed."""
    from server.ingest import store as store_mod
    path = tmp_path / "old.db"
    saved = store_mod.SCHEMA_MODULES
    store_mod.SCHEMA_MODULES = tuple(m for m in saved if m != "server.ingest.forward")
    try:
        fill_commune(path, "xa-a", 5, seed=2)
    finally:
        store_mod.SCHEMA_MODULES = saved
    from hailong import database
    database._migrated.discard(path.resolve())
    db = store_mod.connect(path)
    from server.ingest.forward import backlog as fb
    assert fb(db.conn) == 5


def test_no_bridge_forwarding_raw_ratings(tmp_path):
    """The old template bridged whole rating messages, phone numbers included, to the
    province: neither the checked-in example nor broker-config's folder may carry one."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    assert not (root / "config" / "mosquitto" / "bridge-province.conf.example").exists()
    import server.fleet.broker_config as bc
    assert not hasattr(bc, "bridge_template")


# --- the province store ------------------------------------------------------------------------

def test_province_stats_counts_phone_like_text(tmp_path, pg):
    """``contacts`` is counted from the data, not assumed from the schema."""
    from province import store
    pool = store.connect(pg.url)
    try:
        assert store.migrate(pool) == []     # recorded: a second run applies nothing
        assert store.seed(pool, 2, 50) == 100
        assert store.seed(pool, 2, 50) == 0  # the same ids again: no-ops
        figures = store.stats(pool)
        assert figures["ratings"] == 100 and figures["contacts"] == 0
        assert figures["by_commune"] == {"xa-demo-001": 50, "xa-demo-002": 50}
        with pool.connection() as conn:
            conn.execute("UPDATE ratings SET official = %s WHERE id = (SELECT id FROM "
                         "ratings LIMIT 1)", [f"cb {PHONE}"])
        assert store.stats(pool)["contacts"] == 1
        assert store.ranking(pool, minimum=10)[0][0]["ratings"] == 50
        ranked, too_few = store.ranking(pool, minimum=51)
        assert ranked == [] and [r["commune"] for r in too_few] == ["xa-demo-001",
                                                                     "xa-demo-002"]
    finally:
        pool.close()


# --- end to end: three communes, faults, exactly 3,000 -------------------------------------------

def test_three_communes_forward_exactly_once_through_faults(tmp_path, broker, pg, procs):
    pport = free_port()
    pconf = province_toml(tmp_path, pg.url, pport)
    communes = ["xa-an", "xa-binh", "xa-cuong"]
    passwords = {c: enrol(pconf, c) for c in communes}
    pbroker = province_broker(tmp_path, pport).start()
    try:
        confs = {}
        for seed, c in enumerate(communes, 1):
            # small batches, one in flight: the faults below land mid-stream
            confs[c] = commune_conf(tmp_path, c, broker.port, pport, passwords[c],
                                    batch=20, window=1)
            assert fill_commune(confs[c][1], c, 1000, seed=seed) == 1000
        prov = procs(["province", "run", "--config", str(pconf)], tmp_path / "province.log")
        prov.wait_for_log("province ingest subscribed")
        servers = {c: procs(["server", "run", "--config", str(confs[c][0])],
                            tmp_path / f"{c}.log") for c in communes}

        import psycopg
        watch = psycopg.connect(pg.url, autocommit=True)

        def held() -> int:
            return watch.execute("SELECT count(*) FROM ratings").fetchone()[0]

        # the forwarder SIGKILLed mid-stream: some of its ratings acked, some not
        wait_until(lambda: backlog(confs["xa-an"][1]) <= 900, timeout=120, interval=0.01,
                   message="xa-an forwarding under way")
        servers["xa-an"].kill()
        assert 0 < backlog(confs["xa-an"][1]) < 1000
        # the province SIGKILLed mid-ingest
        wait_until(lambda: held() >= 1200, timeout=120, interval=0.01,
                   message="more forwarded")
        prov.kill()
        assert held() < 3000
        watch.close()
        # the communes' batches now queue at the province broker for the dead ingest;
        # then the broker is killed too (what it held in memory is gone) and restarted
        time.sleep(1.5)
        pbroker.kill()
        time.sleep(1)
        pbroker.start()
        prov = procs(["province", "run", "--config", str(pconf)], tmp_path / "province2.log")
        servers["xa-an"] = procs(["server", "run", "--config", str(confs["xa-an"][0])],
                                 tmp_path / "xa-an-2.log")
        wait_until(lambda: all(backlog(confs[c][1]) == 0 for c in communes), timeout=240,
                   interval=1, message="every commune's backlog acked")
        figures = province_stats(pconf)
        assert figures["ratings"] == 3000 and figures["distinct_ids"] == 3000
        assert figures["by_commune"] == {c: 1000 for c in communes}
        assert figures["contacts"] == 0
        for c in communes:   # the commune's own figure, for its fleet page and scripts
            stats = json.loads(hailong("server", "stats", "--config", str(confs[c][0]),
                                       "--json").stdout)
            assert stats["forward_backlog"] == 0 and stats["ratings"] == 1000
    finally:
        pbroker.stop()


def test_a_commune_cannot_forward_as_another(tmp_path, pg, procs):
    pport = free_port()
    pconf = province_toml(tmp_path, pg.url, pport)
    pw_a = enrol(pconf, "xa-a")
    enrol(pconf, "xa-b")
    with province_broker(tmp_path, pport) as pbroker:
        prov = procs(["province", "run", "--config", str(pconf)], tmp_path / "province.log")
        prov.wait_for_log("province ingest subscribed")
        from province_support import make_ratings

        def batch(commune: str, n: int, seed: int, name: str) -> bytes:
            recs = [contract.decode_rating(r, commune, "k1") for r in
                    make_ratings(commune, n, seed=seed)]
            return contract.encode_forward_batch(name, [
                contract.ForwardedRating(id=r.id, commune=r.commune, kiosk=r.kiosk,
                                         counter=r.counter, score=r.score, scale=r.scale,
                                         occurred_at=time.time()) for r in recs])

        acks = []
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="xa-a",
                             protocol=mqtt.MQTTv311)
        client.username_pw_set("xa-a", pw_a)
        client.on_message = lambda c, u, m: acks.append(contract.decode_forward_ack(m.payload))
        client.connect("127.0.0.1", pport)
        client.loop_start()
        try:
            wait_until(client.is_connected, message="commune a connected")
            client.subscribe(contract.province_topic("xa-a", "acks"), qos=1)
            # on b's topic: the broker's ACL drops it
            client.publish(contract.province_topic("xa-b", "ratings"),
                           batch("xa-b", 5, 7, "forged-topic"), qos=1).wait_for_publish(10)
            # on its own topic, records claiming to be b's: the province refuses them
            client.publish(contract.province_topic("xa-a", "ratings"),
                           batch("xa-b", 5, 8, "forged-records"), qos=1).wait_for_publish(10)
            # one impossible record (a 1970 time) among good ones: only it is refused
            mixed = [contract.decode_rating(r, "xa-a", "k1")
                     for r in make_ratings("xa-a", 3, seed=10)]
            client.publish(contract.province_topic("xa-a", "ratings"),
                           contract.encode_forward_batch("mixed", [
                               contract.ForwardedRating(
                                   id=r.id, commune="xa-a", kiosk="k1", counter="q1",
                                   score=2, scale=4, occurred_at=0.0 if i == 0 else time.time())
                               for i, r in enumerate(mixed)]), qos=1).wait_for_publish(10)
            # then an honest one: once it is acked, the forged ones were dealt with
            client.publish(contract.province_topic("xa-a", "ratings"),
                           batch("xa-a", 3, 9, "honest"), qos=1).wait_for_publish(10)
            wait_until(lambda: any(a.batch == "honest" for a in acks), timeout=30,
                       message="the honest batch acked")
        finally:
            client.loop_stop()
            client.disconnect()
        mixed_ack = next(a for a in acks if a.batch == "mixed")
        assert mixed_ack.stored == [r.id for r in mixed[1:]]
        assert [(x.id, x.reason) for x in mixed_ack.rejected] == [(mixed[0].id, "invalid")]
        figures = province_stats(pconf)
        assert figures["by_commune"] == {"xa-a": 5}     # nothing stored as b
        assert figures["rejected_by_reason"] == {"invalid": 1, "wrong-commune": 5}
        assert "Denied PUBLISH" in pbroker.log_path.read_text(errors="replace")


def test_fleet_page_shows_the_province_backlog(tmp_path):
    """The commune's fleet page shows how many ratings wait for the province's ack."""
    from dashboard_support import add_users, load, login
    from server.web import create_app
    config = load(tmp_path, '\n[province]\nenabled = true\nhost = "127.0.0.1"\n')
    add_users(config)
    fill_commune(config.store, "xa-test", 7, seed=4)
    client = create_app(config).test_client()
    login(client, "technician")
    page = client.get("/fleet").get_data(as_text=True)
    assert 'id="forward-backlog">7<' in page.replace("\n", "")
    assert "forward-refused" not in page
    from server.ingest.store import connect
    db = connect(config.store)
    with db.conn:  # the province refused two: kept, shown apart with what to do
        db.conn.execute("UPDATE forward_outbox SET refused = 'invalid' WHERE seq IN "
                        "(SELECT seq FROM forward_outbox ORDER BY seq LIMIT 2)")
    db.close()
    page = client.get("/fleet").get_data(as_text=True).replace("\n", "")
    assert 'id="forward-backlog">5<' in page and "invalid 2" in page
    assert "hailong server forward-retry" in page


def test_example_province_config_loads_and_bad_ones_say_why(tmp_path):
    from pathlib import Path

    from hailong.errors import ConfigError
    from province.config import load_province_config
    from server.config import load_server_config
    root = Path(__file__).resolve().parent.parent
    config = load_province_config(root / "config" / "province.example.toml",
                                  environ={"HAILONG_BROKER_PASSWORD": "x"})
    assert config.store.url.startswith("postgresql://")
    bad = tmp_path / "p.toml"
    bad.write_text('[store]\nurl = "sqlite:///x.db"\n[broker]\nusername = "a.b"\n')
    with pytest.raises(ConfigError, match="postgresql"):
        load_province_config(bad)
    server = tmp_path / "s.toml"
    server.write_text(server_toml(commune="xa-a", store="s.db", port=1883,
                                  extra="\n[province]\nenabled = true\n"))
    with pytest.raises(ConfigError, match=r"\[province\] host"):
        load_server_config(server)


def test_province_dashboard_ranks_communes_with_a_minimum(tmp_path, pg):
    from province import store
    from province.config import load_province_config
    from province.web import create_app
    config = load_province_config(province_toml(tmp_path, pg.url, 1883),
                                  environ={"HAILONG_BROKER_PASSWORD": "x"})
    pool = store.connect(pg.url)
    try:
        store.seed(pool, 2, 200, days=300)
        import uuid
        with pool.connection() as conn:   # one commune with too few to rank
            store.add_ratings(conn, "xa-demo-003", [contract.ForwardedRating(
                id=str(uuid.uuid4()), commune="xa-demo-003", kiosk="k1", counter="q1",
                score=4, scale=4, occurred_at=time.time() - 60) for _ in range(15)])
            conn.commit()
        ranked, too_few = store.ranking(pool, 30, since=time.time() - 366 * 86400)
        from province import accounts
        accounts.add_user(pool, "an", "viewer", "mat-khau-an")
        web = create_app(config, pool).test_client()
        web.post("/login", data={"username": "an", "password": "mat-khau-an"},
                 headers={"Origin": "http://localhost"})
        page = web.get("/?days=365").get_data(as_text=True)
    finally:
        pool.close()
    assert [r["commune"] for r in too_few] == ["xa-demo-003"]
    assert len(ranked) == 2 and ranked[0]["satisfied"] >= ranked[1]["satisfied"]
    assert page.index(ranked[0]["commune"]) < page.index(ranked[1]["commune"])
    n = too_few[0]["ratings"]
    assert f'xa-demo-003</a> ({n})' in page and "Xếp hạng" in page


def test_user_errors_are_one_line(tmp_path):
    """An unreachable database or a bad commune id: one clear line at once, no
    traceback (and no 30-second wait on the pool)."""
    conf = tmp_path / "p.toml"
    conf.write_text(f'[store]\nurl = "postgresql://postgres@127.0.0.1:{free_port()}/x"\n'
                    '[broker]\nusername = "hailong.province"\npassword = "x"\n')
    started = time.monotonic()
    out = hailong("province", "stats", "--config", str(conf), check=False)
    assert out.returncode == 1 and time.monotonic() - started < 15
    assert "cannot use the province store" in out.stderr and "Traceback" not in out.stderr
    out = hailong("province", "add-commune", "--config", str(conf), "Bad Id", check=False)
    assert out.returncode == 1 and "is not a commune id" in out.stderr


# --- refusals: kept at the commune, never taken as stored at the province -------------------

def test_a_refused_rating_is_kept_and_sent_again_by_forward_retry(tmp_path):
    """A rating the province refuses (an older province that does not know the survey
    field) stays in the outbox, marked with the reason, out of the backlog that is sent,
    shown in stats, and ``server forward-retry`` queues it again behind the backlog. The
    old forwarder deleted it: once the province was upgraded it never arrived."""
    from server.config import load_server_config
    from server.ingest import forward
    conf, store = commune_conf(tmp_path, "xa-a", 1883, 1883, "pw")
    assert fill_commune(store, "xa-a", 5, seed=7) == 5
    forwarder = forward.Forwarder(load_server_config(conf))
    try:
        rows = forwarder.db.conn.execute(forward._SELECT, [0, 10]).fetchall()
        refused, stored = rows[0][1], [r[1] for r in rows[1:3]]
        forwarder._acks.put(contract.ForwardAck(v=1, batch="b1", stored=stored, rejected=[
            contract.Rejection(refused, "invalid")]))
        forwarder._take_acks()
        conn = forwarder.db.conn
        assert forward.backlog(conn) == 2 and forward.refused(conn) == {"invalid": 1}
        waiting = {r[1] for r in conn.execute(forward._SELECT, [0, 10]).fetchall()}
        assert refused not in waiting and len(waiting) == 2   # not re-sent in a loop
        last_seq = max(r[0] for r in rows)
    finally:
        forwarder.db.close()
    stats = json.loads(hailong("server", "stats", "--config", str(conf), "--json").stdout)
    assert stats["forward_backlog"] == 2 and stats["forward_refused"] == 1
    out = hailong("server", "forward-retry", "--config", str(conf)).stdout
    assert "queued again: 1 (refused as: invalid 1)" in out
    with sqlite3.connect(store) as conn:
        again = conn.execute(forward._SELECT, [last_seq, 10]).fetchall()  # behind the cursor
        assert [r[1] for r in again] == [refused]
        assert forward.backlog(conn) == 3 and forward.refused(conn) == {}


def test_an_id_held_for_another_commune_is_refused_not_acked(pg):
    """Two communes sending one rating id (a copied SD card, a forged record): the
    province kept the first and acked the second as stored, so the second commune
    believed the province held its rating. Now the second is refused as a conflict."""
    from province import store
    pool = store.connect(pg.url)
    try:
        store.migrate(pool)
        first = contract.ForwardedRating(
            id="0b6f3c1e-5a7d-4b8e-9f10-112233445566", commune="xa-a", kiosk="k1",
            counter="q1", score=5, scale=5, occurred_at=time.time() - 60)
        other = contract.ForwardedRating(**{**{f: getattr(first, f) for f in
                                               first.__struct_fields__}, "commune": "xa-b",
                                            "score": 1})
        with pool.connection() as conn:
            assert store.add_ratings(conn, "xa-a", [first]) == ([first.id], [])
        with pool.connection() as conn:
            stored, rejected = store.add_ratings(conn, "xa-b", [other])
        assert stored == [] and rejected == [contract.Rejection(first.id, "conflict")]
        with pool.connection() as conn:  # a re-send by its own commune is still a no-op
            assert store.add_ratings(conn, "xa-a", [first]) == ([first.id], [])
        figures = store.stats(pool)
        assert figures["by_commune"] == {"xa-a": 1} and figures["ratings"] == 1
    finally:
        pool.close()


def test_officials_leave_the_commune_under_a_pseudonym(tmp_path):
    """A roster id is often a name (cb-nguyen-van-an): it left the commune as it was, so
    the province's officials page showed names. Now the official is forwarded as a
    keyed pseudonym: stable across restarts, different in another commune, and only
    ``server province-ids`` at the commune says who it is."""
    from server.config import load_server_config
    from server.ingest import forward
    from server.ingest.store import connect
    ids = {}
    for commune in ("xa-a", "xa-b"):
        conf, store = commune_conf(tmp_path, commune, 1883, 1883, "pw")
        fill_commune(store, commune, 10, seed=3)
        db = connect(store)
        with db.conn:
            db.conn.execute("UPDATE ratings SET official = 'cb-nguyen-van-an'")
        db.close()
        sent = []
        for _ in range(2):  # the key is kept: a restarted forwarder says the same
            forwarder = forward.Forwarder(load_server_config(conf))
            rows = forwarder.db.conn.execute(forward._SELECT, [0, 100]).fetchall()
            sent.append({forward.forwarded(r, forwarder.key).official for r in rows})
            payload = contract.encode_forward_batch("b", [forward.forwarded(
                r, forwarder.key) for r in rows]).decode()
            forwarder.db.close()
            assert "nguyen" not in payload
        assert sent[0] == sent[1] and len(sent[0]) == 1
        ids[commune] = sent[0].pop()
        shown = json.loads(hailong("server", "province-ids", "--config", str(conf),
                                   "--json").stdout)
        assert shown["cb-nguyen-van-an"] == ids[commune]
    assert ids["xa-a"] != ids["xa-b"]
    # letters only, so no pseudonym ever looks like a phone number (the province's
    # contact check counted a demo official whose hex pseudonym held 8 digits in a row)
    key = bytes(32)
    for n in range(5000):
        assert re.fullmatch(r"p-[a-z]{12}", forward.pseudonym(key, f"cb-{n}"))


def test_a_rating_placed_in_the_future_is_refused_not_ranked(pg):
    """A commune server places a rating no later than its receipt (+1 h). One dated next
    year (a forged or broken commune) was stored and counted in every "last N days"
    ranking until that day came; now it is refused, as is one before the product."""
    from province import store
    pool = store.connect(pg.url)
    try:
        store.migrate(pool)
        base = dict(commune="xa-a", kiosk="k1", counter="q1", score=5, scale=5)
        now = contract.ForwardedRating(id="0b6f3c1e-5a7d-4b8e-9f10-000000000001",
                                       occurred_at=time.time() - 60, **base)
        ahead = contract.ForwardedRating(id="0b6f3c1e-5a7d-4b8e-9f10-000000000002",
                                         occurred_at=time.time() + 300 * 86400, **base)
        early = contract.ForwardedRating(id="0b6f3c1e-5a7d-4b8e-9f10-000000000003",
                                         occurred_at=1_600_000_000.0, **base)
        odd = contract.ForwardedRating(  # a factor SIPAS does not have: nothing to index
            id="0b6f3c1e-5a7d-4b8e-9f10-000000000004", occurred_at=time.time() - 60,
            survey=[contract.SurveyAnswer(q="x", factor="weather", level=5, scale=5)],
            **base)
        with pool.connection() as conn:
            stored, rejected = store.add_ratings(conn, "xa-a", [now, ahead, early, odd])
        assert stored == [now.id]
        assert rejected == [contract.Rejection(ahead.id, "time-future"),
                            contract.Rejection(early.id, "time-before-epoch"),
                            contract.Rejection(odd.id, "invalid")]
        assert store.stats(pool)["ratings"] == 1
    finally:
        pool.close()
