"""Daily figures: ratings counted per local day, kiosk, counter, official, field,
procedure and score, so dashboard pages and reports over a million ratings read a few
thousand rows instead of scanning them all.

Tables: ``daily2`` (counts per day, kiosk, counter, official, field, procedure:
``n`` non-suspect ratings, ``sat`` satisfied, ``low`` low, ``sus`` suspect),
``daily_scores`` (per day and score) and ``daily_reasons`` (per day, official,
counter, field and reason code).

The rollup marks each rating it counted (``ratings.rolled``, the round that counted it;
PostgreSQL has no rowid to follow, issue 12): each new row is counted once, in the
ingest callback, and at start-up for rows stored before a crash; the figures are rebuilt
from scratch when new and every ``[web] rollup_rebuild_minutes``: a rating from a kiosk whose clock was wrong can be
moved in time later (``server/ingest/clock.py``), and only a rebuild follows that move.

Days are the commune's local days (Vietnam, UTC+7, no daylight saving) of
``occurred_at``, the server's best estimate of when the citizen pressed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
from datetime import date, datetime, timedelta, timezone

import sqlite_utils
from sqlite_utils import Migrations

from sync import timerules

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server-rollup")

UTC_OFFSET = 7 * 3600          # Indochina Time; Vietnam has no daylight saving
LOCAL = timezone(timedelta(seconds=UTC_OFFSET))
# The local day of ``occurred_at`` as a day number (days since 1970-01-01) in SQL that
# both engines compute alike: CAST takes a float to an integer (SQLite truncates,
# PostgreSQL rounds; the CASE makes either the floor), then integer division. Named
# as ISO dates in Python (``_iso``): date() and 'unixepoch' are SQLite's alone.
_SECOND_SQL = "CAST(occurred_at AS BIGINT)"
DAYNUM_SQL = (f"(({_SECOND_SQL} - CASE WHEN {_SECOND_SQL} > occurred_at THEN 1 ELSE 0 END"
              f" + {UTC_OFFSET}) / 86400)")
_EPOCH_DAY = date(1970, 1, 1)
# Rows whose day cannot be named are never counted (a NULL day broke every catch-up:
# issue 8); ingest refuses such times and start-up quarantines old ones, this is the
# last guard: the product's range (sync/timerules.py).
PLACEABLE_SQL = (f"occurred_at >= {timerules.PRODUCT_EPOCH} "
                 f"AND occurred_at < {timerules.PRODUCT_END}")

# domain.is_satisfied / domain.is_low in SQL (a test keeps them in step).
SATISFIED_SQL = "(score >= scale - CASE WHEN scale = 3 THEN 0 ELSE 1 END)"
LOW_SQL = "(score <= CASE WHEN scale = 5 THEN 2 ELSE 1 END)"
# Counted in the indices: not suspect by the kiosk, not flagged by the server's own
# rules until a leader confirms (server/ingest/door.py).
COUNTED_SQL = "(suspect IS NULL AND flagged IS NULL)"


def _one(condition: str) -> str:
    """1 or 0 for a condition: PostgreSQL neither sums nor stores a boolean as a number."""
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


@migrations()
def m001_daily(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE daily (
        day TEXT NOT NULL, kiosk TEXT NOT NULL, counter TEXT NOT NULL,
        official TEXT NOT NULL, field TEXT NOT NULL, procedure TEXT NOT NULL,
        scale INTEGER NOT NULL, score INTEGER NOT NULL, suspect INTEGER NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (day, kiosk, counter, official, field, procedure, scale, score, suspect))""")
    db.execute("CREATE INDEX daily_official ON daily (official, day)")
    db.execute("""CREATE TABLE daily_reasons (
        day TEXT NOT NULL, official TEXT NOT NULL, counter TEXT NOT NULL,
        field TEXT NOT NULL, reason TEXT NOT NULL, low INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (day, official, counter, field, reason, low))""")
    db.execute("CREATE TABLE rollup_state (name TEXT PRIMARY KEY, last_rowid INTEGER)")


