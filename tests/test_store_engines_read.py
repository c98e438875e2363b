"""The read side on both engines (issue 12): the same ratings stored in a SQLite store and
in a throw-away PostgreSQL database give the same figures, report rows, follow-up cases
and alerts, fleet rows and dashboard pages."""

from __future__ import annotations

import io
import re
import time
from datetime import date

import pytest

psycopg = pytest.importorskip("psycopg")

import openpyxl  # noqa: E402

from hailong.database import immediate  # noqa: E402
from server import accounts  # noqa: E402
from server.config import load_server_config  # noqa: E402
from server.fleet.kiosks import Fleet, fleet_view  # noqa: E402
from server.fleet.roster import Roster  # noqa: E402
from server.followup import alerts, cases as followup  # noqa: E402
from server.followup.watch import Watcher  # noqa: E402
from server.ingest.store import Store, connect  # noqa: E402
from server.reports import figures, files as report_files, report as reports, rollup  # noqa: E402
from server.reports.rollup import day_start, local_day  # noqa: E402
from server.web import create_app  # noqa: E402
from sync import contract  # noqa: E402

from dashboard_support import PASSWORD, ROLES, login, rating  # noqa: E402
from province_support import TempDatabase  # noqa: E402

ENGINES = ("sqlite", "postgresql")
NOW = time.time()
TODAY = local_day(NOW)
QUARTER = figures.parse_period("quarter", today=TODAY)


def _raws() -> dict[str, list[bytes]]:
    """Ratings over the last ~100 days, every scale, suspect and flagged-free, with
    reasons (repeated, mixed-case ids, one Vietnamese field) and a local-midnight edge."""
    out: dict[str, list[bytes]] = {"k01": [], "k02": []}
    officials = ("cb-an", "cb-binh", "cba", "cb_chi")
    edge = day_start(TODAY) - 0.4  # 0.4 s before local midnight: yesterday
    for i in range(60):
        at = edge if i == 0 else NOW - 3600 * (7 * i + 1) - 0.5
        scale = (4, 5, 3)[i % 3]
        score = 1 + (i * 7) % scale
        kiosk = "k01" if i % 4 else "k02"
        out[kiosk].append(rating(
            score, scale=scale, official=officials[i % 4], counter=f"q{1 + i % 3}",
            kiosk=kiosk, at=at,
            reasons=(("attitude", "long-wait") if score == 1 else ("smiled",)) if i % 2 else (),
            field=("Hộ tịch", "Chứng thực", "Đất đai")[i % 3],
            procedure=("Đăng ký khai sinh", "Chứng thực bản sao", "")[i % 3] or "Khác",
            suspect="burst" if i % 17 == 5 else None,
            phone="0912345678" if score == 1 and i % 5 == 0 else None))
    return out


def _config(folder, store_line: str):
    folder.mkdir()
    path = folder / "server.toml"
    path.write_text(f'[server]\ncommune = "xa-test"\ncommune_name = "UBND xã Tân Lập"\n\n'
                    f'[store]\n{store_line}\n\n[web]\nhost = "127.0.0.1"\nport = 0\n'
                    '\n[alerts]\nofficial_low_count = 2\nofficial_low_days = 120\n',
                    encoding="utf-8")
    return load_server_config(path)


