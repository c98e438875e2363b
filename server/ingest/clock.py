"""Placing ratings in time when a kiosk's clock was wrong.

A Pi has no real-time clock. Each record carries the kiosk's wall time, whether it
was NTP-synchronised, the boot id, and the seconds since that boot (``mono``). For
one boot, ``true time = boot start + mono``; we learn the boot start per
(kiosk, boot) from two kinds of evidence:

* ``synced_offset``: exact, from any record or status sent with a synchronised clock
  (``created_at - mono``);
* ``bound_offset``: an upper bound, from receipt (a record or status cannot be
  received before it was made: ``boot start <= received_at - mono``); the smallest
  bound seen is the best, and the status sent on every (re)connect makes it tight.

A record made with a synchronised clock is placed at its own time. Otherwise it is
placed by the synced offset if known, else by the bound.

Evidence is judged first (``admit``, the rules of ``sync/timerules.py``): what cannot be
true is rejected, so no boot start outside the product's range is ever learnt, and every
placement is clamped into that range as a last guard.

Better evidence arriving later does not rewrite the boot at once (issue 8: with 200,000
unsynchronised rows from one boot, each record that tightened the bound rewrote them
all on the single writer and stalled every kiosk's acks). Instead the boot is marked
(``replace_cursor``) and ``place_some`` re-places it in bounded chunks when ingest is
idle or at most a chunk per ``PLACE_EVERY`` seconds when busy. ``placed_offset`` is the
offset the boot's rows were last placed with: a pass is due only when the best offset
moved more than ``PLACE_TOLERANCE`` from it or its source changed, so the cost per record
is bounded whatever the order of the evidence.

``anchors`` is the caller's cache of the table (ingest is its only writer, and also runs
``place_some``), so a batch from a known boot costs no query; drop it when a transaction
rolls back.

``quarantine_unplaceable`` runs at start-up: a row stored by an older version with a
time outside the product's range is moved to ``quarantine`` (with its contact and
case), logged and counted, so no stored row can break the figures or the pages.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from dataclasses import dataclass

import msgspec
import sqlite_utils
from sqlite_utils import Migrations

from sync import contract, timerules

log = logging.getLogger(__name__)

SOURCE_KIOSK = "kiosk-clock"      # the kiosk's synchronised wall clock
SOURCE_BOOT = "boot-anchor"       # mono + exact boot start from a synchronised reading
SOURCE_BOUND = "receipt-bound"    # mono + the tightest upper bound from receipt

PLACE_TOLERANCE = 1.0   # seconds: a better bound that moves rows by less is not worth a pass
PLACE_CHUNK = 2000      # rows per re-placement transaction: a few tens of ms on the writer
PLACE_EVERY = 1.0       # seconds between chunks while ingest is busy

migrations = Migrations("hailong-server-clock")


@migrations()
def m001_i8time_placement(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE boot_anchors ADD COLUMN placed_offset REAL")
    db.execute("ALTER TABLE boot_anchors ADD COLUMN placed_source TEXT")
    db.execute("ALTER TABLE boot_anchors ADD COLUMN replace_cursor INTEGER")
    db.execute("CREATE INDEX boot_anchors_due ON boot_anchors (replace_cursor) "
               "WHERE replace_cursor IS NOT NULL")
    # Older versions re-placed eagerly: the rows already carry the best offset.
    db.execute("UPDATE boot_anchors SET placed_offset = coalesce(synced_offset, bound_offset), "
               "placed_source = CASE WHEN synced_offset IS NULL THEN ? ELSE ? END",
               [SOURCE_BOUND, SOURCE_BOOT])
    db.execute("""CREATE TABLE quarantine (
        id TEXT PRIMARY KEY, kiosk TEXT, reason TEXT NOT NULL, at REAL NOT NULL,
        row TEXT NOT NULL)""")


@dataclass
class Boot:
    synced: float | None = None   # exact boot start, from a synchronised reading
    bound: float | None = None    # tightest upper bound of the boot start, from receipt
    placed: float | None = None   # offset the boot's unsynced rows carry (None: no rows)
    source: str | None = None     # and the source it came from
    cursor: int | None = None     # rowid reached by a due re-placement pass; None: none due

    def best(self) -> tuple[float, str]:
        if self.synced is not None:
            return self.synced, SOURCE_BOOT
        return self.bound, SOURCE_BOUND

    def needs_pass(self) -> bool:
        if self.placed is None:
            return False
        offset, source = self.best()
        return source != self.source or abs(offset - self.placed) > PLACE_TOLERANCE


class Anchors(dict):
    """(kiosk, boot id) -> Boot, and which boots changed since the last ``flush``: a
    batch of records that each tighten the bound is written once, not per record."""

    def __init__(self):
        super().__init__()
        self.dirty: set[tuple[str, str]] = set()
        self.absent: set[tuple[str, str]] = set()  # looked up in this batch: none stored

    def clear(self) -> None:
        super().clear()
        self.dirty.clear()
        self.absent.clear()


def flush(conn: sqlite3.Connection, anchors: Anchors) -> None:
    """Write the boots whose evidence changed (inside the same transaction)."""
    # one executemany: pipelined on PostgreSQL, not a round trip per boot
    conn.executemany(_SAVE, [(*key, *_values(anchors[key])) for key in anchors.dirty])
    anchors.dirty.clear()
    anchors.absent.clear()


def prefetch(conn: sqlite3.Connection, anchors: Anchors, kiosk: str,
             boot_ids: set[str]) -> None:
    """Load a batch's boots in a few queries, not one per record (a round trip each on
    PostgreSQL: 40,000 records of new boots took 20 s), and remember which have none
    until the batch's ``flush``."""
    wanted = [b for b in boot_ids if (kiosk, b) not in anchors]
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        found = set()
        for boot_id, *row in conn.execute(
                "SELECT boot_id, synced_offset, bound_offset, placed_offset, placed_source, "
                f"replace_cursor FROM boot_anchors WHERE kiosk = ? AND boot_id IN "
                f"({','.join('?' * len(chunk))})", [kiosk, *chunk]):
            anchors[(kiosk, boot_id)] = Boot(*row)
            found.add(boot_id)
        anchors.absent.update((kiosk, b) for b in chunk if b not in found)


