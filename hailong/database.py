"""What both SQLite stores (the kiosk outbox, the server store) need on open.

Several processes may open a store for the first time at once (the kiosk UI and the
uplink; the server and ``hailong server stats``). Checking which migrations are
pending and applying them is not atomic across connections, so it runs under an
exclusive lock on a side file. (Not a lock on the database file itself: closing any
descriptor of that file would drop SQLite's own POSIX locks held in this process.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: str | os.PathLike):
    """Hold an exclusive lock on ``<path>.lock`` (shared by processes on this machine)."""
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def immediate(db):
    """A write transaction that takes the write lock at BEGIN (``BEGIN IMMEDIATE``).

    Several connections write each store (kiosk UI and uplink; ingest, follow-up,
    roster, web). A deferred transaction that reads first and writes later fails at
    once with "database is locked" (SQLITE_BUSY_SNAPSHOT) if another connection
    committed in between, and the busy timeout does not help; taking the lock up front
    makes writers queue instead. ``db`` is a sqlite-utils Database, or the server
    store on PostgreSQL, where the same statement takes one advisory lock per store
    held to COMMIT (server/ingest/pg.py), so writers queue the same way.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.commit()


_migrated: set[Path] = set()


def migrate(db, path: str | os.PathLike, *migration_sets) -> None:
    """Apply pending migrations once per process and file, under the lock."""
    key = Path(path).resolve()
    if key in _migrated:
        return
    with exclusive(path):
        for migrations in migration_sets:
            migrations.apply(db)
    _migrated.add(key)