def _fill(config, raws: dict[str, list[bytes]]) -> None:
    with Store(config.store) as store:
        roster = Roster(store.db)
        for oid, name in (("cb-an", "Nguyễn Văn An"), ("cb-binh", "Trần Thị Bình"),
                          ("cba", "Cà Ba"), ("cb_chi", "Lê Chi")):
            roster.add_official(oid, name)
        for cid, name in (("q1", "Tư pháp - Hộ tịch"), ("q2", "Đất đai"), ("q3", "")):
            roster.set_counter(cid, name=name)
        for role in ROLES:
            accounts.add_user(store.db.conn, role, role, PASSWORD)
        fleet = Fleet(store.db, "xa-test")
        fleet.enrol("k01", "q1")
        fleet.enrol("k02", "q2")
        new = []
        with immediate(store.db):
            for kiosk, batch in raws.items():
                new += store.add_ratings("xa-test", kiosk, batch, NOW).new
            store.record_status("xa-test", "k01", contract.Status(
                v=1, online=True, kiosk="k01", version="0.1.0", at=NOW + 2.0, backlog=3),
                received_at=NOW)
            store.record_status("xa-test", "k02", contract.Status(
                v=1, online=False, kiosk="k02"), received_at=NOW - 7200)
        fleet.revoke("k02")
    w = Watcher(config)
    try:
        w.catch_up()
        w.on_new_ratings(new[:25])  # the ingest callback's path, then start-up's
        w.catch_up()
        w.round()
    finally:
        w.stop()
    db = connect(config.store)
    try:
        first = followup.search(db.conn, state="active", per_page=3)[0]
        followup.assign(db.conn, first[0]["id"], "office", "leader")
        followup.add_note(db.conn, first[1]["id"], "Đã gọi lại", "leader")
        followup.close(db.conn, first[2]["id"], "apologised", "leader")
        # The two stores were filled seconds apart: the same clock for both, so pages
        # that show when a case was opened or closed can be compared byte for byte.
        with db.conn:
            for sql in ("UPDATE cases SET opened_at = ?, deadline = ? + id * 3600",
                        "UPDATE cases SET closed_at = ? + 60 WHERE closed_at IS NOT NULL",
                        "UPDATE case_notes SET at = ? + 30", "UPDATE audit SET at = ? + id",
                        "UPDATE alerts SET at = ?"):
                db.conn.execute(sql, [NOW] * sql.count("?"))
    finally:
        db.close()


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    folder = tmp_path_factory.mktemp("engines")
    raws = _raws()
    with TempDatabase() as pgdb:
        configs = {"sqlite": _config(folder / "sqlite", 'path = "server.db"'),
                   "postgresql": _config(folder / "postgresql", f'url = "{pgdb.url}"')}
        for config in configs.values():
            _fill(config, raws)
        yield configs
        from server.ingest import pg
        pg.close_pools()


def _both(sites, read):
    """``read(conn)`` on each engine's store."""
    out = {}
    for name in ENGINES:
        db = connect(sites[name].store)
        try:
            out[name] = read(db.conn)
        finally:
            db.close()
    assert _first_difference(out["sqlite"], out["postgresql"]) is None
    return out["sqlite"]


def _first_difference(a, b, where="") -> str | None:
    """Where two results first differ (a readable failure instead of two long reprs)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)} != {list(b)}"
        return next((d for k in a if (d := _first_difference(a[k], b[k], f"{where}.{k}"))),
                    None)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)}"
        return next((d for i, (x, y) in enumerate(zip(a, b))
                     if (d := _first_difference(x, y, f"{where}[{i}]"))), None)
    return None if a == b and type(a) is type(b) else f"{where}: {a!r} != {b!r}"


def test_the_engines_really_differ(sites):
    pg_db = connect(sites["postgresql"].store)
    try:
        assert getattr(pg_db, "engine", "sqlite") == "postgresql"
    finally:
        pg_db.close()


def test_figures(sites):
    year = figures.parse_period(str(TODAY.year))
    last = figures.last_months(TODAY)
    got = _both(sites, lambda c: (
        figures.summary(c, last), figures.breakdowns(c, last),
        [figures.breakdown(c, last, d) for d in figures.DIMENSIONS],
        figures.breakdown(c, last, "counter", {"official": "cb-an"}),
        figures.trend(c, last), figures.trend(c, QUARTER, "day"),
        figures.reasons(c, last), figures.reasons(c, last, low=False),
        figures.reasons(c, last, official="cb-binh"), figures.summary(c, year)))
    summary = got[0]
    assert summary["count"] + summary["suspect"] == 60
    assert all(type(v) is int for k, v in summary.items() if k not in ("rate", "by_score"))
    assert [r["key"] for r in got[1]["official"]] == ["cb-an", "cb-binh", "cb_chi", "cba"]


@pytest.mark.parametrize("offset", [-86400.4, -0.6, -0.5, -0.4, 0.0, 0.4, 0.5, 43200.5, 86399.6])
def test_local_day_in_sql_on_both_engines(sites, offset):
    """The rollup's day number is the floor on both engines (SQLite's CAST truncates,
    PostgreSQL's rounds: x.5 and x.6 just before midnight are the day before)."""
    at = day_start(TODAY) + offset
    want = rollup._iso((local_day(at) - date(1970, 1, 1)).days)
    assert want == local_day(at).isoformat()
    got = _both(sites, lambda c: c.execute(
        f"SELECT {rollup.DAYNUM_SQL} FROM (SELECT ? AS occurred_at) t", [at]).fetchone()[0])
    assert rollup._iso(got) == want


def test_rollup_rebuild_and_catch_up_agree(sites):
    def rebuilt(c):
        before = sorted(c.execute("SELECT * FROM daily2").fetchall())
        rollup.rebuild(c)
        assert sorted(c.execute("SELECT * FROM daily2").fetchall()) == before
        assert rollup.catch_up(c) == 0
        return (before, sorted(c.execute("SELECT * FROM daily_reasons").fetchall()),
                sorted(c.execute("SELECT * FROM daily_scores").fetchall()))
    _both(sites, rebuilt)