def _boot(conn: sqlite3.Connection, anchors: Anchors, kiosk: str, boot_id: str) -> Boot | None:
    key = (kiosk, boot_id)
    if key not in anchors:
        if key in anchors.absent:
            return None
        row = conn.execute("SELECT synced_offset, bound_offset, placed_offset, placed_source, "
                           "replace_cursor FROM boot_anchors WHERE kiosk = ? AND boot_id = ?",
                           [kiosk, boot_id]).fetchone()
        if row is None:
            return None
        anchors[key] = Boot(*row)
    return anchors[key]


_SAVE = ("INSERT INTO boot_anchors (kiosk, boot_id, synced_offset, bound_offset, "
         "placed_offset, placed_source, replace_cursor) VALUES (?,?,?,?,?,?,?) "
         "ON CONFLICT(kiosk, boot_id) DO UPDATE SET "
         "synced_offset = excluded.synced_offset, bound_offset = excluded.bound_offset,"
         " placed_offset = excluded.placed_offset, placed_source = excluded.placed_source,"
         " replace_cursor = excluded.replace_cursor")


def _values(b: Boot) -> tuple:
    return (b.synced, b.bound, b.placed, b.source, b.cursor)


def _save(conn: sqlite3.Connection, kiosk: str, boot_id: str, b: Boot) -> None:
    conn.execute(_SAVE, [kiosk, boot_id, *_values(b)])


def _judge(conn: sqlite3.Connection, anchors: Anchors, kiosk: str, boot_id: str, *,
           synced: float | None, bound: float | None) -> None:
    b = _boot(conn, anchors, kiosk, boot_id) or Boot()
    verdict = timerules.boot_rule(b.synced, b.bound, synced, bound)
    if verdict:
        raise contract.ContractError(*verdict)


def _learn(conn: sqlite3.Connection, anchors: Anchors, kiosk: str, boot_id: str, *,
           synced: float | None = None, bound: float | None = None) -> None:
    """Record new evidence for a boot; if it moves the boot's rows, mark a pass due."""
    key = (kiosk, boot_id)
    b = _boot(conn, anchors, kiosk, boot_id)
    fresh = b is None
    b = b or Boot()
    new_synced = b.synced if b.synced is not None else synced
    new_bound = min(x for x in (b.bound, bound) if x is not None) \
        if (b.bound is not None or bound is not None) else None
    if not fresh and (new_synced, new_bound) == (b.synced, b.bound):
        return
    b.synced, b.bound = new_synced, new_bound
    if b.cursor is None and b.needs_pass():
        b.cursor = 0
    anchors[key] = b
    anchors.dirty.add(key)


