"""The server store on PostgreSQL beside SQLite (issue 12, item 1): one input, the same
figures from `hailong server stats --json` on both engines; a bad `[store] url` is one
line, not a traceback; the schema is made once however many processes open it first."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import psycopg
import pytest

from conftest import COMMUNE
from helpers import hailong
from province_support import TempDatabase
from server.config import load_server_config
from server.ingest import clock, pg
from server.ingest.worker import Ingest
from sync import contract

NOW = time.time()


def write_config(folder, url: str = "", extra: str = ""):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "server.toml"
    url_line = f'url = "{url}"\n' if url else ""
    path.write_text(f'[server]\ncommune = "{COMMUNE}"\n\n[store]\npath = "server.db"\n'
                    f'{url_line}\n{extra}', encoding="utf-8")
    return path


def messages() -> list[tuple[str, bytes, float]]:
    """One fixed morning's traffic: good ratings (some with a call-back number, some
    with a transaction rated twice, some unsynchronised), a re-send, a conflict, garbage,
    statuses."""
    ratings_topic = contract.topic(COMMUNE, "k01", "ratings")
    boot, unsynced_boot = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))
    out: list[tuple[str, bytes, float]] = []
    records = []
    for i in range(120):
        synced = i % 5 != 0
        records.append({
            "id": str(uuid.UUID(int=1000 + i)), "v": 1, "kiosk": "k01", "commune": COMMUNE,
            "counter": "q1", "score": 1 + i % 4, "scale": 4,
            "created_at": NOW - 3000 + i if synced else 978307200.0 + i,
            "clock_synced": synced, "boot_id": boot if synced else unsynced_boot,
            "mono": 500.0 + i, "official": f"cb-{i % 3}",
            "reasons": ["cho-doi-lau"] if i % 4 == 0 else [],
            "dossier": f"H{i:03d}" if i % 2 else None, "lang": "vi",
            "transaction": f"tx-{i % 3}" if i % 7 == 0 else None,
            "suspect": "burst" if i % 11 == 0 else None,
            **({"contact": {"phone": "0912345678", "consent": True,
                            "consent_text": "Tôi đồng ý"}} if i % 6 == 0 else {})})
    for start in range(0, len(records), 40):
        out.append((ratings_topic, json.dumps({"v": 1, "ratings": records[start:start + 40]}
                                              ).encode(), NOW))
    out.append((ratings_topic, json.dumps({"v": 1, "ratings": records[:3]}).encode(), NOW))
    clash = dict(records[5], score=4 if records[5]["score"] != 4 else 1)
    out.append((ratings_topic, json.dumps({"v": 1, "ratings": [clash]}).encode(), NOW))
    out.append((ratings_topic, b"\xff\x00 not json", NOW))
    out.append((ratings_topic, json.dumps({"v": 1, "ratings": [dict(records[9], score=9,
                id=str(uuid.UUID(int=9)))]}).encode(), NOW))
    out.append((contract.topic(COMMUNE, "k01", "status"), json.dumps({
        "v": 1, "online": True, "kiosk": "k01", "at": 978307200.0 + 400,
        "clock_synced": False, "boot_id": unsynced_boot, "mono": 650.0}).encode(), NOW + 1))
    return out


def fill(config_path) -> None:
    ingest = Ingest(load_server_config(config_path))  # not started: handle() directly
    try:
        for message in messages():
            ingest.handle([message])
        ingest.store.place_all()
    finally:
        ingest.stop()


def stats_json(config_path) -> dict:
    return json.loads(hailong("server", "stats", "--config", str(config_path),
                              "--json").stdout)


def placed_times(db) -> dict:
    return {r[0]: (round(r[1], 6), r[2]) for r in db.execute(
        "SELECT id, occurred_at, time_source FROM ratings")}


def test_the_same_input_gives_the_same_figures_on_both_engines(tmp_path):
    sqlite_conf = write_config(tmp_path / "sqlite")
    with TempDatabase() as database:
        pg_conf = write_config(tmp_path / "pg", url=database.url)
        try:
            fill(sqlite_conf)
            fill(pg_conf)
            on_sqlite, on_pg = stats_json(sqlite_conf), stats_json(pg_conf)
            from server.ingest.store import connect
            dbs = [connect(load_server_config(c).store) for c in (sqlite_conf, pg_conf)]
            times = [placed_times(db) for db in dbs]
            for db in dbs:
                db.close()
        finally:
            pg.close_pool(database.url)
        # nothing of it went to a SQLite file
        assert not (tmp_path / "pg" / "server.db").exists()
    assert on_pg["ratings"] > 100 and on_pg["rejected"] >= 4
    assert on_pg["rejected_by_reason"].keys() >= {"conflict", "bad-batch", "invalid",
                                                  "duplicate-transaction"}
    for figures in (on_sqlite, on_pg):  # last_seen is the moment each ran
        for kiosk in figures["kiosks"].values():
            kiosk.pop("last_seen")
    assert on_pg == on_sqlite
    assert times[0] == times[1]  # every rating placed in time alike
    assert {source for _, source in times[1].values()} == {clock.SOURCE_KIOSK,
                                                           clock.SOURCE_BOUND}


def test_a_bad_url_is_one_line(tmp_path):
    from hailong.broker import free_port
    closed = f"postgresql://postgres:secret@127.0.0.1:{free_port()}/hailong"
    for url, words in ((closed, "cannot use PostgreSQL at"),
                       ("postgresql://postgres@127.0.0.1:5432/hailong_no_such_db",
                        "does not exist"),
                       ("mysql://x@localhost/db", "must start with postgresql://")):
        conf = write_config(tmp_path / str(abs(hash(url))), url=url)
        for args in (["server", "stats", "--json"], ["server", "run"]):
            result = subprocess.run([sys.executable, "-m", "hailong", *args, "--config",
                                     str(conf)], capture_output=True, text=True, timeout=60)
            assert result.returncode == 1, (args, result.stderr)
            assert "Traceback" not in result.stderr, result.stderr
            lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
            assert len(lines) == 1 and words in lines[0], result.stderr
            assert "secret" not in result.stderr


def test_first_opens_at_once_make_the_schema_once(tmp_path):
    with TempDatabase() as database:
        conf = write_config(tmp_path, url=database.url)
        runs = [subprocess.Popen([sys.executable, "-m", "hailong", "server", "stats",
                                  "--json", "--config", str(conf)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
        outs = [r.communicate(timeout=120) for r in runs]
        assert all(r.returncode == 0 for r in runs), [e for _, e in outs]
        assert all(json.loads(o)["ratings"] == 0 for o, _ in outs)
        with psycopg.connect(database.url) as conn:
            names = conn.execute("SELECT migration_set, name FROM _hailong_migrations"
                                 ).fetchall()
        assert len(names) == len(set(names)) >= 21
        assert ("hailong-server", "m001_ratings") in names


def test_a_database_that_is_not_ours_stops_the_server_with_one_line(tmp_path):
    with TempDatabase() as database:
        with psycopg.connect(database.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE invoices (id int)")
        conf = write_config(tmp_path, url=database.url)
        result = subprocess.run([sys.executable, "-m", "hailong", "server", "run",
                                 "--config", str(conf)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "not Hài Lòng's" in result.stderr


@pytest.mark.parametrize("sql", ["SELECT '50%' || ?", "SELECT ? || '?'"])
def test_placeholders_and_percent_signs_translate(sql):
    assert pg.translate(sql).count("%s") == 1
    assert "%%" in pg.translate("SELECT '50%' || ?")


def test_pg_dump_and_restore_as_the_docs_say(tmp_path):
    """docs/postgresql.md's backup and restore, on a filled store: the restored
    database opens (no migration re-run), holds every rating, and still queues new ones
    for the province (the trigger and its function came back)."""
    import shutil
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    with TempDatabase() as source, TempDatabase() as target:
        conf = write_config(tmp_path / "a", url=source.url)
        try:
            fill(conf)
            before = stats_json(conf)
        finally:
            pg.close_pool(source.url)
        dump = tmp_path / "store.dump"
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source.url],
                       check=True, timeout=120)
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={target.url}", str(dump)],
                       check=True, timeout=120)
        restored = write_config(tmp_path / "b", url=target.url)
        try:
            after = stats_json(restored)
            with psycopg.connect(target.url, autocommit=True) as conn:
                conn.execute("INSERT INTO ratings (id, kiosk, score, scale, occurred_at, "
                             "fingerprint) VALUES ('x-1', 'k01', 4, 4, 1.9e9, 'f')")
                queued = conn.execute("SELECT count(*) FROM forward_outbox WHERE "
                                      "rating_id = 'x-1'").fetchone()[0]
        finally:
            pg.close_pool(target.url)
    for figures in (before, after):
        for kiosk in figures["kiosks"].values():
            kiosk.pop("last_seen")
    assert after == before and after["ratings"] > 100
    assert queued == 1


def test_ingest_survives_its_connection_being_cut(tmp_path):
    """PostgreSQL ends the writer's session (a restart, an admin's
    pg_terminate_backend): that batch fails and is not acked, the next one is stored on
    a new connection, nothing twice."""
    import sqlite3
    with TempDatabase() as database:
        conf = write_config(tmp_path, url=database.url)
        ingest = Ingest(load_server_config(conf))
        try:
            first, second, third = messages()[:3]
            stored = len(ingest.handle([first])[0].stored)
            with psycopg.connect(database.url, autocommit=True) as admin:
                cut = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM "
                                    "pg_stat_activity WHERE datname = current_database() "
                                    "AND pid <> pg_backend_pid()").fetchone()[0]
            assert cut >= 1
            with pytest.raises(sqlite3.OperationalError):
                ingest.handle([second])  # no ack: the kiosk sends it again
            ingest.store.anchors.clear()  # as the writer loop does after a failure
            stored += len(ingest.handle([second])[0].stored)
            stored += len(ingest.handle([third])[0].stored)
            assert stored > 100
            assert ingest.store.db.execute("SELECT count(*) FROM ratings").fetchone()[0] \
                == stored
        finally:
            ingest.stop()
            pg.close_pool(database.url)
