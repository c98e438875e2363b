"""Fail loudly (issue 8, item 6): a server store with one overwritten index page
refuses to start with one line naming the file and the fix, instead of reporting
READY and then storing nothing for every kiosk."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid

from conftest import COMMUNE
from server.ingest.store import Store

HAILONG = [sys.executable, "-m", "hailong"]


def fill(path, n: int = 3000) -> None:
    with Store(path) as store:
        raws = []
        for i in range(n):
            raws.append((
                '{"id":"%s","v":1,"kiosk":"k01","commune":"%s","counter":"q1","score":4,'
                '"scale":4,"created_at":%f,"clock_synced":true,"boot_id":"%s","mono":%d}'
                % (uuid.uuid4(), COMMUNE, time.time() - i, uuid.uuid4(), 100 + i)).encode())
        with store.db.conn:
            store.add_ratings(COMMUNE, "k01", raws, time.time())


def damage_an_index_page(path) -> int:
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND "
                        "tbl_name = 'ratings' AND sql LIKE '%occurred_at%' LIMIT 1").fetchone()[0]
    conn.close()
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(os.urandom(page_size))
    return root


def test_a_damaged_store_refuses_to_start(site):
    db = site.folder / "server.db"
    fill(db)
    damage_an_index_page(db)
    try:
        run = subprocess.run([*HAILONG, "server", "run", "--config", str(site.server_conf)],
                             capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError("the server started on a damaged store (no refusal in 60 s)")
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    error = [line for line in lines if line.startswith("Error:")]
    assert len(error) == 1 and "Traceback" not in run.stderr, run.stderr
    assert str(db) in error[0] and "damaged" in error[0] and ".recover" in error[0]


def test_a_healthy_store_passes_the_check(tmp_path):
    from server.ingest import storecheck
    db = tmp_path / "server.db"
    fill(db, 50)
    storecheck.check(db)  # no exception
    storecheck.check(tmp_path / "missing.db")  # a fresh store is made later


def test_a_read_only_store_refuses_to_start(tmp_path):
    from server.ingest import storecheck
    db = tmp_path / "server.db"
    fill(db, 10)
    os.chmod(db, 0o444)
    try:
        if os.access(db, os.W_OK):  # root writes anyway: nothing to show
            return
        try:
            storecheck.check(db)
        except storecheck.StoreDamaged as e:
            assert "write check" in str(e) and str(db) in str(e)
        else:
            raise AssertionError("a read-only store passed the write check")
    finally:
        os.chmod(db, 0o644)