def admit(conn: sqlite3.Connection, anchors: Anchors, rating: contract.Rating,
          received_at: float) -> None:
    """Raise ContractError if the rating's time fields cannot be true, by themselves
    (against the server's clock) or beside what is known of its boot."""
    contract.check_rating_time(rating, received_at)
    if rating.clock_synced:
        _judge(conn, anchors, rating.kiosk, rating.boot_id,
               synced=rating.created_at - rating.mono, bound=received_at - rating.mono)
    else:
        _judge(conn, anchors, rating.kiosk, rating.boot_id, synced=None,
               bound=received_at - rating.mono)


def learn(conn: sqlite3.Connection, anchors: Anchors, rating: contract.Rating,
          received_at: float) -> None:
    """Take the evidence an admitted rating carries about its boot's start."""
    if rating.clock_synced:
        _learn(conn, anchors, rating.kiosk, rating.boot_id,
               synced=rating.created_at - rating.mono)
    else:
        _learn(conn, anchors, rating.kiosk, rating.boot_id, bound=received_at - rating.mono)


def estimate(conn: sqlite3.Connection, anchors: Anchors,
             rating: contract.Rating, received_at: float) -> tuple[float, str]:
    """Best estimate of when ``rating`` was made, and how it was estimated; call
    :func:`learn` first (for a whole batch, so each row uses all of its evidence)."""
    if rating.clock_synced:
        return timerules.clamp(rating.created_at, received_at), SOURCE_KIOSK
    b = _boot(conn, anchors, rating.kiosk, rating.boot_id)
    offset, source = b.best()
    if b.placed is None:  # the boot's first row: remember what its rows carry
        b.placed, b.source = offset, source
        anchors.dirty.add((rating.kiosk, rating.boot_id))
    return timerules.clamp(rating.mono + offset, received_at), source


def anchor_from_status(conn: sqlite3.Connection, anchors: Anchors, kiosk: str,
                       status: contract.Status, received_at: float) -> None:
    """Judge a status's clock facts (raise ContractError), then learn from them."""
    contract.check_status_time(status, received_at)
    if not status.boot_id or not status.mono:
        return
    bound = received_at - status.mono
    synced = status.at - status.mono if status.clock_synced and status.online else None
    _judge(conn, anchors, kiosk, status.boot_id, synced=synced, bound=bound)
    _learn(conn, anchors, kiosk, status.boot_id, synced=synced, bound=bound)
    flush(conn, anchors)


# --- re-placement in bounded chunks ---------------------------------------------------

def place_some(conn: sqlite3.Connection, anchors: Anchors, limit: int = PLACE_CHUNK) -> int:
    """Re-place up to ``limit`` rows of one boot whose evidence improved; returns the
    number of rows looked at (0: nothing due). Call inside the writer's transaction."""
    row = conn.execute("SELECT kiosk, boot_id FROM boot_anchors "
                       "WHERE replace_cursor IS NOT NULL LIMIT 1").fetchone()
    if row is None:
        return 0
    kiosk, boot_id = row
    flush(conn, anchors)
    b = _boot(conn, anchors, kiosk, boot_id)
    offset, source = b.best()
    if not b.cursor:  # a pass starts: rows it has not reached carry at most the old offset
        b.cursor = 0
        b.placed, b.source = offset, source
    # rowid: SQLite's own, an identity column of that name on PostgreSQL (pgschema.py).
    # The new times are computed here, by the one clamp rule, not in engine-specific SQL.
    rows = conn.execute(
        "SELECT rowid, id, clock_synced, mono, received_at FROM ratings WHERE kiosk = ? "
        "AND boot_id = ? AND rowid > ? ORDER BY rowid LIMIT ?",
        [kiosk, boot_id, b.cursor, limit]).fetchall()
    if rows:
        moved = [(timerules.clamp(mono + offset, received_at), source, rid)
                 for _, rid, synced, mono, received_at in rows if not synced]
        conn.executemany("UPDATE ratings SET occurred_at = ?, time_source = ? WHERE id = ?",
                         moved)
        # a follow-up case keeps the time of its rating (alerts and reports read it)
        conn.executemany("UPDATE cases SET occurred_at = ? WHERE rating_id = ?",
                         [(at, rid) for at, _, rid in moved])
        b.cursor = rows[-1][0]
    if len(rows) < limit:  # the pass is done; another only if evidence moved meanwhile
        b.cursor = 0 if b.needs_pass() else None
    _save(conn, kiosk, boot_id, b)
    return max(len(rows), 1)