@migrations()
def m002_daily_counts(db: sqlite_utils.Database) -> None:
    # One row per day and (kiosk, counter, official, field, procedure) with the counts
    # already split (all / satisfied / low / suspect): 8x fewer rows than one per
    # score, which keeps a year's report over a million ratings well under 300 ms.
    db.execute("DROP TABLE daily")
    db.execute("""CREATE TABLE daily2 (
        day TEXT NOT NULL, kiosk TEXT NOT NULL, counter TEXT NOT NULL,
        official TEXT NOT NULL, field TEXT NOT NULL, procedure TEXT NOT NULL,
        n INTEGER NOT NULL, sat INTEGER NOT NULL, low INTEGER NOT NULL, sus INTEGER NOT NULL,
        PRIMARY KEY (day, kiosk, counter, official, field, procedure))""")
    db.execute("CREATE INDEX daily2_official ON daily2 (official, day)")
    db.execute("""CREATE TABLE daily_scores (
        day TEXT NOT NULL, scale INTEGER NOT NULL, score INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (day, scale, score))""")
    db.execute("DELETE FROM daily_reasons")
    db.execute("DELETE FROM rollup_state")  # rebuilt at the next start


@migrations()
def m003_rolled_marks(db: sqlite_utils.Database) -> None:
    # The rollup followed ratings by rowid, which PostgreSQL has not (issue 12): each
    # rating now carries the round that counted it (NULL: not counted yet), and
    # ``rollup_state.last_rowid`` holds the last round (the column keeps its old name).
    db["ratings"].add_column("rolled", int)
    db["ratings"].create_index(["rolled"])
    db.execute("DELETE FROM rollup_state")  # rebuilt, and every rating marked, at next start


def local_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, LOCAL).date()


def day_start(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=LOCAL).timestamp()


def _iso(day_number) -> str:
    return (_EPOCH_DAY + timedelta(days=int(day_number))).isoformat()


def _add(conn: sqlite3.Connection, where: str, args: list) -> int:
    """Add the ratings matching ``where`` to the figures; returns how many were read.
    SQL groups them (by day number), Python names the days and splits the reasons."""
    counted = _one(COUNTED_SQL)
    rows = conn.execute(f"""
        SELECT {DAYNUM_SQL}, coalesce(kiosk, ''), coalesce(counter, ''),
               coalesce(official, ''), coalesce(field, ''), coalesce(procedure, ''),
               sum({counted}), sum({_one(f"{COUNTED_SQL} AND {SATISFIED_SQL}")}),
               sum({_one(f"{COUNTED_SQL} AND {LOW_SQL}")}), sum(1 - {counted})
        FROM ratings WHERE {where} AND {PLACEABLE_SQL}
        GROUP BY 1, 2, 3, 4, 5, 6""", args).fetchall()
    conn.executemany(
        "INSERT INTO daily2 (day, kiosk, counter, official, field, procedure, n, sat, low, "
        "sus) VALUES (?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT (day, kiosk, counter, official, field, procedure) DO UPDATE SET "
        "n = daily2.n + excluded.n, sat = daily2.sat + excluded.sat, "
        "low = daily2.low + excluded.low, sus = daily2.sus + excluded.sus",
        [(_iso(r[0]), *r[1:6], *(int(v) for v in r[6:])) for r in rows])
    scores = conn.execute(f"""
        SELECT {DAYNUM_SQL}, scale, score, count(*) FROM ratings
        WHERE {where} AND {COUNTED_SQL} AND {PLACEABLE_SQL}
        GROUP BY 1, 2, 3""", args).fetchall()
    conn.executemany(
        "INSERT INTO daily_scores (day, scale, score, n) VALUES (?,?,?,?) "
        "ON CONFLICT (day, scale, score) DO UPDATE SET n = daily_scores.n + excluded.n",
        [(_iso(d), scale, score, int(n)) for d, scale, score, n in scores])
    # Each reason code of a rating counts once per time it is listed (as json_each did);
    # ratings with the same reasons are grouped first, so Python splits few rows.
    reasons: dict[tuple, int] = {}
    for d, official, counter, field, codes, low, n in conn.execute(f"""
            SELECT {DAYNUM_SQL}, coalesce(official, ''), coalesce(counter, ''),
                   coalesce(field, ''), reasons, {_one(LOW_SQL)}, count(*)
            FROM ratings WHERE {where} AND {COUNTED_SQL} AND {PLACEABLE_SQL}
                  AND reasons IS NOT NULL AND reasons <> '[]'
            GROUP BY 1, 2, 3, 4, 5, 6""", args):
        try:
            listed = json.loads(codes)
        except ValueError:
            continue
        for code in listed if isinstance(listed, list) else [listed]:
            if code is not None:
                key = (_iso(d), official, counter, field, str(code), int(low))
                reasons[key] = reasons.get(key, 0) + int(n)
    conn.executemany(
        "INSERT INTO daily_reasons (day, official, counter, field, reason, low, n) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (day, official, counter, field, reason, low) "
        "DO UPDATE SET n = daily_reasons.n + excluded.n",
        [(*key, n) for key, n in reasons.items()])
    return sum(int(r[6]) + int(r[9]) for r in rows)


