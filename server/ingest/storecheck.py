"""Fail loudly (issue 8, item 6): a damaged store refuses to start.

(On PostgreSQL, issue 12: the server must answer, the database must be empty or ours,
and a write must commit; the engine checks its own pages.)

A store with one bad index page opens, migrates and reports READY; then every insert
into that index fails, ingest rolls back and retries for ever, and no kiosk's rating
is stored, silently. So before READY, ``hailong server run`` checks the file's
structure (``PRAGMA quick_check``: every page of every b-tree, in time linear in the
file) and that a write commits; if either fails it exits 1 with one line naming the
file and the fix, and systemd shows that line (and does not report the service up).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from hailong import database
from hailong.errors import HailongError

from server.ingest import engine

FIX = ("stop here: keep the file, then recover it with "
       "`sqlite3 {path} .recover | sqlite3 {path}.recovered` and move "
       "{path}.recovered into its place (or restore the last backup), then start again")


class StoreDamaged(HailongError, RuntimeError):
    """The server store failed its integrity or write check at start."""


def check(where) -> None:
    """Raise StoreDamaged if the store ``where`` names (the ``[store]`` section or a
    path) is damaged or cannot be written. A missing file is fine (a fresh store is
    made)."""
    path = engine.target(where)
    if engine.is_postgres(path):
        return _check_postgres(path)
    path = Path(path)
    if not path.exists():
        return
    # Under the lock that migrations take: a CLI command creating a fresh store at the
    # same moment must not see our write between its schema read and its write.
    with database.exclusive(path):
        problem = _integrity(path) or _write(path)
    if problem:
        raise StoreDamaged(f"server store {path} is damaged ({problem}): "
                           + FIX.format(path=path))


def _check_postgres(url: str) -> None:
    """PostgreSQL checks its own pages; here: the server answers (StoreUnreachable, one
    line), the database is empty or ours, and a write commits."""
    from server.ingest import pg
    conn = pg.Connection(url)
    try:
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema()")}
        if tables and "_hailong_migrations" not in tables:
            raise StoreDamaged(f"[store] url {engine.describe(url)}: the database holds "
                               f"{len(tables)} tables but not Hài Lòng's (no "
                               "_hailong_migrations): give the server a database of its own")
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE IF NOT EXISTS start_checks (at double precision)")
        conn.execute("DELETE FROM start_checks")
        conn.execute("INSERT INTO start_checks (at) VALUES (?)", [time.time()])
        conn.commit()
    except sqlite3.Error as e:  # the seam's errors (server/ingest/pg.py)
        conn.rollback()
        raise StoreDamaged(f"[store] url {engine.describe(url)}: write check failed: "
                           f"{e}") from None
    finally:
        conn.close()


def _integrity(path: Path) -> str | None:
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            rows = conn.execute("PRAGMA quick_check(3)").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return f"integrity check: {' '.join(str(e).split())}"
    if rows != [("ok",)]:
        # one line: SQLite's report spans several
        text = " ".join(" ".join(str(r[0]) for r in rows).split())
        return "integrity check: " + text[:300]
    return None


def _write(path: Path) -> str | None:
    # A small committed write: a read-only file or folder, a full disk or an I/O
    # error shows here, not after READY.
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE IF NOT EXISTS start_checks (at REAL)")
            conn.execute("DELETE FROM start_checks")
            conn.execute("INSERT INTO start_checks (at) VALUES (?)", [time.time()])
            conn.commit()
        finally:
            conn.close()
    except sqlite3.Error as e:
        return f"write check: {e}"
    return None
