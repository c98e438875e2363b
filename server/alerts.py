"""Alerts: a new low rating, an official with repeated low ratings, a kiosk offline too
long, a growing backlog, a case past its deadline.

Alerts are rows in the store (deduplicated by a key), shown in the dashboard until
someone acknowledges them, and POSTed to the configured webhooks by one background
thread with exponential backoff. Nothing here runs on the ingest writer thread: the
ingest callback only wakes the housekeeper (``server/watch.py``), so a slow or dead
webhook never slows ingest.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from datetime import datetime

import requests
import sqlite_utils
from sqlite_utils import Migrations

from . import accounts
from .rollup import LOCAL

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server-alerts")

KINDS = {
    "low-rating": ("Đánh giá không hài lòng mới", "New low rating"),
    "official-repeated": ("Công chức bị đánh giá thấp nhiều lần", "Official rated low repeatedly"),
    "kiosk-offline": ("Thiết bị mất kết nối", "Kiosk offline"),
    "backlog": ("Thiết bị tồn nhiều đánh giá chưa gửi", "Kiosk backlog growing"),
    "case-overdue": ("Phản ánh quá hạn xử lý", "Follow-up case overdue"),
    "kiosk-duplicate": ("Hai thiết bị dùng chung một mã thiết bị",
                        "Two devices use one kiosk identity"),
    "kiosk-pin": ("Nhập sai mã PIN kỹ thuật nhiều lần", "Technician PIN failed repeatedly"),
}
FLEET_KINDS = ("kiosk-offline", "backlog", "kiosk-duplicate", "kiosk-pin")  # what a technician sees: no ratings of people


@migrations()
def m001_alerts(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE alerts (
        id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, at REAL NOT NULL,
        kind TEXT NOT NULL, subject TEXT, message TEXT NOT NULL, payload TEXT,
        acknowledged_at REAL, acknowledged_by TEXT, comment TEXT)""")
    db.execute("CREATE INDEX alerts_open ON alerts (acknowledged_at, at)")
    db.execute("""CREATE TABLE alert_deliveries (
        alert_id INTEGER NOT NULL REFERENCES alerts(id), webhook TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, delivered_at REAL,
        gave_up INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        PRIMARY KEY (alert_id, webhook))""")
    db.execute("CREATE INDEX deliveries_due ON alert_deliveries (delivered_at, gave_up, next_at)")


def raise_alert(conn: sqlite3.Connection, key: str, kind: str, subject: str, message: str,
                payload: dict, webhooks: tuple[str, ...] = (),
                now: float | None = None) -> int | None:
    """Store an alert once per ``key``; queue its webhook deliveries. None if known."""
    ids = _raise_many(conn, [(key, kind, subject, message, payload)], webhooks, now)
    return ids[0] if ids else None


def _raise_many(conn: sqlite3.Connection, items: list[tuple], webhooks: tuple[str, ...],
                now: float | None = None, mark_cases: list[int] = ()) -> list[int]:
    """All new alerts of one check in ONE transaction (and none when nothing is new):
    while the housekeeper holds the write lock, ingest waits."""
    now = time.time() if now is None else now
    known: set[str] = set()
    keys = [i[0] for i in items]
    for at in range(0, len(keys), 500):  # under SQLite's limit on bound parameters
        chunk = keys[at:at + 500]
        known.update(r[0] for r in conn.execute(
            f"SELECT key FROM alerts WHERE key IN ({','.join('?' * len(chunk))})", chunk))
    fresh = [i for i in items if i[0] not in known]
    if not fresh and not mark_cases:
        return []
    ids = []
    with conn:
        for key, kind, subject, message, payload in fresh:
            cur = conn.execute(
                "INSERT OR IGNORE INTO alerts (key, at, kind, subject, message, payload) "
                "VALUES (?,?,?,?,?,?)",
                [key, now, kind, subject, message, json.dumps(payload, ensure_ascii=False)])
            if cur.rowcount:
                ids.append(cur.lastrowid)
                conn.executemany("INSERT INTO alert_deliveries (alert_id, webhook, next_at) "
                                 "VALUES (?,?,?)", [(cur.lastrowid, url, now) for url in webhooks])
                log.info("alert %s: %s", kind, message)
        conn.executemany("UPDATE cases SET alerted = 1 WHERE id = ?", [(i,) for i in mark_cases])
    return ids


