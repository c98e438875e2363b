"""Follow-up cases: every low rating opens one (DOMAIN.md "Follow-up of a low rating").

open → in progress (assigned) → closed with an outcome; a case still open past its
deadline is flagged overdue (and alerted). Deadlines count working days: weekends and
Vietnam's public holidays, Tết included, do not count (``server/followup/workdays.py``); a
leader can move a deadline, with a reason that goes to the audit log. Closing a case
closes its alerts. Every action goes to the audit log. Opening is idempotent
(one case per rating, ``rating_id`` is unique) and is done both in the ingest
callback and at start-up from ratings that have no case yet, so a crash between the
ratings commit and the callback loses no case.

The citizen's call-back number (if they left one with consent) is shown only to
roles allowed to see it, only while the case is open, and deleted after the
retention period (Decree 13/2023).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable

import sqlite_utils
from sqlite_utils import Migrations

from hailong.domain import Label
from hailong.errors import HailongError

from server import accounts
from server.followup import alerts, workdays

migrations = Migrations("hailong-server-followup")

STATES = ("open", "in-progress", "closed")


Outcome = Label

OUTCOMES: tuple[Outcome, ...] = (
    Outcome("explained", "Đã giải thích cho người dân", "Explained to the citizen"),
    Outcome("apologised", "Đã xin lỗi người dân", "Apologised to the citizen"),
    Outcome("reminded", "Đã nhắc nhở / bồi dưỡng công chức",
            "Official reminded / retrained"),
    Outcome("unfounded", "Phản ánh không có cơ sở", "Complaint unfounded"),
)
OUTCOME_CODES = tuple(o.code for o in OUTCOMES)


class CaseError(HailongError, ValueError):
    """A follow-up action that cannot be done (wrong state, unknown outcome)."""


@migrations()
def m001_cases(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE cases (
        id INTEGER PRIMARY KEY, rating_id TEXT NOT NULL UNIQUE REFERENCES ratings(id),
        opened_at REAL NOT NULL, occurred_at REAL, kiosk TEXT, counter TEXT, official TEXT,
        score INTEGER, scale INTEGER, reasons TEXT, dossier TEXT, procedure TEXT, field TEXT,
        state TEXT NOT NULL DEFAULT 'open', assignee TEXT, deadline REAL NOT NULL,
        escalated_at REAL, outcome TEXT, closed_at REAL, closed_by TEXT,
        alerted INTEGER NOT NULL DEFAULT 0)""")
    db.execute("CREATE INDEX cases_state ON cases (state, deadline)")
    db.execute("CREATE INDEX cases_official ON cases (official, occurred_at)")
    db.execute("CREATE INDEX cases_alerted ON cases (alerted) WHERE alerted = 0")
    db.execute("""CREATE TABLE case_notes (
        id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id),
        at REAL NOT NULL, username TEXT NOT NULL, text TEXT NOT NULL)""")
    db.execute("CREATE INDEX case_notes_case ON case_notes (case_id)")


@migrations()
def m002_cases_by_time(db: sqlite_utils.Database) -> None:
    db.execute("CREATE INDEX cases_occurred ON cases (occurred_at)")


@migrations()
def m003_outcomes_index(db: sqlite_utils.Database) -> None:
    # Lets a year's report count outcomes from the index alone.
    db.execute("CREATE INDEX cases_outcomes ON cases (occurred_at, state, outcome, "
               "escalated_at)")


def low_condition(low_at_or_below: int) -> str:
    """SQL for 'this rating opens a case' over the ``ratings`` columns."""
    if low_at_or_below:
        return f"score <= {int(low_at_or_below)}"
    return "score <= CASE WHEN scale = 5 THEN 2 ELSE 1 END"  # domain.is_low


def open_cases(conn: sqlite3.Connection, *, low_at_or_below: int, deadline_days: float,
               rating_ids: Iterable[str] | None = None, now: float | None = None) -> int:
    """Open a case for each low, non-suspect rating that has none (all of them, or
    just ``rating_ids``). Returns how many were opened."""
    now = time.time() if now is None else now
    if rating_ids is not None:
        ids = list(rating_ids)
        # Chunks keep under SQLite's limit on bound parameters.
        return sum(_open(conn, low_at_or_below, deadline_days, now, ids[i:i + 500])
                   for i in range(0, len(ids), 500))
    return _open(conn, low_at_or_below, deadline_days, now, None)


def _open(conn: sqlite3.Connection, low_at_or_below: int, deadline_days: float, now: float,
          ids: list[str] | None) -> int:
    # ``deadline_days`` counts working days (issue 10): 3 days opened on the Friday
    # before Tết end after Tết, not on its first day.
    args: list = [now, workdays.deadline(now, deadline_days)]
    only = ""
    if ids is not None:
        only = f"AND r.id IN ({','.join('?' * len(ids))})"
        args += ids
    with conn:
        cur = conn.execute(f"""
            INSERT INTO cases (rating_id, opened_at, occurred_at, kiosk, counter,
                official, score, scale, reasons, dossier, procedure, field, deadline)
            SELECT r.id, ?, r.occurred_at, r.kiosk, r.counter, r.official, r.score, r.scale,
                   r.reasons, r.dossier, r.procedure, r.field, ?
            FROM ratings r
            WHERE r.suspect IS NULL AND r.flagged IS NULL AND {low_condition(low_at_or_below)} {only}
              AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.rating_id = r.id)
            ON CONFLICT (rating_id) DO NOTHING""", args)
    return cur.rowcount


