"""`hailong server copy-store` (issue 12): a commune's SQLite store moved into an empty
PostgreSQL store reads the same through the server's own code, and goes on working
(new rows take new ids); refusals are one line and write nothing."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import time

import pytest

from dashboard_support import add_users, load, login, rating, store_ratings, write_config
from helpers import hailong
from province_support import PHONE, TempDatabase
from server.ingest import pg, seed
from server.ingest.store import Store, connect
from server.followup.watch import Watcher
from server.web import create_app
from sync import contract

PAGES = ("/", "/officials", "/officials/cb-le-van-cuong", "/counters", "/fields", "/cases",
         "/fleet", "/api/v1/overview", "/api/v1/cases", "/api/v1/fleet")


@pytest.fixture
def target():
    with TempDatabase() as db:
        try:
            yield db.url
        finally:
            pg.close_pool(db.url)


def fill(tmp_path):
    """A commune store with a bit of everything: seeded ratings (cases, contacts,
    roster, daily figures), ratings through ingest with call-back numbers (their cases
    and alerts), rejections (one holding a NUL), kiosks' status, accounts, enrolled
    kiosks, and a forward outbox the province partly acked."""
    config = load(tmp_path)
    add_users(config)
    db = connect(config.store)
    seed.seed(db, 1500, days=40, commune="xa-test", low_at_or_below=2)
    db.close()
    conf_path = tmp_path / "server.toml"
    seed.enrol_demo(conf_path, 4)
    new = store_ratings(config, [rating(1, phone=PHONE, reasons=("cho-doi-lau",))
                                 for _ in range(12)] + [rating(4) for _ in range(20)])
    with Watcher(config) as w:
        w.on_new_ratings(new)
        w.round()
    with Store(config.store) as store, store.db.conn as conn:
        store.reject("k01", "invalid", "bad\x00byte")
        store.reject("k02", "conflict", "same id, different content")
        store.record_status("xa-test", "k01", contract.Status(v=1, online=True, kiosk="k01",
                                                              at=time.time()), time.time())
        conn.execute("DELETE FROM forward_outbox WHERE seq <= 1000")  # acked
    return config, conf_path


def counts(db) -> dict:
    return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in (
        "ratings", "contacts", "cases", "alerts", "rejections", "kiosks", "users",
        "enrolled_kiosks", "officials", "forward_outbox", "daily2")}


def pages(config) -> dict:
    client = create_app(config).test_client()
    login(client, "leader")
    out = {}
    for page in PAGES:
        r = client.get(page)
        assert r.status_code == 200, page
        # the session's token and the seconds since a kiosk was seen differ; nothing else
        text = re.sub(r'name="csrf_token" value="[^"]*"', "", r.get_data(as_text=True))
        out[page] = re.sub(r'"age_s":[\d.]+', "", text)
    return out


def test_copy_reads_the_same_and_keeps_working(tmp_path, target):
    config, conf_path = fill(tmp_path)
    lite = connect(config.store)
    before = counts(lite)
    top_case = lite.execute("SELECT max(id) FROM cases").fetchone()[0]
    top_seq = lite.execute("SELECT seq FROM sqlite_sequence WHERE name = 'forward_outbox'"
                           ).fetchone()[0]
    lite.close()
    assert before["alerts"] and before["contacts"] and before["forward_outbox"] < 1532

    t0 = time.monotonic()
    out = hailong("server", "copy-store", "--config", str(conf_path), "--to", target)
    took = time.monotonic() - t0
    assert "ratings: 1532" in out.stdout and "[store] url" in out.stdout.splitlines()[-1]
    print(f"copy-store of {sum(before.values())} rows: {took:.2f} s (process included)")

    pg_dir = tmp_path / "pg"
    pg_dir.mkdir()
    pg_conf = write_config(pg_dir, store=target)
    pg_config = load(pg_dir, store=target)
    db = connect(target)
    assert counts(db) == before
    assert db.execute("SELECT detail FROM rejections WHERE kiosk = 'k01'").fetchone()[0] \
        == "bad\ufffdbyte"  # NUL: what the seam stores for it on PostgreSQL
    db.close()

    lite_stats = json.loads(hailong("server", "stats", "--config", str(conf_path),
                                    "--json").stdout)
    pg_stats = json.loads(hailong("server", "stats", "--config", str(pg_conf),
                                  "--json").stdout)
    assert pg_stats == lite_stats and pg_stats["ratings"] == 1532
    assert pages(pg_config) == pages(config)

    # new work after the copy: no id taken twice
    new = store_ratings(pg_config, [rating(1, phone=PHONE) for _ in range(5)])
    with Watcher(pg_config) as w:
        w.on_new_ratings(new)
        w.round()
    with Store(pg_config.store) as store, store.db.conn:
        store.reject("k03", "invalid", "after the copy")
    db = connect(target)
    try:
        assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 1537
        assert db.execute("SELECT min(id) FROM cases WHERE rating_id IN (?,?,?,?,?)",
                          [r.id for r in new]).fetchone()[0] > top_case
        assert db.execute("SELECT min(seq) FROM forward_outbox WHERE rating_id = ?",
                          [new[0].id]).fetchone()[0] > top_seq
        assert db.execute("SELECT count(DISTINCT rowid) FROM ratings").fetchone()[0] == 1537
        assert db.execute("SELECT count(*) FROM rejections").fetchone()[0] == 3
    finally:
        db.close()


def one_line_refusal(*args) -> str:
    out = hailong("server", "copy-store", *args, check=False)
    assert out.returncode == 1, out
    # (a fresh target logs its migrations, as every command does)
    said = [line for line in out.stderr.splitlines() if " INFO " not in line]
    assert "Traceback" not in out.stderr and len(said) == 1, out.stderr
    return said[0]


def test_refusals_write_nothing(tmp_path, target):
    config, conf_path = fill(tmp_path)
    conf = str(conf_path)
    # a bad URL, or not a PostgreSQL one
    assert "cannot use PostgreSQL" in one_line_refusal(
        "--config", conf, "--to", "postgresql://nobody@127.0.0.1:1/nowhere")
    assert "postgresql://" in one_line_refusal("--config", conf, "--to", "mysql://x/y")
    # the server (anything) has the file open: nothing read, nothing written
    holder = sqlite3.connect(config.store.path)
    holder.execute("SELECT count(*) FROM ratings").fetchone()
    assert "is in use" in one_line_refusal("--config", conf, "--to", target)
    holder.close()
    import psycopg
    with psycopg.connect(target) as conn:  # not even a schema was made there
        assert conn.execute("SELECT count(*) FROM information_schema.tables WHERE "
                            "table_schema = 'public'").fetchone()[0] == 0
    # a store made by a newer release
    with contextlib.closing(sqlite3.connect(config.store.path)) as lite, lite:
        lite.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('hailong-server', 'm999_from_the_future', '2027-01-01')")
    assert "newer release" in one_line_refusal("--config", conf, "--to", target)
    with contextlib.closing(sqlite3.connect(config.store.path)) as lite, lite:
        lite.execute("DELETE FROM _sqlite_migrations WHERE name = 'm999_from_the_future'")
        # a value PostgreSQL cannot take (SQLite keeps text in an integer column)
        lite.execute("UPDATE cases SET score = 'low' WHERE id = (SELECT max(id) FROM cases)")
    err = one_line_refusal("--config", conf, "--to", target)
    assert "copy failed, nothing written to PostgreSQL" in err, err
    db = connect(target)  # one transaction: the tables copied before it are empty again
    try:
        assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    finally:
        db.close()
    # a target already holding ratings
    (tmp_path / "other").mkdir()
    store_ratings(load(tmp_path / "other", store=target), [rating(3)])
    err = one_line_refusal("--config", conf, "--to", target)
    assert "already holds 1 ratings" in err and "nothing was copied" in err
    db = connect(target)
    assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    db.close()


def test_a_database_of_someone_else_is_refused(tmp_path, target):
    import psycopg
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    config = load(tmp_path)
    store_ratings(config, [rating(2)])
    err = one_line_refusal("--config", str(tmp_path / "server.toml"), "--to", target)
    assert "not Hài Lòng's" in err and "nothing was copied" in err
    with psycopg.connect(target) as conn:
        assert [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public'")] == ["invoices"]
