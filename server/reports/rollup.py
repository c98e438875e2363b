"""Daily figures: ratings counted per local day, kiosk, counter, official, field,
procedure and score, so dashboard pages and reports over a million ratings read a few
thousand rows instead of scanning them all.

Tables: ``daily2`` (counts per day, kiosk, counter, official, field, procedure:
``n`` non-suspect ratings, ``sat`` satisfied, ``low`` low, ``sus`` suspect),
``daily_scores`` (per day and score) and ``daily_reasons`` (per day, official,
counter, field and reason code).

The rollup follows the ``ratings`` table by rowid (each new row is counted once, in
the ingest callback, and at start-up for rows stored before a crash) and is rebuilt
from scratch when new and every ``[web] rollup_rebuild_minutes``: a rating from a kiosk whose clock was wrong can be
moved in time later (``server/ingest/clock.py``), and only a rebuild follows that move.

Days are the commune's local days (Vietnam, UTC+7, no daylight saving) of
``occurred_at``, the server's best estimate of when the citizen pressed.
"""

from __future__ import annotations

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
DAY_SQL = f"date(occurred_at + {UTC_OFFSET}, 'unixepoch')"
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


def local_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, LOCAL).date()


def day_start(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=LOCAL).timestamp()


def _add(conn: sqlite3.Connection, low_rowid: int, high_rowid: int) -> None:
    conn.execute(f"""
        INSERT INTO daily2 (day, kiosk, counter, official, field, procedure, n, sat, low, sus)
        SELECT {DAY_SQL}, coalesce(kiosk, ''), coalesce(counter, ''), coalesce(official, ''),
               coalesce(field, ''), coalesce(procedure, ''),
               sum({COUNTED_SQL}), sum({COUNTED_SQL} AND {SATISFIED_SQL}),
               sum({COUNTED_SQL} AND {LOW_SQL}), sum(NOT {COUNTED_SQL})
        FROM ratings WHERE rowid > ? AND rowid <= ? AND {PLACEABLE_SQL}
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT DO UPDATE SET n = n + excluded.n, sat = sat + excluded.sat,
            low = low + excluded.low, sus = sus + excluded.sus""", [low_rowid, high_rowid])
    conn.execute(f"""
        INSERT INTO daily_scores (day, scale, score, n)
        SELECT {DAY_SQL}, scale, score, count(*) FROM ratings
        WHERE rowid > ? AND rowid <= ? AND {COUNTED_SQL} AND {PLACEABLE_SQL}
        GROUP BY 1, 2, 3
        ON CONFLICT DO UPDATE SET n = n + excluded.n""", [low_rowid, high_rowid])
    conn.execute(f"""
        INSERT INTO daily_reasons (day, official, counter, field, reason, low, n)
        SELECT {DAY_SQL}, coalesce(official, ''), coalesce(counter, ''), coalesce(field, ''),
               j.value, {LOW_SQL}, count(*)
        FROM ratings, json_each(ratings.reasons) j
        WHERE ratings.rowid > ? AND ratings.rowid <= ? AND {COUNTED_SQL}
              AND {PLACEABLE_SQL}
        GROUP BY 1, 2, 3, 4, 5, 6
        ON CONFLICT DO UPDATE SET n = n + excluded.n""", [low_rowid, high_rowid])


# One catch-up or rebuild at a time per process (ingest callback vs. housekeeping).
_lock = threading.Lock()


def catch_up(conn: sqlite3.Connection) -> int:
    """Count ratings stored since the last call; returns how many rows were added."""
    with _lock:
        row = conn.execute("SELECT last_rowid FROM rollup_state WHERE name = 'daily'").fetchone()
        last = row[0] if row else None
        high = conn.execute("SELECT max(rowid) FROM ratings").fetchone()[0] or 0
        if last is None:
            return _rebuild(conn)
        if high <= last:
            return 0
        with conn:
            _add(conn, last, high)
            conn.execute("UPDATE rollup_state SET last_rowid = ? WHERE name = 'daily'", [high])
        return high - last


def rebuild(conn: sqlite3.Connection) -> int:
    with _lock:
        return _rebuild(conn)


def _rebuild(conn: sqlite3.Connection) -> int:
    started = time.monotonic()
    with conn:
        high = conn.execute("SELECT max(rowid) FROM ratings").fetchone()[0] or 0
        for table in ("daily2", "daily_scores", "daily_reasons"):
            conn.execute(f"DELETE FROM {table}")
        _add(conn, -1, high)
        conn.execute("INSERT INTO rollup_state (name, last_rowid) VALUES ('daily', ?) "
                     "ON CONFLICT(name) DO UPDATE SET last_rowid = excluded.last_rowid",
                     [high])
    log.info("daily figures rebuilt from %d ratings in %.1f s", high,
             time.monotonic() - started)
    return high
