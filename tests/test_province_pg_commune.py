"""Issue 12: a commune whose store is on PostgreSQL forwards to the province exactly
once, including across its move from SQLite (``hailong server copy-store``): what the
province acked before the move is not sent again, what was queued is, and what comes
after is; the province holds exactly N ratings and no contact data."""

from __future__ import annotations

import contextlib
import sqlite3
import time

import psycopg
import pytest

from conftest import wait_until
from hailong.broker import free_port
from helpers import hailong
from province_support import TempDatabase, fill_commune, province_broker, province_toml
from server.ingest import pg
from test_province import commune_conf, enrol, province_stats

pytestmark = pytest.mark.slow


def backlog(store) -> int:
    # closed at once: a connection left open would (rightly) make copy-store refuse
    with contextlib.closing(sqlite3.connect(store)) as conn:
        return conn.execute("SELECT count(*) FROM forward_outbox").fetchone()[0]


def test_commune_on_postgresql_forwards_exactly_once(tmp_path, broker, procs):
    with TempDatabase() as province_db, TempDatabase() as commune_db:
        try:
            run(tmp_path, broker, procs, province_db.url, commune_db.url)
        finally:
            pg.close_pool(commune_db.url)


def run(tmp_path, broker, procs, province_url, commune_url):
    started = time.monotonic()
    pport = free_port()
    pconf = province_toml(tmp_path, province_url, pport)
    password = enrol(pconf, "xa-an")
    pbroker = province_broker(tmp_path, pport).start()
    try:
        province = procs(["province", "run", "--config", str(pconf)],
                         tmp_path / "province.log")
        province.wait_for_log("province ingest subscribed")
        # on SQLite: 200 ratings forwarded and acked
        lite_conf, lite_store = commune_conf(tmp_path, "xa-an", broker.port, pport, password,
                                             batch=50, window=2)
        assert fill_commune(lite_store, "xa-an", 200, seed=1) == 200
        server = procs(["server", "run", "--config", str(lite_conf)], tmp_path / "lite.log")
        wait_until(lambda: backlog(lite_store) == 0, timeout=60, interval=0.1,
                   message="the SQLite commune's backlog acked")
        server.stop()
        # stopped for the move: 100 more arrive meanwhile (queued, not sent)
        assert fill_commune(lite_store, "xa-an", 100, seed=2) == 100
        assert backlog(lite_store) == 100
        out = hailong("server", "copy-store", "--config", str(lite_conf), "--to", commune_url,
                      check=False)
        assert out.returncode == 0, out.stderr
        pg_conf = tmp_path / "xa-an-pg.toml"
        pg_conf.write_text(lite_conf.read_text().replace(
            "[store]\n", f'[store]\nurl = "{commune_url}"\n', 1))
        server = procs(["server", "run", "--config", str(pg_conf)], tmp_path / "pg.log")
        # and 100 after the move, stored on PostgreSQL
        assert fill_commune(commune_url, "xa-an", 100, seed=3) == 100
        watch = psycopg.connect(commune_url, autocommit=True)
        try:
            wait_until(lambda: watch.execute("SELECT count(*) FROM forward_outbox"
                                              ).fetchone()[0] == 0,
                       timeout=60, interval=0.1, message="the PostgreSQL commune's backlog")
        finally:
            watch.close()
        figures = province_stats(pconf)
        assert figures["ratings"] == 400 and figures["distinct_ids"] == 400
        assert figures["by_commune"] == {"xa-an": 400} and figures["contacts"] == 0
        # the province saw each rating once: nothing acked before the move came again
        with psycopg.connect(province_url) as conn:
            assert conn.execute("SELECT count(*) FROM ratings").fetchone()[0] == 400
        t = time.monotonic()
        server.stop()   # before their databases are dropped
        province.stop()
        print(f"stopping: {time.monotonic() - t:.1f} s")
        log = (tmp_path / "pg.log").read_text(errors="replace")
        assert "Traceback" not in log and "server stopped" in log
    finally:
        pbroker.stop()
    print(f"took {time.monotonic() - started:.1f} s")

