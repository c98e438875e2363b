"""Two devices with one kiosk identity, and technician-PIN failures, as the server sees them.

Two Pis installed from one bundle share a kiosk id, broker account and client id:
the broker hands the session to whichever connected last, so each throws the other
off about once a second, and the fleet shows the kiosk "offline, seen 1 s ago" with
nothing naming the cause (issue 11). Each uplink sends its device's instance id in
its status (``sync/instance.py``). A replaced Pi switches instance once; a retained
status replayed to the server is the latest device's own; a last will may come late
from a device already gone. So only *online* statuses count, and the kiosk is called
duplicated when its instance switched :data:`SWITCHES` times within :data:`WINDOW`
seconds (A, B, A, B), which one replacement never does.
"""

from __future__ import annotations

import json
import sqlite3

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("hailong-server-i11field-identity")

WINDOW = 600.0   # seconds in which switches count
SWITCHES = 3     # A->B->A->B: two devices, not one replaced


@migrations()
def m001_i11field_instances(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS kiosk_instances (kiosk TEXT PRIMARY KEY, "
               "instance TEXT NOT NULL, seen_at REAL NOT NULL, switches TEXT NOT NULL, "
               "instances TEXT NOT NULL)")


def note_status(conn: sqlite3.Connection, kiosk: str, instance: str | None,
                online: bool, at: float) -> None:
    """Record which device sent this status (call on the ingest writer, in its transaction)."""
    if not instance or not online:
        return
    row = conn.execute("SELECT instance, switches, instances FROM kiosk_instances "
                       "WHERE kiosk = ?", [kiosk]).fetchone()
    if row is None:
        conn.execute("INSERT INTO kiosk_instances VALUES (?,?,?,?,?)",
                     [kiosk, instance, at, "[]", json.dumps({instance: at})])
        return
    last, switches, instances = row[0], json.loads(row[1]), json.loads(row[2])
    if instance != last:
        switches = [t for t in switches if t > at - WINDOW] + [at]
    instances[instance] = at
    instances = dict(sorted(instances.items(), key=lambda kv: -kv[1])[:5])
    conn.execute("UPDATE kiosk_instances SET instance = ?, seen_at = ?, switches = ?, "
                 "instances = ? WHERE kiosk = ?",
                 [instance, at, json.dumps(switches[-20:]), json.dumps(instances), kiosk])


def duplicates(conn: sqlite3.Connection, now: float) -> dict[str, str]:
    """{kiosk: one line naming the cause} for every kiosk used by two devices now."""
    out = {}
    for kiosk, switches, instances in conn.execute(
            "SELECT kiosk, switches, instances FROM kiosk_instances"):
        recent = [t for t in json.loads(switches) if t > now - WINDOW]
        if len(recent) < SWITCHES:
            continue
        devices = [i for i, t in json.loads(instances).items() if t > now - WINDOW]
        out[kiosk] = (f"{len(devices)} devices use kiosk identity {kiosk} (instances "
                      f"{', '.join(sorted(devices))}): they throw each other off the broker; "
                      "re-image one and enrol it as a new kiosk")
    return out
