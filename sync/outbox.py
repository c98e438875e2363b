"""The kiosk's local ratings store: an SQLite outbox shared by the UI and the uplink.

A rating is committed here, durably (WAL, ``synchronous=FULL`` on every connection),
before the screen says thank you. Each row is ``pending`` until the server acks it
(``acked``) or refuses it with a reason (``rejected``, kept and never retried blindly).

A row is *sealed* once the citizen is done with it (reasons and contact are added
after the score). The uplink only sends sealed rows; it seals rows whose citizen
walked away after ``grace`` seconds, so nothing waits for ever.

Two processes open this file (``hailong kiosk run`` writes, ``hailong sync run``
sends and marks); either may be killed at any moment without losing a committed row.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

import msgspec
import sqlite_utils
from sqlite_utils import Migrations

from hailong import database
from hailong.errors import HailongError
from sync import contract

from kiosk.clock import since_boot

log = logging.getLogger(__name__)

PENDING, ACKED, REJECTED = "pending", "acked", "rejected"

migrations = Migrations("hailong-outbox")


@migrations()
def m001_ratings(db: sqlite_utils.Database) -> None:
    db["ratings"].create({
        "id": str, "body": str, "state": str, "sealed": int, "stored_at": float,
        "attempts": int, "next_send_at": float, "acked_at": float, "reason": str,
    }, pk="id", not_null={"body", "state", "sealed", "stored_at", "attempts", "next_send_at"},
        defaults={"state": PENDING, "sealed": 0, "attempts": 0, "next_send_at": 0.0})
    db["ratings"].create_index(["state", "sealed", "next_send_at"], index_name="ratings_due")
    db["events"].create({"id": int, "at": float, "kind": str, "detail": str}, pk="id")


@migrations()
def m002_inbox(db: sqlite_utils.Database) -> None:
    # What the server sends down, kept here because the UI never touches the network:
    # the uplink stores it, the UI reads it. Only validated config is stored, so the
    # newest row is always the last good one.
    db["remote_config"].create({"revision": int, "body": str, "received_at": float},
                               pk="revision")
    db["sessions"].create({"id": int, "body": str, "received_at": float, "used": int},
                          pk="id", defaults={"used": 0})


@migrations()
def m003_duty_and_link(db: sqlite_utils.Database) -> None:
    # Sign-ins at the kiosk (kiosk/duty.py), and the uplink's live broker state for the
    # technician menu (the UI process cannot see the uplink's connection otherwise).
    db.execute("CREATE TABLE IF NOT EXISTS kiosk_duty (id INTEGER PRIMARY KEY, "
               "official TEXT, action TEXT NOT NULL, at REAL NOT NULL)")
    db["uplink_state"].create({"id": int, "connected": int, "changed_at": float,
                               "error": str}, pk="id")


class OutboxError(HailongError, RuntimeError):
    """The outbox cannot be used."""


class OutboxFull(OutboxError, OSError):
    """The disk is full: the rating was not stored; everything stored before is safe."""


class Outbox:
    """The outbox file. Use as a context manager; one instance per thread."""

    def __init__(self, path: str | os.PathLike, *, check: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with database.exclusive(self.path):  # one opener at a time checks and migrates
            self.db = self._open()
            if check and not self._healthy():
                self.db.close()
                aside = self._move_aside()
                self.db = self._open()
                migrations.apply(self.db)
                self.log_event("outbox-corrupt",
                               f"moved aside to {aside.name}; started a fresh one")
                log.error("outbox %s was corrupt: moved aside to %s", self.path, aside)
            else:
                with _disk_errors():
                    migrations.apply(self.db)
        self._inode = os.stat(self.path).st_ino

    # --- opening and health ---------------------------------------------------------

    def _open(self) -> sqlite_utils.Database:
        # One thread at a time, but not always the one that opened it (the uplink is
        # built on one thread and run on another).
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # a rating is on disk before "thank you"
        except sqlite3.DatabaseError:
            pass  # a corrupt header: _healthy() will say so
        return db

    def _healthy(self) -> bool:
        try:
            rows = self.db.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as e:
            log.error("outbox integrity check failed: %s", e)
            return False
        return rows == [("ok",)]

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(str(self.path) + suffix)
            if src.exists():
                src.rename(Path(str(aside) + suffix))
        return aside

    def was_replaced(self) -> bool:
        """True if the file at ``path`` is no longer the one this handle has open
        (the other process moved a corrupt outbox aside): reopen to follow it."""
        try:
            return os.stat(self.path).st_ino != self._inode
        except FileNotFoundError:
            return True

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self):
        """A write transaction: the lock taken at BEGIN (two processes write this file),
        disk-full and I/O errors turned into OutboxFull / OutboxError."""
        with _disk_errors(), database.immediate(self.db):
            yield

    # --- the kiosk's side -------------------------------------------------------------

    def add(self, rating: contract.Rating, *, sealed: bool = True) -> None:
        """Store a new rating durably; returns only once it is on disk."""
        body = contract.encode(rating).decode()
        with self.transaction():
            self.db.execute(
                "INSERT INTO ratings (id, body, state, sealed, stored_at) VALUES (?, ?, ?, ?, ?)",
                [rating.id, body, PENDING, int(sealed), time.time()])

    def amend(self, rating_id: str, *, seal: bool = True, **changes) -> bool:
        """Add what the citizen said after the score (reasons, contact). Returns False
        if the row was already sealed (the citizen took too long) and nothing changed."""
        with self.transaction():
            row = self.db.execute(
                "SELECT body FROM ratings WHERE id = ? AND sealed = 0", [rating_id]).fetchone()
            if row is None:
                return False
            rating = msgspec.json.decode(row[0], type=contract.Rating)
            rating = msgspec.structs.replace(rating, **changes)
            self.db.execute("UPDATE ratings SET body = ?, sealed = ? WHERE id = ?",
                            [contract.encode(rating).decode(), int(seal), rating_id])
        return True

    def seal(self, rating_id: str) -> None:
        with self.transaction():
            self.db.execute("UPDATE ratings SET sealed = 1 WHERE id = ?", [rating_id])

    def get(self, rating_id: str) -> dict | None:
        rows = list(self.db["ratings"].rows_where("id = ?", [rating_id]))
        return rows[0] if rows else None

    # --- the uplink's side ------------------------------------------------------------

    def seal_stale(self, grace: float, now: float | None = None) -> int:
        """Seal rows left open longer than ``grace`` seconds (or stamped in the future,
        after the wall clock was set back)."""
        now = time.time() if now is None else now
        with self.transaction():
            cur = self.db.execute(
                "UPDATE ratings SET sealed = 1 WHERE sealed = 0 AND (stored_at < ? OR stored_at > ?)",
                [now - grace, now + 60])
        return cur.rowcount

    def due(self, limit: int, now: float | None = None) -> list[tuple[str, str, int]]:
        """Pending sealed rows whose send time has come: (id, body, attempts so far).

        Longest-waiting first, in the index's own order: sorting by id instead would
        sort the whole backlog for every batch.

        ``next_send_at`` is on the monotonic clock (seconds since boot), not the wall
        clock: a wall clock set back by an hour (NTP's first sync on a Pi that booted
        with a clock ahead) delayed every unacked rating by that hour (issue 8). A
        value from an earlier boot is reset on the uplink's first connect
        (``resend_now``)."""
        now = since_boot() if now is None else now
        return self.db.execute(
            "SELECT id, body, attempts FROM ratings INDEXED BY ratings_due "
            "WHERE state = ? AND sealed = 1 AND next_send_at <= ? "
            "ORDER BY next_send_at LIMIT ?", [PENDING, now, limit]).fetchall()

    def mark_sent(self, ids: list[str], retry_after: float) -> None:
        """Record a send; a row is due again ``retry_after`` seconds later unless acked
        (on the monotonic clock, see ``due``)."""
        now = since_boot()
        with self.transaction():
            self.db.conn.executemany(
                "UPDATE ratings SET attempts = attempts + 1, next_send_at = ? "
                "WHERE id = ? AND state = ?",
                [(now + retry_after, i, PENDING) for i in ids])

    def mark_acked(self, ids: Iterable[str]) -> int:
        now = time.time()
        with self.transaction():
            cur = self.db.conn.executemany(
                "UPDATE ratings SET state = ?, acked_at = ? WHERE id = ? AND state = ?",
                [(ACKED, now, i, PENDING) for i in ids])
        return cur.rowcount

    def mark_rejected(self, rejections: Iterable[tuple[str, str]]) -> int:
        now = time.time()
        with self.transaction():
            cur = self.db.conn.executemany(
                "UPDATE ratings SET state = ?, acked_at = ?, reason = ? WHERE id = ? AND state = ?",
                [(REJECTED, now, reason, i, PENDING) for i, reason in rejections])
        return cur.rowcount

    def pending_rows(self, ids: list[str]) -> list[tuple[str, str, int]]:
        """(id, body, attempts) of those of ``ids`` still pending, in outbox order."""
        out: list[tuple[str, str, int]] = []
        for at in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            chunk = ids[at:at + 500]
            out += self.db.execute(
                "SELECT id, body, attempts FROM ratings WHERE state = ? AND id IN "
                f"({','.join('?' * len(chunk))}) ORDER BY rowid", [PENDING, *chunk]).fetchall()
        return out

    def resend_now(self) -> None:
        """Make every pending row due at once (after a reconnect)."""
        with self.transaction():
            self.db.execute("UPDATE ratings SET next_send_at = 0 WHERE state = ?", [PENDING])

    def prune(self, older_than_days: float) -> int:
        """Forget acked rows after a while: the SD card is small and a row may hold a
        phone number that the server, not the kiosk, keeps under its retention rule."""
        cutoff = time.time() - older_than_days * 86400
        with self.transaction():
            cur = self.db.execute("DELETE FROM ratings WHERE state = ? AND acked_at < ?",
                                  [ACKED, cutoff])
        return cur.rowcount

    # --- what the server sends down (written by the uplink, read by the UI) -----------

    def save_config(self, config: contract.KioskConfig) -> bool:
        """Keep a validated config if it is newer than the one held; True if kept."""
        with self.transaction():
            current = self.db.execute("SELECT max(revision) FROM remote_config").fetchone()[0]
            if current is not None and config.revision <= current:
                return False
            self.db.execute("INSERT INTO remote_config (revision, body, received_at) "
                            "VALUES (?, ?, ?)", [config.revision,
                                                 contract.encode(config).decode(), time.time()])
            self.db.execute("DELETE FROM remote_config WHERE revision < ?",
                            [config.revision - 5])  # a short history, for rollback by hand
        return True

    def config(self) -> contract.KioskConfig | None:
        """The newest good config from the server, or None if none has arrived yet."""
        row = self.db.execute(
            "SELECT body FROM remote_config ORDER BY revision DESC LIMIT 1").fetchone()
        return msgspec.json.decode(row[0], type=contract.KioskConfig) if row else None

    def add_session(self, session: contract.Session, received_at: float | None = None) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO sessions (body, received_at) VALUES (?, ?)",
                            [contract.encode(session).decode(),
                             time.time() if received_at is None else received_at])

    def take_session_at(self, now: float, default_expiry: float
                        ) -> tuple[contract.Session, float] | None:
        """The newest unused session that has not expired at wall time ``now``, with
        when it expires; every waiting session is marked used (older ones are stale:
        a newer citizen is at the counter)."""
        from kiosk.recorder import session_expiry

        with self.transaction():
            rows = self.db.execute("SELECT id, body, received_at FROM sessions WHERE used = 0 "
                                   "ORDER BY id DESC").fetchall()
            self.db.execute("UPDATE sessions SET used = 1 WHERE used = 0")
        for _, body, received_at in rows:
            session = msgspec.json.decode(body, type=contract.Session)
            expires = session_expiry(session, received_at, default_expiry)
            if expires > now:
                return session, expires
            log.info("session %s expired before it was used", session.transaction)
        return None

    def open_session(self, now: float, default_expiry: float) -> contract.Session | None:
        """The newest unused, unexpired session, without taking it (for status)."""
        from kiosk.recorder import session_expiry

        for body, received_at in self.db.execute(
                "SELECT body, received_at FROM sessions WHERE used = 0 ORDER BY id DESC"):
            session = msgspec.json.decode(body, type=contract.Session)
            if session_expiry(session, received_at, default_expiry) > now:
                return session
        return None

    def take_session(self, max_age: float = 900.0) -> contract.Session | None:
        """The newest unused transaction (older ones are dropped as stale), marked used."""
        with self.transaction():
            row = self.db.execute(
                "SELECT id, body FROM sessions WHERE used = 0 AND received_at > ? "
                "ORDER BY id DESC LIMIT 1", [time.time() - max_age]).fetchone()
            self.db.execute("UPDATE sessions SET used = 1 WHERE used = 0")
        session = msgspec.json.decode(row[1], type=contract.Session) if row else None
        # issue 9: the server stamps when a session stops being valid; an expired one
        # would put the next citizen's rating on someone else's dossier
        if session is not None and session.expires_at is not None \
                and session.expires_at < time.time():
            log.warning("session %s expired; not used", session.id or session.transaction)
            return None
        return session

    # --- the uplink's connection, for the technician menu ---------------------------------

    def set_link(self, connected: bool, error: str | None = None) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO uplink_state (id, connected, changed_at, error) "
                            "VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                            "connected = excluded.connected, changed_at = excluded.changed_at, "
                            "error = excluded.error", [int(connected), time.time(), error])

    def link(self) -> dict | None:
        """{connected, changed_at, error} as the uplink last wrote it, or None."""
        rows = list(self.db["uplink_state"].rows)
        return rows[0] if rows else None

    # --- reporting ----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        out = {PENDING: 0, ACKED: 0, REJECTED: 0}
        for state, n in self.db.execute("SELECT state, count(*) FROM ratings GROUP BY state"):
            out[state] = n
        out["unsealed"] = self.db.execute(
            "SELECT count(*) FROM ratings WHERE sealed = 0 AND state = ?", [PENDING]).fetchone()[0]
        return out

    def score_counts(self) -> tuple[dict[str, int], int]:
        """Ratings held by score ({"1": n, ...}) and how many are flagged suspect. A row
        whose body is damaged is left out here (the uplink reports it as rejected)."""
        by_score = {str(score): n for score, n in self.db.execute(
            "SELECT json_extract(body, '$.score'), count(*) FROM ratings "
            "WHERE json_valid(body) GROUP BY 1")}
        suspect = self.db.execute("SELECT count(*) FROM ratings WHERE json_valid(body) AND "
                                  "json_extract(body, '$.suspect') IS NOT NULL").fetchone()[0]
        return by_score, suspect

    def rejected(self, limit: int = 20) -> list[dict]:
        return list(self.db["ratings"].rows_where(
            "state = ?", [REJECTED], order_by="acked_at desc", limit=limit,
            select="id, reason, acked_at"))

    def rejected_by_reason(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT reason, count(*) FROM ratings WHERE state = ? "
                                    "GROUP BY reason ORDER BY reason", [REJECTED]))

    def last_rejected_reason(self) -> str | None:
        row = self.db.execute("SELECT reason FROM ratings WHERE state = ? "
                              "ORDER BY acked_at DESC LIMIT 1", [REJECTED]).fetchone()
        return row[0] if row else None

    def log_event(self, kind: str, detail: str) -> None:
        with self.transaction():
            self.db["events"].insert({"at": time.time(), "kind": kind, "detail": detail[:500]})

    def last_event(self) -> dict | None:
        rows = list(self.db["events"].rows_where(order_by="id desc", limit=1))
        return rows[0] if rows else None


class _disk_errors:
    """Turn SQLite's disk-full and I/O errors into OutboxFull / OutboxError."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
            raise OutboxFull("disk full: the rating was not stored (all earlier ones are safe)") from exc
        if isinstance(exc, sqlite3.OperationalError) and "disk I/O" in str(exc):
            raise OutboxError(f"outbox disk error: {exc}") from exc
        return False
