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
"""

from __future__ import annotations

import sqlite3

from sync import contract

SOURCE_KIOSK = "kiosk-clock"      # the kiosk's synchronised wall clock
SOURCE_BOOT = "boot-anchor"       # mono + exact boot start from a synchronised reading
SOURCE_BOUND = "receipt-bound"    # mono + the tightest upper bound from receipt


def _anchor(conn: sqlite3.Connection, kiosk: str, boot_id: str):
    return conn.execute("SELECT synced_offset, bound_offset FROM boot_anchors "
                        "WHERE kiosk = ? AND boot_id = ?", [kiosk, boot_id]).fetchone()


def _learn(conn: sqlite3.Connection, kiosk: str, boot_id: str, *,
           synced: float | None = None, bound: float | None = None) -> None:
    """Record new evidence for a boot, and re-place its unsynced rows if it improved."""
    row = _anchor(conn, kiosk, boot_id)
    old_synced, old_bound = row if row else (None, None)
    new_synced = old_synced if old_synced is not None else synced
    new_bound = min(b for b in (old_bound, bound) if b is not None) \
        if (old_bound is not None or bound is not None) else None
    if row and (new_synced, new_bound) == (old_synced, old_bound):
        return
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


def place(conn: sqlite3.Connection, rating: contract.Rating,
          received_at: float) -> tuple[float, str]:
    """Best estimate of when ``rating`` was made, and how it was estimated."""
    if rating.clock_synced:
        _learn(conn, rating.kiosk, rating.boot_id, synced=rating.created_at - rating.mono)
        return rating.created_at, SOURCE_KIOSK
    _learn(conn, rating.kiosk, rating.boot_id, bound=received_at - rating.mono)
    synced, bound = _anchor(conn, rating.kiosk, rating.boot_id)
    if synced is not None:
        return rating.mono + synced, SOURCE_BOOT
    return rating.mono + bound, SOURCE_BOUND


def anchor_from_status(conn: sqlite3.Connection, kiosk: str, status: contract.Status,
                       received_at: float) -> None:
    if not status.boot_id or not status.mono:
        return
    if status.clock_synced and status.online:
        _learn(conn, kiosk, status.boot_id, synced=status.at - status.mono,
               bound=received_at - status.mono)
    else:
        _learn(conn, kiosk, status.boot_id, bound=received_at - status.mono)