def _xlsx_rows(body: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(body))
    return [[list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets]


def test_period_report(sites):
    def report(c):
        names = dict(c.execute("SELECT id, name FROM officials").fetchall())
        data = reports.build(c, QUARTER, names)
        data.pop("generated_at")
        return data, _xlsx_rows(report_files.xlsx(data, "UBND xã Tân Lập")), \
            report_files.csv_text(data)
    data = _both(sites, report)[0]
    assert data["followup"]["closed"] >= 1


def test_followup_cases_and_alerts(sites):
    def cases(c):
        out = []
        for state in ("active", "overdue", "open", "in-progress", "closed", "all"):
            rows, total = followup.search(c, state=state, per_page=100, now=NOW)
            out.append((rows, total))
        first = followup.get(c, 1)
        return (out, followup.counts(c, now=NOW),
                followup.outcomes_in(c, NOW - 200 * 86400, NOW + 1),
                followup.notes(c, 2) and [n["text"] for n in followup.notes(c, 2)],
                followup.contact(c, first) and followup.contact(c, first)["phone"],
                alerts.listing(c),
                alerts.open_count(c), alerts.open_count(c, alerts.FLEET_KINDS))
    got = _both(sites, cases)
    assert got[0][0][1] > 0 and any(a["kind"] == "official-repeated" for a in got[5])


def test_fleet_rows(sites):
    def rows(c):
        return [{k: v for k, v in r.items() if k != "age_s"} for r in fleet_view(c, NOW + 30)]
    got = _both(sites, rows)
    assert [r["id"] for r in got] == ["k01", "k02"] and got[0]["backlog"] == 3


PAGES = ["/", "/officials", "/officials/cb-an", "/officials/cba", "/counters", "/fields",
         "/cases", "/cases?state=closed", "/cases?state=all&official=cb-binh", "/cases/1",
         "/cases/2", "/fleet", "/alerts?all=1", "/users", "/reports",
         f"/reports?period={QUARTER.key}", "/api/v1/overview", "/api/v1/summary?period=month",
         "/api/v1/breakdown/official", "/api/v1/breakdown/counter", "/api/v1/trend",
         "/api/v1/reasons", "/api/v1/report", "/api/v1/cases", "/api/v1/cases/1",
         "/api/v1/fleet", "/api/v1/alerts", f"/reports/{QUARTER.key}.csv"]

# what changes between two requests whatever the engine: tokens, clocks, ages
VOLATILE = re.compile(rb'name="csrf_token" value="[^"]+"|"csrf_token": ?"[^"]+"'
                      rb'|"generated_at": ?[0-9.e+]+|"age_s": ?[0-9.]+|\d+ (?:s|gi\xc3\xa2y)\b'
                      rb'|content="[^"]*csrf[^"]*"|<meta name="csrf-token" content="[^"]+"')


def _pages(config) -> dict[str, bytes]:
    client = create_app(config).test_client()
    assert login(client, "leader").status_code == 302
    out = {}
    for page in PAGES:
        r = client.get(page)
        assert r.status_code == 200, (page, r.status_code)
        out[page] = VOLATILE.sub(b"~", r.data)
    # last, the audit log, with the clock of the lines these visits wrote made the same
    db = connect(config.store)
    try:
        with db.conn:
            db.conn.execute("UPDATE audit SET at = ? + id", [NOW])
    finally:
        db.close()
    out["/audit"] = VOLATILE.sub(b"~", client.get("/audit").data)
    return out


def test_dashboard_pages(sites):
    got = {name: _pages(sites[name]) for name in ENGINES}
    for page in [*PAGES, "/audit"]:
        a, b = got["sqlite"][page], got["postgresql"][page]
        at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        assert a == b, (page, a[max(0, at - 200):at + 80], b[max(0, at - 200):at + 80])


# --- the admin side: accounts, roster pushes, fleet, case work, alert delivery ----------

def _admin_script(config) -> list:
    """Every admin write path once, in a fixed order; what each answers."""
    from server.reports import addressee
    trace: list = []
    db = connect(config.store)
    c = db.conn
    try:
        # accounts: throttle, login, devices, account management, sessions, audit
        keys = accounts.login_keys("leader", "10.0.0.9")
        trace.append([accounts.claim_login_try(c, keys, now=NOW + i) for i in range(7)])
        trace.append(accounts.wait_before_login(c, keys, now=NOW + 8) > 0)
        trace.append(accounts.authenticate(c, "leader", "wrong", "10.0.0.8"))
        user = accounts.authenticate(c, "leader", PASSWORD, "10.0.0.9", claimed=keys)
        trace.append(user)
        trace.append(sorted(c.execute("SELECT key, count FROM login_failures").fetchall()))
        token = accounts.remember_device(c, "leader", keep=1)
        trace.append(accounts.device_key(c, token, "leader") is not None)
        accounts.remember_device(c, "leader", keep=1)  # the first is forgotten (keep=1)
        trace.append(accounts.device_key(c, token, "leader"))
        cookie, _ = accounts.start_session(c, user, hours=1)
        trace.append(accounts.session_for(c, cookie).user)
        accounts.set_official(c, "office", "cb-an", "leader")
        accounts.set_disabled(c, "technician", True, "leader")
        accounts.reset_password(c, "office", "another password", "leader")
        trace.append([{k: v for k, v in u.items() if k != "created_at"}
                      for u in accounts.users(c)])
        with pytest.raises(accounts.AccountError):
            accounts.set_disabled(c, "leader", True, "leader")  # the last active leader
        accounts.remove_user(c, "technician", "leader")
        trace.append([(a["username"], a["action"], a["target"], a["detail"])
                      for a in accounts.audit_trail(c)])
        # roster pushes and the fleet's own table
        roster, fleet = Roster(db), Fleet(db, "xa-test")
        fleet.enrol("k03", "q3")
        fleet.set_meta("tech_pin:k01", "pin-hash")
        trace.append((fleet.meta("tech_pin:k01"), [k["id"] for k in fleet.active()],
                      fleet.get("k02")["revoked_at"] is not None))
        roster.set_setting("scale", 5)
        roster.set_on_duty("q1", "cb-binh")
        kiosks = [{"id": k["id"], "counter": k["counter"]} for k in fleet.active()]
        made = roster.refresh(kiosks, "http://photos")
        trace.append([k for k, _ in made])
        trace.append(roster.refresh(kiosks, "http://photos"))  # nothing changed
        latest = roster.latest(unpublished=True)
        trace.append([(k, contract.decode_config(b).officials) for k, _, b in latest])
        for k, revision, _ in latest:
            roster.mark_published(k, revision)
        trace.append((roster.latest(unpublished=True), sorted(roster.kiosks_with_configs())))
        roster.forget("k03")
        trace.append((sorted(roster.kiosks_with_configs()), roster.settings(),
                      [(o["id"], o["active"]) for o in roster.officials()],
                      [(k["id"], k["on_duty"]) for k in roster.counters()]))
        roster.remove_official("cba")
        trace.append(roster.kiosk_config("q2", 1, "").officials)
        # case work, privacy purges
        trace.append(followup.escalate_overdue(c, now=NOW + 400 * 3600))
        active = [r["id"] for r in followup.search(c, state="active")[0]]
        followup.set_deadline(c, active[0], NOW + 900 * 3600, "chờ hồ sơ", "leader")
        followup.reopen(c, [r["id"] for r in followup.search(c, state="closed")[0]][0], "leader")
        addressee.set_(c, active[1], "Bà Lan", "Thôn 3", "leader")
        trace.append((active, addressee.get(c, active[1])))
        followup.close(c, active[1], "explained", "leader")
        trace.append((addressee.purge(c, 1, now=NOW + 5 * 86400), addressee.get(c, active[1])))
        trace.append(followup.purge_contacts(c, 1, now=NOW + 5 * 86400))
        # alerts: acknowledge, close with the case, delivery that fails and retries
        ids = [a["id"] for a in alerts.listing(c)]
        trace.append(alerts.acknowledge(c, ids[0], "leader", "đã xem"))
        trace.append(alerts.acknowledge_many(c, ids[1:4], "leader", "", alerts.FLEET_KINDS))
        trace.append(alerts.acknowledge_many(c, ids[1:4], "leader"))
        alerts.raise_alert(c, "test:1", "backlog", "k01", "thử", {"kiosk": "k01"},
                           ("mailto:a@example.org",), now=NOW)
        trace.append(alerts.raise_alert(c, "test:1", "backlog", "k01", "thử", {}, (), now=NOW))
        trace.append(alerts.deliver_due(c, style="json", chat_id="", max_attempts=1,
                                        session=None, now=NOW + 1, smtp=None))
        trace.append(c.execute("SELECT webhook, attempts, gave_up, last_error FROM "
                               "alert_deliveries ORDER BY alert_id, webhook").fetchall())
        trace.append([(a["id"], a["acknowledged_by"], a["comment"])
                      for a in alerts.listing(c, include_acknowledged=True)])
        trace.append(followup.counts(c, now=NOW + 400 * 3600))
    finally:
        db.close()
    return trace


def test_admin_side(tmp_path):
    """Accounts, roster pushes, fleet, case work and alert delivery write and answer
    alike on both engines (fresh stores: this test changes them)."""
    raws = _raws()
    traces = {}
    with TempDatabase() as pgdb:
        for name, line in (("sqlite", 'path = "server.db"'), ("postgresql", f'url = "{pgdb.url}"')):
            config = _config(tmp_path / name, line)
            _fill(config, raws)
            traces[name] = _admin_script(config)
        from server.ingest import pg
        pg.close_pools()
    assert _first_difference(traces["sqlite"], traces["postgresql"]) is None
    assert traces["sqlite"][0][0] == 0 and traces["sqlite"][0][-1] > 0  # throttled


def test_a_store_from_before_the_marks_is_counted_once(tmp_path):
    """A commune's SQLite store made by the release that followed ratings by rowid opens,
    gains ``ratings.rolled`` and is counted once: every rating, none twice (the
    migration forgets the rollup's progress, so the first catch-up rebuilds)."""
    import shutil
    import sqlite3

    config = _config(tmp_path / "new", 'path = "server.db"')
    _fill(config, _raws())
    before = _daily_tables(config.store.path)
    # the old release's store: no column, no index, no record of the migration, and
    # the rollup's progress as a rowid
    old = tmp_path / "old.db"
    shutil.copy(config.store.path, old)
    conn = sqlite3.connect(old)
    conn.execute("DROP INDEX idx_ratings_rolled")
    conn.execute("ALTER TABLE ratings DROP COLUMN rolled")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_rolled_marks'")
    conn.execute("UPDATE rollup_state SET last_rowid = (SELECT max(rowid) FROM ratings)")
    conn.commit()
    conn.close()
    db = connect(old)
    try:
        assert rollup.catch_up(db.conn) == 60  # the first catch-up: a rebuild
        assert rollup.catch_up(db.conn) == 0
        assert db.conn.execute("SELECT count(*) FROM ratings WHERE rolled IS NULL"
                               ).fetchone()[0] == 0
    finally:
        db.close()
    assert _daily_tables(old) == before


def _daily_tables(path) -> tuple:
    import sqlite3
    with sqlite3.connect(path) as conn:
        return tuple(sorted(conn.execute(f"SELECT * FROM {t}").fetchall())
                     for t in ("daily2", "daily_scores", "daily_reasons"))


def test_the_ingest_callback_never_waits_for_a_rebuild(tmp_path):
    """While a rebuild runs in the process, the callback's catch-up returns at once and
    what it left is counted by the next one (the housekeeper's)."""
    config = _config(tmp_path / "s", 'path = "server.db"')
    _fill(config, _raws())
    with Store(config.store) as store:
        with immediate(store.db):
            store.add_ratings("xa-test", "k01", [rating(2, at=NOW - 60)], NOW)
        with rollup._lock:  # as the housekeeper holds it for a rebuild
            started = time.monotonic()
            assert rollup.catch_up(store.db.conn, wait=False) == 0
            assert time.monotonic() - started < 0.5
        assert rollup.catch_up(store.db.conn) == 1
        assert figures.summary(store.db.conn, QUARTER)["count"] + \
            figures.summary(store.db.conn, QUARTER)["suspect"] == \
            store.db.conn.execute("SELECT count(*) FROM ratings WHERE occurred_at >= ? "
                                  "AND occurred_at < ?", [day_start(QUARTER.start),
                                                           day_start(QUARTER.end)]
                                  ).fetchone()[0]


def test_a_rebuild_on_postgresql_does_not_hold_the_store_write_lock(sites):
    """On PostgreSQL the rollup queues behind its own lock only: ingest's BEGIN
    IMMEDIATE (the store's write lock) goes ahead while a rebuild's transaction is open."""
    import threading

    rollup_db, writer_db = connect(sites["postgresql"].store), connect(sites["postgresql"].store)
    done = threading.Event()
    try:
        with rollup._write(rollup_db.conn):
            def write():
                with immediate(writer_db):
                    writer_db.conn.execute("UPDATE kiosks SET online = online")
                done.set()
            t = threading.Thread(target=write)
            t.start()
            assert done.wait(10), "ingest waited for the rollup's transaction"
        t.join(10)
    finally:
        rollup_db.close()
        writer_db.close()
