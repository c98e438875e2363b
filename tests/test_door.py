"""The server decides what it can know (issue 8, item 4): claims a kiosk cannot make.

Against the real ingest code and a real SQLite store: another counter, an official not
on the roster, a date in a closed quarter, a mashing kiosk that sets no suspect flag,
repeated reasons, and the flood of 40,000 low ratings in 2 s from one kiosk.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime

from conftest import COMMUNE
from hailong.settings import load
from helpers import both_stores, hailong, store_setting
from server.followup import alerts, cases as followup
from server.ingest import door
from server.reports import figures, rollup
from server.config import SERVER_SETTINGS
from server.fleet.kiosks import Fleet
from server.ingest.worker import Ingest
from server.fleet.roster import Roster
from server.ingest.store import stats
from sync import contract

TOPIC = contract.topic(COMMUNE, "k01", "ratings")


def make_ingest(server_store, **door_settings) -> Ingest:
    config = load(None, SERVER_SETTINGS, overrides={
        "server": {"commune": COMMUNE}, "store": store_setting(server_store),
        "door": door_settings})
    ingest = Ingest(config)  # not started: handle() is called directly
    db = ingest.store.db
    Fleet(db, COMMUNE).enrol("k01", "q1")
    roster = Roster(db)
    roster.add_official("cb-an", "Nguyễn Văn An")
    roster.add_official("cb-binh", "Trần Thị Bình")
    roster.set_counter("q1", officials=["cb-an"])
    roster.set_counter("q2", officials=["cb-binh"])
    return ingest


def record(**changes) -> dict:
    r = {"id": str(uuid.uuid4()), "v": 1, "kiosk": "k01", "commune": COMMUNE,
         "counter": "q1", "score": 3, "scale": 4, "created_at": time.time(),
         "clock_synced": True, "boot_id": str(uuid.uuid4()), "mono": 100.0,
         "official": "cb-an", "reasons": [], "lang": "vi"}
    r.update(changes)
    return r


def send(ingest: Ingest, records: list[dict]) -> None:
    for at in range(0, len(records), 1000):
        payload = json.dumps({"v": 1, "ratings": records[at:at + 1000]}).encode()
        ingest.handle([(TOPIC, payload, time.time())])


def row(ingest: Ingest, rid: str) -> dict:
    return next(ingest.store.db["ratings"].rows_where("id = ?", [rid]))


def flags_of(ingest: Ingest, rid: str) -> set[str]:
    return {r[0] for r in ingest.store.db.execute(
        "SELECT rule FROM rating_flags WHERE rating_id = ?", [rid])}


def counted(ingest: Ingest) -> int:
    conn = ingest.store.db.conn
    rollup.rebuild(conn)
    return figures.summary(conn, figures.parse_period("year"))["count"]


def minute_start() -> float:
    """5 s into the last whole minute: a burst that starts here stays in one minute
    (and one hour) bucket, so the counts below are exact."""
    return (time.time() // 60 - 1) * 60 + 5


@both_stores
def test_counter_comes_from_the_enrolment(server_store):
    ingest = make_ingest(server_store)
    r = record(counter="q2", official="cb-an")  # claims another counter
    send(ingest, [r])
    stored = row(ingest, r["id"])
    assert stored["counter"] == "q1" and stored["commune"] == COMMUNE
    assert flags_of(ingest, r["id"]) == {"counter-claim"}
    assert stored["flagged"] is None  # cb-an serves q1: it counts there


@both_stores
def test_official_not_on_the_roster_is_flagged_until_a_leader_confirms(server_store):
    ingest = make_ingest(server_store)
    strangers = [record(official="cb-binh", score=1), record(official="cb-nobody")]
    send(ingest, strangers + [record()])
    conn = ingest.store.db.conn
    assert [row(ingest, r["id"])["flagged"] for r in strangers] == ["roster", "roster"]
    assert stats(ingest.store.db)["suspect"] == 2 and stats(ingest.store.db)["ratings"] == 3
    assert counted(ingest) == 1
    followup.open_cases(conn, low_at_or_below=0, deadline_days=3)
    assert followup.counts(conn)["open"] == 0  # the low one opens no case yet
    confirmed = door.confirm(conn, rule="roster", official="cb-binh", by="leader")
    assert confirmed == [strangers[0]["id"]]
    assert counted(ingest) == 2 and stats(ingest.store.db)["suspect"] == 1
    assert door.open_cases_for(conn, confirmed, ingest.config.followup) == 1


@both_stores
def test_a_date_in_a_closed_quarter_is_flagged(server_store):
    ingest = make_ingest(server_store)
    year = datetime.now().year
    old = record(created_at=datetime(year - 1, 2, 10, 9).timestamp())
    send(ingest, [old, record()])
    assert "closed-period" in row(ingest, old["id"])["flagged"]
    assert counted(ingest) == 1


@both_stores
def test_closed_before_setting_and_backdating(server_store):
    today = datetime.now()
    ingest = make_ingest(server_store, closed_before=today.strftime("%Y-%m-%d"),
                         quarter_closes_after_days=0)
    fresh = record()
    send(ingest, [fresh])
    assert row(ingest, fresh["id"])["flagged"] is None
    back = record(created_at=time.time() - 3 * 86400)
    send(ingest, [back])
    assert set(row(ingest, back["id"])["flagged"].split(",")) == {"closed-period", "backdated"}


@both_stores
def test_a_mashing_kiosk_that_sets_no_suspect_flag_is_flagged_by_the_server(server_store):
    ingest = make_ingest(server_store)
    start = minute_start()
    presses = [record(created_at=start + i * 0.5, score=4) for i in range(40)]  # 20 s
    assert all("suspect" not in p for p in presses)
    send(ingest, presses)
    s = stats(ingest.store.db)
    assert s["ratings"] == 40 and s["suspect"] == 40 - 12  # 12 a minute count
    assert counted(ingest) == 12
    kinds = [a["kind"] for a in alerts.listing(ingest.store.db.conn)]
    assert kinds.count("kiosk-rate") == 1


@both_stores
def test_repeated_and_unknown_reasons(server_store):
    ingest = make_ingest(server_store)
    r = record(score=1, reasons=["attitude"] * 12)
    odd = record(score=1, reasons=["rude", "long-wait", "rude"])
    send(ingest, [r, odd])
    assert json.loads(row(ingest, r["id"])["reasons"]) == ["attitude"]
    assert json.loads(row(ingest, odd["id"])["reasons"]) == ["long-wait"]
    conn = ingest.store.db.conn
    rollup.rebuild(conn)
    assert dict(conn.execute("SELECT reason, sum(n) FROM daily_reasons GROUP BY reason")) == {
        "attitude": 1, "long-wait": 1}


@both_stores
def test_the_flood_is_stored_flagged_and_opens_no_cases(server_store):
    """40,000 low ratings from one kiosk in 2 s: all stored, nearly all flagged, a
    handful of cases and alerts, one rate alert."""
    ingest = make_ingest(server_store)
    start = minute_start()
    flood = [record(score=1, created_at=start + i * 2 / 40_000, reasons=["attitude"])
             for i in range(40_000)]
    started = time.monotonic()
    send(ingest, flood)
    took = time.monotonic() - started
    conn = ingest.store.db.conn
    s = stats(ingest.store.db)
    assert s["ratings"] == 40_000 and s["suspect"] >= 40_000 - 12
    opened = followup.open_cases(conn, low_at_or_below=0, deadline_days=3)
    assert opened <= 12
    alerts.check(conn, ingest.config.alerts, ())
    kinds = [a["kind"] for a in alerts.listing(conn, limit=1000)]
    assert kinds.count("low-rating") <= 12 and kinds.count("kiosk-rate") == 1
    assert counted(ingest) <= 12
    print(f"flood of 40,000 stored in {took:.1f} s")


@both_stores
def test_confirm_and_flags_commands(tmp_path, server_store):
    ingest = make_ingest(server_store)
    send(ingest, [record(official="cb-nobody", score=1)])
    ingest.store.close()
    conf = tmp_path / "server.toml"
    url = f'url = "{server_store}"\n' if isinstance(server_store, str) else ""
    conf.write_text(f'[server]\ncommune = "{COMMUNE}"\n[store]\npath = "server.db"\n{url}')
    out = hailong("server", "flags", "--config", str(conf), "--json").stdout
    assert json.loads(out)[0]["rule"] == "roster"
    out = hailong("server", "confirm-flags", "--config", str(conf), "--rule", "roster",
                  "--official", "cb-nobody", "--by", "chu-tich").stdout
    assert "1 rating(s) now count" in out and "1 follow-up case(s)" in out
    assert json.loads(hailong("server", "flags", "--config", str(conf), "--json").stdout) == []
    bad = hailong("server", "confirm-flags", "--config", str(conf), "--rule", "nope",
                  check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


@both_stores
def test_a_leader_confirms_on_the_dashboard(tmp_path, server_store):
    from dashboard_support import add_users, csrf_of, load as load_dash, login
    from server.web import create_app

    ingest = make_ingest(server_store)
    held = record(official="cb-nobody", score=1)
    send(ingest, [held, record()])
    ingest.store.close()
    config = load_dash(tmp_path, store=server_store)
    add_users(config)
    app = create_app(config)
    client = app.test_client()
    login(client, "technician")
    assert client.get("/flags").status_code == 403  # it names officials: leaders only
    client = app.test_client()
    login(client, "leader")
    page = client.get("/flags")
    assert page.status_code == 200 and "cb-nobody" in page.text
    done = client.post("/flags/confirm", data={
        "csrf_token": csrf_of(page.text), "rule": "roster", "kiosk": "k01",
        "official": "cb-nobody"})
    assert done.status_code == 302
    assert "cb-nobody" not in client.get("/flags").text
    db = connect_store(server_store)
    assert db.execute("SELECT flagged FROM ratings WHERE id = ?", [held["id"]]).fetchone() \
        == (None,)
    assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 1


def connect_store(server_store):
    from server.ingest.store import connect
    return connect(server_store)
