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
placed by the synced offset if known, else by the bound. When better evidence for a
boot arrives later, the rows of that boot are placed again.

``anchors`` is the caller's cache of the table (ingest is its only writer), so a batch
from a known boot costs no query; drop it when a transaction rolls back.
"""

from __future__ import annotations

import sqlite3

from sync import contract

SOURCE_KIOSK = "kiosk-clock"      # the kiosk's synchronised wall clock
SOURCE_BOOT = "boot-anchor"       # mono + exact boot start from a synchronised reading
SOURCE_BOUND = "receipt-bound"    # mono + the tightest upper bound from receipt


Anchors = dict[tuple[str, str], tuple[float | None, float | None]]


def _anchor(conn: sqlite3.Connection, anchors: Anchors, kiosk: str, boot_id: str):
    key = (kiosk, boot_id)
    if key not in anchors:
        row = conn.execute("SELECT synced_offset, bound_offset FROM boot_anchors "
                           "WHERE kiosk = ? AND boot_id = ?", [kiosk, boot_id]).fetchone()
        if row is None:
            return None
        anchors[key] = tuple(row)
    return anchors[key]


def _learn(conn: sqlite3.Connection, anchors: Anchors, kiosk: str, boot_id: str, *,
           synced: float | None = None, bound: float | None = None) -> None:
    """Record new evidence for a boot, and re-place its unsynced rows if it improved."""
    row = _anchor(conn, anchors, kiosk, boot_id)
    old_synced, old_bound = row if row else (None, None)
    new_synced = old_synced if old_synced is not None else synced
    new_bound = min(b for b in (old_bound, bound) if b is not None) \
        if (old_bound is not None or bound is not None) else None
    if row and (new_synced, new_bound) == (old_synced, old_bound):
        return
    anchors[(kiosk, boot_id)] = (new_synced, new_bound)
    conn.execute("INSERT INTO boot_anchors (kiosk, boot_id, synced_offset, bound_offset) "
                 "VALUES (?,?,?,?) ON CONFLICT(kiosk, boot_id) DO UPDATE SET "
                 "synced_offset = excluded.synced_offset, bound_offset = excluded.bound_offset",
                 [kiosk, boot_id, new_synced, new_bound])
    if new_synced is not None and old_synced is None:
        conn.execute("UPDATE ratings SET occurred_at = mono + ?, time_source = ? "
                     "WHERE kiosk = ? AND boot_id = ? AND clock_synced = 0",
                     [new_synced, SOURCE_BOOT, kiosk, boot_id])
    elif new_synced is None and new_bound != old_bound:
        conn.execute("UPDATE ratings SET occurred_at = mono + ?, time_source = ? "
                     "WHERE kiosk = ? AND boot_id = ? AND clock_synced = 0",
                     [new_bound, SOURCE_BOUND, kiosk, boot_id])


def learn(conn: sqlite3.Connection, anchors: Anchors, rating: contract.Rating,
          received_at: float) -> None:
    """Take the evidence a rating carries about its boot's start."""
    if rating.clock_synced:
        _learn(conn, anchors, rating.kiosk, rating.boot_id,
               synced=rating.created_at - rating.mono)
    else:
        _learn(conn, anchors, rating.kiosk, rating.boot_id, bound=received_at - rating.mono)


def estimate(conn: sqlite3.Connection, anchors: Anchors,
             rating: contract.Rating) -> tuple[float, str]:
    """Best estimate of when ``rating`` was made, and how it was estimated; call
    :func:`learn` first (for a whole batch, so each row uses all of its evidence)."""
    if rating.clock_synced:
        return rating.created_at, SOURCE_KIOSK
    synced, bound = _anchor(conn, anchors, rating.kiosk, rating.boot_id)
    if synced is not None:
        return rating.mono + synced, SOURCE_BOOT
    return rating.mono + bound, SOURCE_BOUND


def anchor_from_status(conn: sqlite3.Connection, anchors: Anchors, kiosk: str,
                       status: contract.Status, received_at: float) -> None:
    if not status.boot_id or not status.mono:
        return
    if status.clock_synced and status.online:
        _learn(conn, anchors, kiosk, status.boot_id, synced=status.at - status.mono,
               bound=received_at - status.mono)
    else:
        _learn(conn, anchors, kiosk, status.boot_id, bound=received_at - status.mono)