# One catch-up or rebuild at a time per process (ingest callback vs. housekeeping).
_lock = threading.Lock()
ROLLUP_LOCK = 7212015  # PostgreSQL advisory lock: one rollup writer per store (pg.py: 13, 14)


@contextlib.contextmanager
def _write(conn: sqlite3.Connection):
    """A transaction only one rollup writer holds at a time, across processes, so two
    never count a rating twice. SQLite: BEGIN IMMEDIATE, the store's one write lock.
    PostgreSQL: an advisory lock of the rollup's own, so ingest never waits behind a
    rebuild (readers see the old figures until it commits)."""
    if conn.in_transaction:
        conn.commit()
    if isinstance(conn, sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn.execute("BEGIN")
        conn.execute(f"SELECT pg_advisory_xact_lock({ROLLUP_LOCK})")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def _next_round(conn: sqlite3.Connection) -> int:
    """A round number of this transaction's own (inside ``_write``)."""
    conn.execute("INSERT INTO rollup_state (name, last_rowid) VALUES ('daily', 1) "
                 "ON CONFLICT (name) DO UPDATE SET "
                 "last_rowid = coalesce(rollup_state.last_rowid, 0) + 1")
    return conn.execute("SELECT last_rowid FROM rollup_state WHERE name = 'daily'"
                        ).fetchone()[0]


def _started(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM rollup_state WHERE name = 'daily'").fetchone() is not None


def catch_up(conn: sqlite3.Connection, *, wait: bool = True) -> int:
    """Count ratings stored since the last call; returns how many rows were added.
    ``wait=False`` (the ingest callback): while a rebuild runs in this process, return 0
    at once; what is new stays for the next catch-up (the housekeeper's or the next
    callback's), so the writer thread never waits for a rebuild."""
    if not _lock.acquire(blocking=wait):
        return 0
    try:
        if not _started(conn):
            return _rebuild(conn)
        return _catch_up(conn)
    finally:
        _lock.release()


def _catch_up(conn: sqlite3.Connection) -> int:
    if conn.execute("SELECT 1 FROM ratings WHERE rolled IS NULL LIMIT 1").fetchone() is None:
        return 0  # nothing new: no write, no lock (the common case)
    with _write(conn):
        round_ = _next_round(conn)
        marked = conn.execute("UPDATE ratings SET rolled = ? WHERE rolled IS NULL",
                              [round_]).rowcount
        if marked:
            _add(conn, "rolled = ?", [round_])
    return marked


def rebuild(conn: sqlite3.Connection) -> int:
    with _lock:
        return _rebuild(conn)


def _rebuild(conn: sqlite3.Connection) -> int:
    """Every counted rating counted again. The new ones are first marked and added in a
    short transaction of their own (a catch-up), so the long recount marks nothing and
    holds no lock on rows ingest may be writing; only the very first rebuild (a new or
    upgraded store, every rating unmarked) marks them all in the recount itself."""
    started = time.monotonic()
    first = not _started(conn)
    if not first:
        _catch_up(conn)
    with _write(conn):
        if first:
            conn.execute("UPDATE ratings SET rolled = ? WHERE rolled IS NULL",
                         [_next_round(conn)])
        for table in ("daily2", "daily_scores", "daily_reasons"):
            conn.execute(f"DELETE FROM {table}")
        counted = _add(conn, "rolled IS NOT NULL", [])
    log.info("daily figures rebuilt from %d ratings in %.1f s", counted,
             time.monotonic() - started)
    return counted