def placement_due(conn: sqlite3.Connection, *, any_: bool = False) -> int:
    """How many boots wait for a re-placement pass (for ``server stats``); with
    ``any_``, just 0 or 1 (a cheap look from the partial index)."""
    if any_:
        return int(conn.execute("SELECT 1 FROM boot_anchors WHERE replace_cursor IS NOT NULL "
                                "LIMIT 1").fetchone() is not None)
    return conn.execute("SELECT count(*) FROM boot_anchors "
                        "WHERE replace_cursor IS NOT NULL").fetchone()[0]


# --- start-up: nothing stored can break the figures ----------------------------------

def quarantine_unplaceable(conn: sqlite3.Connection, now: float | None = None) -> int:
    """Move every rating whose time is outside the product's range (stored by an older
    version, or by hand) to ``quarantine``, with its contact and follow-up case; forget
    boot evidence outside the range. Returns how many ratings were moved."""
    now = time.time() if now is None else now
    if not timerules.server_clock_ok(now):
        log.error("the server's clock says %s, before the product's epoch: fix the clock; "
                  "no row is judged by it", now)
        return 0
    upper = now + timerules.AHEAD_TOLERANCE
    where = ("occurred_at IS NULL OR occurred_at < ? OR occurred_at > ?")
    args = [timerules.PRODUCT_EPOCH, upper]
    moved = 0
    with conn:
        conn.execute("UPDATE boot_anchors SET synced_offset = NULL "
                     "WHERE synced_offset < ? OR synced_offset > ?", args)
        conn.execute("UPDATE boot_anchors SET bound_offset = NULL "
                     "WHERE bound_offset < ? OR bound_offset > ?", args)
        conn.execute("DELETE FROM boot_anchors WHERE synced_offset IS NULL "
                     "AND bound_offset IS NULL")
        while True:
            rows = conn.execute(f"SELECT * FROM ratings WHERE {where} LIMIT 500",
                                args).fetchall()
            if not rows:
                break
            names = [d[0] for d in conn.execute("SELECT * FROM ratings LIMIT 0").description]
            for values in rows:
                _quarantine_one(conn, dict(zip(names, values)), now)
                moved += 1
    if moved:
        log.error("quarantined %d rating(s) whose time is outside %s..%s (see the "
                  "quarantine table; server stats counts them)", moved,
                  time.strftime("%Y-%m-%d", time.gmtime(timerules.PRODUCT_EPOCH)),
                  time.strftime("%Y-%m-%d", time.gmtime(upper)))
    return moved


def _quarantine_one(conn: sqlite3.Connection, rating: dict, now: float) -> None:
    rid = rating["id"]
    occurred = rating["occurred_at"]
    reason = "no-time" if occurred is None or not math.isfinite(occurred) else "out-of-range"
    held = {"rating": rating}
    contact = conn.execute("SELECT phone, consent_text, stored_at FROM contacts "
                           "WHERE rating_id = ?", [rid]).fetchone()
    if contact:
        held["contact"] = dict(zip(("phone", "consent_text", "stored_at"), contact))
    case = conn.execute("SELECT * FROM cases WHERE rating_id = ?", [rid])
    names = [d[0] for d in case.description]
    case = case.fetchone()
    if case:
        held["case"] = dict(zip(names, case))
        held["case_notes"] = [list(n) for n in conn.execute(
            "SELECT at, username, text FROM case_notes WHERE case_id = ?", [case[0]])]
        conn.execute("DELETE FROM case_notes WHERE case_id = ?", [case[0]])
        conn.execute("DELETE FROM cases WHERE id = ?", [case[0]])
    conn.execute("DELETE FROM contacts WHERE rating_id = ?", [rid])
    conn.execute("DELETE FROM ratings WHERE id = ?", [rid])
    conn.execute("INSERT INTO quarantine (id, kiosk, reason, at, row) VALUES (?,?,?,?,?) "
                 "ON CONFLICT (id) DO UPDATE SET kiosk = excluded.kiosk, reason = "
                 "excluded.reason, at = excluded.at, row = excluded.row", [rid, rating["kiosk"], reason, now,
                                        msgspec.json.encode(held).decode()])
    log.warning("rating %s from %s quarantined: occurred_at %r", rid, rating["kiosk"], occurred)