def escalate_overdue(conn: sqlite3.Connection, now: float | None = None) -> list[int]:
    """Mark open cases past their deadline as escalated; returns their ids."""
    now = time.time() if now is None else now
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM cases WHERE state != 'closed' AND deadline < ? AND escalated_at IS NULL "
        "ORDER BY id", [now])]  # in order on both engines (PostgreSQL gives none unasked)
    if ids:
        with conn:  # one commit for all (see alerts._raise_many on why commits are few)
            conn.executemany("UPDATE cases SET escalated_at = ? WHERE id = ?",
                             [(now, i) for i in ids])
            conn.executemany("INSERT INTO audit (at, username, action, target, detail) "
                             "VALUES (?, 'system', 'case.escalated', ?, '{}')",
                             [(now, f"case:{i}") for i in ids])
    return ids


def purge_contacts(conn: sqlite3.Connection, retention_days: float,
                   now: float | None = None) -> int:
    """Delete call-back numbers older than the retention period."""
    now = time.time() if now is None else now
    with conn:
        cur = conn.execute("DELETE FROM contacts WHERE stored_at < ?",
                           [now - retention_days * 86400])
    if cur.rowcount:
        accounts.audit(conn, "system", "contacts.purged", "", {"count": cur.rowcount})
    return cur.rowcount


CASE_COLUMNS = ("id", "rating_id", "opened_at", "occurred_at", "kiosk", "counter", "official",
                "score", "scale", "reasons", "dossier", "procedure", "field", "state",
                "assignee", "deadline", "escalated_at", "outcome", "closed_at", "closed_by")


def _case(row) -> dict:
    case = dict(zip(CASE_COLUMNS, row))
    case["reasons"] = json.loads(case["reasons"] or "[]")
    return case


def get(conn: sqlite3.Connection, case_id: int) -> dict | None:
    row = conn.execute(f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE id = ?",
                       [case_id]).fetchone()
    return _case(row) if row else None


def queue(conn: sqlite3.Connection, *, state: str = "active", official: str | None = None,
          limit: int = 200, now: float | None = None) -> list[dict]:
    """Cases to work on, most urgent first (by deadline): the first page of ``search``."""
    return search(conn, state=state, official=official, per_page=limit, now=now)[0]


def search(conn: sqlite3.Connection, *, state: str = "active", official: str | None = None,
           assignee: str | None = None, since: float | None = None,
           until: float | None = None, page: int = 1, per_page: int = 50,
           now: float | None = None) -> tuple[list[dict], int]:
    """One page of the follow-up queue with its filters, and how many cases match in
    all: the page says "page 3 of 28" instead of silently stopping at 200 rows."""
    now = time.time() if now is None else now
    clauses, args = [], []
    # IN, not !=, so SQLite can walk the (state, deadline) index.
    if state == "active":
        clauses.append("state IN ('open', 'in-progress')")
    elif state == "overdue":
        clauses.append("state IN ('open', 'in-progress') AND deadline < ?")
        args.append(now)
    elif state in STATES:
        clauses.append("state = ?")
        args.append(state)
    if official:
        clauses.append("official = ?")
        args.append(official)
    if assignee == "-":
        clauses.append("assignee IS NULL")
    elif assignee:
        clauses.append("assignee = ?")
        args.append(assignee)
    if since is not None:
        clauses.append("occurred_at >= ?")
        args.append(since)
    if until is not None:
        clauses.append("occurred_at < ?")
        args.append(until)
    where = "WHERE " + " AND ".join(clauses) if clauses else ""
    total = conn.execute(f"SELECT count(*) FROM cases {where}", args).fetchone()[0]
    order = "closed_at DESC, id DESC" if state == "closed" else "deadline, id"
    page = max(1, int(page))
    rows = conn.execute(f"SELECT {', '.join(CASE_COLUMNS)} FROM cases {where} "
                        f"ORDER BY {order} LIMIT ? OFFSET ?",
                        [*args, per_page, (page - 1) * per_page])
    return [_case(r) for r in rows], total