def check(conn: sqlite3.Connection, settings, webhooks: tuple[str, ...],
          now: float | None = None) -> int:
    """Look for every kind of alert; returns how many new ones were raised."""
    now = time.time() if now is None else now
    items: list[tuple] = []
    # New low ratings: one alert per case not yet alerted.
    rows = conn.execute("SELECT id, official, counter, score, scale, reasons FROM cases "
                        "WHERE alerted = 0 ORDER BY id LIMIT 500").fetchall()
    for case_id, official, counter, score, scale, reasons in rows:
        items.append((
            f"low:{case_id}", "low-rating", official or "",
            f"Đánh giá {score}/{scale} cho {official or '?'} tại quầy {counter or '?'} "
            f"(phản ánh #{case_id})",
            {"case": case_id, "official": official, "counter": counter, "score": score,
             "scale": scale, "reasons": json.loads(reasons or "[]")}))
    # An official with N or more low ratings in the last P days (once per official per
    # period window, so a flood does not page the leader every minute).
    days = settings.official_low_days
    window = int(now // (days * 86400))
    for official, n in conn.execute(
            "SELECT official, count(*) FROM cases WHERE occurred_at >= ? AND official "
            "IS NOT NULL GROUP BY official HAVING count(*) >= ?",
            [now - days * 86400, settings.official_low_count]):
        items.append((f"repeated:{official}:{window}", "official-repeated", official,
                      f"{official}: {n} đánh giá không hài lòng trong {days} ngày",
                      {"official": official, "low": n, "days": days}))
    # Kiosks offline too long, and growing backlogs.
    for kiosk, online, last_seen, status in conn.execute(
            "SELECT id, online, last_seen, status FROM kiosks"):
        if not online and last_seen and now - last_seen > settings.kiosk_offline_minutes * 60:
            items.append((f"offline:{kiosk}:{int(last_seen)}", "kiosk-offline", kiosk,
                          f"Thiết bị {kiosk} mất kết nối từ "
                          f"{datetime.fromtimestamp(last_seen, LOCAL):%H:%M %d/%m}",
                          {"kiosk": kiosk, "last_seen": last_seen}))
        backlog = (json.loads(status or "{}") or {}).get("backlog", 0)
        if backlog > settings.backlog_over:
            items.append((f"backlog:{kiosk}:{int(now // 86400)}", "backlog", kiosk,
                          f"Thiết bị {kiosk} còn {backlog} đánh giá chưa gửi được",
                          {"kiosk": kiosk, "backlog": backlog}))
    # Wrong technician PINs at a kiosk (kiosk/pinguard.py), once per kiosk per day.
    for kiosk, status in conn.execute("SELECT id, status FROM kiosks"):
        tries = (json.loads(status or "{}") or {}).get("pin_failures") or 0
        if tries >= settings.pin_failures:
            items.append((f"pin:{kiosk}:{int(now // 86400)}", "kiosk-pin", kiosk,
                          f"Thiết bị {kiosk}: {tries} lần nhập sai mã PIN kỹ thuật trong 24 giờ",
                          {"kiosk": kiosk, "pin_failures": tries}))
    # Two devices with one identity (server/identity.py), once per kiosk per hour.
    from .identity import duplicates
    for kiosk, cause in duplicates(conn, now).items():
        items.append((f"duplicate:{kiosk}:{int(now // 3600)}", "kiosk-duplicate", kiosk,
                      f"Thiết bị {kiosk}: {cause}", {"kiosk": kiosk, "cause": cause}))
    # Cases past their deadline (escalated by followup.escalate_overdue).
    for case_id, official in conn.execute(
            "SELECT id, official FROM cases WHERE escalated_at IS NOT NULL "
            "AND state != 'closed'"):
        items.append((f"overdue:{case_id}", "case-overdue", official or "",
                      f"Phản ánh #{case_id} ({official or '?'}) quá hạn xử lý",
                      {"case": case_id, "official": official}))
    return len(_raise_many(conn, items, webhooks, now, [r[0] for r in rows]))


def body(alert: dict, style: str, chat_id: str) -> dict:
    if style == "telegram":
        return {"chat_id": chat_id, "text": f"[Hài Lòng] {alert['message']}"}
    return {"id": alert["id"], "kind": alert["kind"], "at": alert["at"],
            "subject": alert["subject"], "message": alert["message"],
            "data": json.loads(alert["payload"] or "{}")}


def deliver_due(conn: sqlite3.Connection, *, style: str, chat_id: str, max_attempts: int,
                session: requests.Session, now: float | None = None,
                timeout: float = 5.0) -> int:
    """POST every delivery that is due; failures wait 2**attempts seconds (max 1 h)."""
    now = time.time() if now is None else now
    due = conn.execute(
        "SELECT d.alert_id, d.webhook, d.attempts, a.kind, a.at, a.subject, a.message, "
        "a.payload FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
        "WHERE d.delivered_at IS NULL AND d.gave_up = 0 AND d.next_at <= ? "
        "ORDER BY d.next_at LIMIT 50", [now]).fetchall()
    sent = 0
    for alert_id, url, attempts, kind, at, subject, message, payload in due:
        alert = {"id": alert_id, "kind": kind, "at": at, "subject": subject,
                 "message": message, "payload": payload}
        error = None
        try:
            resp = session.post(url, json=body(alert, style, chat_id), timeout=timeout)
            if resp.status_code >= 300:
                error = f"HTTP {resp.status_code}"
        except requests.RequestException as e:
            error = type(e).__name__
        attempts += 1
        with conn:
            if error is None:
                conn.execute("UPDATE alert_deliveries SET attempts = ?, delivered_at = ?, "
                             "last_error = NULL WHERE alert_id = ? AND webhook = ?",
                             [attempts, time.time(), alert_id, url])
                sent += 1
            else:
                conn.execute("UPDATE alert_deliveries SET attempts = ?, next_at = ?, "
                             "last_error = ?, gave_up = ? WHERE alert_id = ? AND webhook = ?",
                             [attempts, time.time() + min(3600.0, 2.0 ** attempts), error,
                              int(attempts >= max_attempts), alert_id, url])
                log.warning("webhook for alert %s failed (%s), try %d/%d", alert_id, error,
                            attempts, max_attempts)
    return sent


def listing(conn: sqlite3.Connection, *, kinds: tuple[str, ...] | None = None,
            include_acknowledged: bool = False, limit: int = 200) -> list[dict]:
    clauses, args = [], []
    if not include_acknowledged:
        clauses.append("acknowledged_at IS NULL")
    if kinds is not None:
        clauses.append(f"kind IN ({','.join('?' * len(kinds))})")
        args += kinds
    where = "WHERE " + " AND ".join(clauses) if clauses else ""
    cols = ("id", "at", "kind", "subject", "message", "payload", "acknowledged_at",
            "acknowledged_by", "comment")
    rows = conn.execute(f"SELECT {', '.join(cols)} FROM alerts {where} ORDER BY id DESC "
                        "LIMIT ?", [*args, limit])
    out = []
    for r in rows:
        a = dict(zip(cols, r))
        a["payload"] = json.loads(a["payload"] or "{}")
        out.append(a)
    return out


def open_count(conn: sqlite3.Connection, kinds: tuple[str, ...] | None = None) -> int:
    only = f" AND kind IN ({','.join('?' * len(kinds))})" if kinds is not None else ""
    return conn.execute(f"SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL{only}",
                        list(kinds or ())).fetchone()[0]


def acknowledge(conn: sqlite3.Connection, alert_id: int, by: str, comment: str = "",
                kinds: tuple[str, ...] | None = None) -> bool:
    only = f" AND kind IN ({','.join('?' * len(kinds))})" if kinds is not None else ""
    with conn:
        cur = conn.execute(
            "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, comment = ? "
            f"WHERE id = ? AND acknowledged_at IS NULL{only}",
            [time.time(), by, comment.strip()[:1000] or None, alert_id, *(kinds or ())])
    if cur.rowcount:
        accounts.audit(conn, by, "alert.acknowledged", f"alert:{alert_id}",
                       {"comment": comment.strip()[:200]})
    return bool(cur.rowcount)
