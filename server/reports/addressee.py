"""The citizen a letter is addressed to: name and postal address, recorded on a
follow-up case by the office when it knows them (the citizen called back, came in,
or wrote). Ratings stay anonymous; these are typed in by a person, for one letter.

Personal data (Decree 13/2023/NĐ-CP): shown only to roles that handle follow-up,
every change is audited, and both fields are erased with the call-back numbers'
retention (``[privacy] contact_retention_days`` after the case is closed).
"""

from __future__ import annotations

import sqlite3
import time

import sqlite_utils
from sqlite_utils import Migrations

from server import accounts

migrations = Migrations("hailong-server-i10docs")

MAX_NAME, MAX_ADDRESS = 120, 300


@migrations()
def m001_i10docs_case_addressee(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE cases ADD COLUMN addressee_name TEXT")
    db.execute("ALTER TABLE cases ADD COLUMN addressee_address TEXT")


@migrations()
def m002_i10docs_sent_reports(db: sqlite_utils.Database) -> None:
    # One row per scheduled report e-mailed: the primary key makes "once per period"
    # hold across restarts (server/followup/mailer.py).
    db.execute("""CREATE TABLE sent_reports (
        kind TEXT NOT NULL, period TEXT NOT NULL, sent_at REAL NOT NULL,
        recipients TEXT NOT NULL, PRIMARY KEY (kind, period))""")


def get(conn: sqlite3.Connection, case_id: int) -> dict:
    row = conn.execute("SELECT addressee_name, addressee_address FROM cases WHERE id = ?",
                       [case_id]).fetchone()
    return {"name": (row[0] or "") if row else "", "address": (row[1] or "") if row else ""}


def set_(conn: sqlite3.Connection, case_id: int, name: str, address: str, by: str) -> None:
    name = " ".join(name.split())[:MAX_NAME]
    address = " ".join(address.split())[:MAX_ADDRESS]
    with conn:
        cur = conn.execute("UPDATE cases SET addressee_name = ?, addressee_address = ? "
                           "WHERE id = ?", [name or None, address or None, case_id])
    if cur.rowcount:
        # Which fields changed, never their content: the audit log is not a copy of
        # personal data.
        accounts.audit(conn, by, "case.addressee", f"case:{case_id}",
                       {"name": bool(name), "address": bool(address)})


def purge(conn: sqlite3.Connection, retention_days: float, now: float | None = None) -> int:
    """Erase names and addresses of cases closed more than the retention ago."""
    now = time.time() if now is None else now
    with conn:
        cur = conn.execute(
            "UPDATE cases SET addressee_name = NULL, addressee_address = NULL "
            "WHERE state = 'closed' AND closed_at < ? AND "
            "(addressee_name IS NOT NULL OR addressee_address IS NOT NULL)",
            [now - retention_days * 86400])
    return cur.rowcount