def counts(conn: sqlite3.Connection, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    # Separate counts, each answered from the (state, deadline) index.
    n = {state: conn.execute("SELECT count(*) FROM cases WHERE state = ?", [state]
                             ).fetchone()[0] for state in STATES}
    overdue = sum(conn.execute("SELECT count(*) FROM cases WHERE state = ? AND deadline < ?",
                               [state, now]).fetchone()[0] for state in STATES[:2])
    return {"open": n["open"], "in_progress": n["in-progress"], "overdue": overdue,
            "closed": n["closed"]}


def contact(conn: sqlite3.Connection, case: dict) -> dict | None:
    """The call-back number, only while the case is not closed (callers check the role)."""
    if case["state"] == "closed":
        return None
    row = conn.execute("SELECT phone, consent_text, stored_at FROM contacts "
                       "WHERE rating_id = ?", [case["rating_id"]]).fetchone()
    return {"phone": row[0], "consent_text": row[1], "stored_at": row[2]} if row else None


def notes(conn: sqlite3.Connection, case_id: int) -> list[dict]:
    return [{"at": r[0], "username": r[1], "text": r[2]} for r in conn.execute(
        "SELECT at, username, text FROM case_notes WHERE case_id = ? ORDER BY id", [case_id])]


def _require(conn: sqlite3.Connection, case_id: int, *, open_only: bool = True) -> dict:
    case = get(conn, case_id)
    if case is None:
        raise CaseError(f"no case {case_id}")
    if open_only and case["state"] == "closed":
        raise CaseError(f"case {case_id} is already closed")
    return case


def assign(conn: sqlite3.Connection, case_id: int, assignee: str, by: str) -> None:
    _require(conn, case_id)
    assignee = assignee.strip()[:64]
    with conn:
        conn.execute("UPDATE cases SET assignee = ?, state = ? WHERE id = ?",
                     [assignee or None, "in-progress" if assignee else "open", case_id])
    accounts.audit(conn, by, "case.assigned", f"case:{case_id}", {"assignee": assignee})


def add_note(conn: sqlite3.Connection, case_id: int, text: str, by: str) -> None:
    _require(conn, case_id, open_only=False)
    text = text.strip()[:4000]
    if not text:
        raise CaseError("the note is empty")
    with conn:
        conn.execute("INSERT INTO case_notes (case_id, at, username, text) VALUES (?,?,?,?)",
                     [case_id, time.time(), by, text])
    accounts.audit(conn, by, "case.note", f"case:{case_id}", {"length": len(text)})


def close(conn: sqlite3.Connection, case_id: int, outcome: str, by: str,
          note: str = "") -> None:
    if outcome not in OUTCOME_CODES:
        raise CaseError(f"outcome {outcome!r}: must be one of {', '.join(OUTCOME_CODES)}")
    _require(conn, case_id)
    if note.strip():
        add_note(conn, case_id, note, by)
    with conn:
        conn.execute("UPDATE cases SET state = 'closed', outcome = ?, closed_at = ?, "
                     "closed_by = ? WHERE id = ?", [outcome, time.time(), by, case_id])
    accounts.audit(conn, by, "case.closed", f"case:{case_id}", {"outcome": outcome})
    alerts.close_for_case(conn, case_id, by)


def set_deadline(conn: sqlite3.Connection, case_id: int, deadline: float, reason: str,
                 by: str) -> None:
    """Move a case's deadline; the reason is required and goes to the audit log."""
    case = _require(conn, case_id)
    reason = reason.strip()[:500]
    if not reason:
        raise CaseError("give a reason for changing the deadline")
    with conn:
        # A new deadline in the future lifts the overdue flag; the old one stays in the audit.
        lift = ", escalated_at = NULL" if deadline > time.time() else ""
        conn.execute(f"UPDATE cases SET deadline = ?{lift} WHERE id = ?", [deadline, case_id])
    accounts.audit(conn, by, "case.deadline", f"case:{case_id}",
                   {"from": case["deadline"], "to": deadline, "reason": reason})


def reopen(conn: sqlite3.Connection, case_id: int, by: str) -> None:
    case = _require(conn, case_id, open_only=False)
    if case["state"] != "closed":
        raise CaseError(f"case {case_id} is not closed")
    with conn:
        conn.execute("UPDATE cases SET state = CASE WHEN assignee IS NULL THEN 'open' "
                     "ELSE 'in-progress' END, outcome = NULL, closed_at = NULL, "
                     "closed_by = NULL WHERE id = ?", [case_id])
    accounts.audit(conn, by, "case.reopened", f"case:{case_id}", {})


def outcomes_in(conn: sqlite3.Connection, start: float, end: float) -> dict:
    """Cases opened for ratings in [start, end): by state and outcome (for reports)."""
    out = {"opened": 0, "closed": 0, "open": 0, "overdue_closed": 0,
           "by_outcome": {c: 0 for c in OUTCOME_CODES}}
    for state, outcome, late, n in conn.execute(
            "SELECT state, outcome, CASE WHEN escalated_at IS NULL THEN 0 ELSE 1 END, "
            "count(*) FROM cases WHERE occurred_at >= ? AND occurred_at < ? GROUP BY 1, 2, 3",
            [start, end]):
        out["opened"] += n
        if state == "closed":
            out["closed"] += n
            out["by_outcome"][outcome] = out["by_outcome"].get(outcome, 0) + n
            out["overdue_closed"] += n if late else 0
        else:
            out["open"] += n
    return out
