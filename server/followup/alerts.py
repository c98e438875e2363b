"""Alerts: a new low rating, an official with repeated low ratings, a kiosk offline too
long, a growing backlog, a case past its deadline.

Alerts are rows in the store (deduplicated by a key), shown in the dashboard until
someone acknowledges them (or, for a case's alert, until the case closes), and sent by
one background thread with exponential backoff to the configured channels: generic
JSON webhooks, Telegram-bot ``sendMessage`` webhooks and e-mail (``[smtp]``).

Each alert names the official and the counter, gives the reasons and a link to the case
(``[alerts] base_url``), so whoever reads it can act without opening the dashboard first.
Routing (issue 10): each alert has a *route* (its kind, or ``lowest-rating`` for a
rating at the scale's lowest level); routes in ``[alerts] immediate`` go out at once,
the rest wait for the daily digest (one message per channel at ``digest_hour``); each
channel can be limited to some routes. More than ``summary_over`` new low ratings in
one look (a first start on an old store, a server down for a day) become one summary
alert instead of a flood. Nothing here runs on the ingest writer thread: the
ingest callback only wakes the housekeeper (``server/followup/watch.py``), so a slow or dead
webhook never slows ingest.
"""

from __future__ import annotations

import json
import logging
import smtplib
import sqlite3
import time
from datetime import datetime, timedelta
from email.message import EmailMessage

import requests
import sqlite_utils
from sqlite_utils import Migrations

from hailong import domain

from server import accounts
from server.followup import smtp as smtp_link
from server.reports.rollup import LOCAL

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server-alerts")

KINDS = {
    "low-rating": ("Đánh giá không hài lòng mới", "New low rating"),
    "official-repeated": ("Công chức bị đánh giá thấp nhiều lần", "Official rated low repeatedly"),
    "kiosk-offline": ("Thiết bị mất kết nối", "Kiosk offline"),
    "backlog": ("Thiết bị tồn nhiều đánh giá chưa gửi", "Kiosk backlog growing"),
    "case-overdue": ("Phản ánh quá hạn xử lý", "Follow-up case overdue"),
    # raised by server/ingest/door.py inside ingest's transaction
    "kiosk-rate": ("Thiết bị gửi quá nhiều đánh giá", "Kiosk sending too many ratings"),
    "case-assigned": ("Phản ánh được giao", "Case assigned"),
    "low-summary": ("Tổng hợp đánh giá không hài lòng", "Summary of low ratings"),
    "alert-summary": ("Tổng hợp cảnh báo cùng loại", "Summary of alerts of one kind"),
    "kiosk-duplicate": ("Hai thiết bị dùng chung một mã thiết bị",
                        "Two devices use one kiosk identity"),
    "kiosk-pin": ("Nhập sai mã PIN kỹ thuật nhiều lần", "Technician PIN failed repeatedly"),
}
# What ``[alerts] immediate`` and the channels' route lists name: the kinds, plus
# "lowest-rating" (a low rating at the scale's lowest level).
ROUTES = ("lowest-rating", *KINDS)
# what a technician sees: no ratings of people
FLEET_KINDS = ("kiosk-offline", "backlog", "kiosk-duplicate", "kiosk-pin")


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


@migrations()
def m002_i10dash_routing(db: sqlite_utils.Database) -> None:
    # The case an alert is about (so closing the case closes it), its route, and which
    # deliveries wait for the daily digest.
    db.execute("ALTER TABLE alerts ADD COLUMN case_id INTEGER")
    db.execute("ALTER TABLE alerts ADD COLUMN route TEXT")
    db.execute("CREATE INDEX alerts_case ON alerts (case_id) WHERE case_id IS NOT NULL")
    db.execute("ALTER TABLE alert_deliveries ADD COLUMN digest INTEGER NOT NULL DEFAULT 0")


def route_of(kind: str, payload: dict) -> str:
    if kind == "low-rating" and payload.get("score") == 1:
        return "lowest-rating"
    return kind


def channels(settings) -> tuple[str, ...]:
    """Every delivery target of ``[alerts]``: 'URL' (a webhook in ``style``),
    'telegram:URL' and 'mailto:ADDRESS'."""
    return (*settings.webhooks, *(f"telegram:{u}" for u in settings.telegram_webhooks),
            *(f"mailto:{a}" for a in settings.emails))


def _wants(settings, target: str, route: str) -> bool:
    if settings is None:
        return True
    only = settings.email_routes if target.startswith("mailto:") else \
        settings.telegram_routes if target.startswith("telegram:") else settings.webhook_routes
    return not only or route in only


def next_digest(now: float, hour: int) -> float:
    local = datetime.fromtimestamp(now, LOCAL)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if at.timestamp() <= now:
        at += timedelta(days=1)
    return at.timestamp()


def raise_alert(conn: sqlite3.Connection, key: str, kind: str, subject: str, message: str,
                payload: dict, webhooks: tuple[str, ...] = (),
                now: float | None = None) -> int | None:
    """Store an alert once per ``key``; queue its webhook deliveries. None if known."""
    ids = _raise_many(conn, [(key, kind, subject, message, payload)], webhooks, now)
    return ids[0] if ids else None


def _raise_many(conn: sqlite3.Connection, items: list[tuple], webhooks: tuple[str, ...],
                now: float | None = None, mark_cases: list[int] = (),
                settings=None) -> list[int]:
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
    fresh = _fold_floods(fresh, settings)
    ids = []
    immediate = set(settings.immediate) if settings is not None else set(ROUTES)
    digest_at = next_digest(now, settings.digest_hour) if settings is not None else now
    with conn:
        for key, kind, subject, message, payload, *quiet in fresh:
            route = route_of(kind, payload)
            made = conn.execute(
                "INSERT INTO alerts (key, at, kind, subject, message, payload, "
                "case_id, route) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT (key) DO NOTHING RETURNING id",
                [key, now, kind, subject, message, json.dumps(payload, ensure_ascii=False),
                 payload.get("case"), route]).fetchall()  # all: SQLite finishes the statement
            if made:
                alert_id = made[0][0]
                ids.append(alert_id)
                later = route not in immediate
                conn.executemany(
                    "INSERT INTO alert_deliveries (alert_id, webhook, next_at, digest) "
                    "VALUES (?,?,?,?)",
                    [(alert_id, url, digest_at if later else now, int(later))
                     for url in webhooks if not quiet and _wants(settings, url, route)])
                log.info("alert %s: %s", kind, message)
        conn.executemany("UPDATE cases SET alerted = 1 WHERE id = ?", [(i,) for i in mark_cases])
    return ids


def _fold_floods(fresh: list[tuple], settings) -> list[tuple]:
    """More than ``summary_over`` new alerts of one kind at once (a first start on an old
    store: every old case overdue, every official over the limit) are stored as usual,
    so the dashboard lists them, but sent as ONE summary message."""
    over = getattr(settings, "summary_over", None)
    if over is None:
        return fresh
    by_kind: dict[str, list[tuple]] = {}
    for item in fresh:
        by_kind.setdefault(item[1], []).append(item)
    out = []
    for kind, group in by_kind.items():
        if len(group) <= over or kind in ("low-summary", "alert-summary", "kiosk-offline",
                                          "backlog"):
            out += group
            continue
        out += [(*item[:5], "quiet") for item in group]
        names = [i[4].get("official_name") or i[2] for i in group][:8]
        out.append((f"summary:{kind}:{group[0][0]}:{len(group)}", "alert-summary", "",
                    f"{len(group)} cảnh báo “{KINDS[kind][0]}” cùng lúc: "
                    + "; ".join(str(n) for n in names) + ("…" if len(group) > 8 else "")
                    + ". Xem danh sách trong trang Cảnh báo.",
                    {"count": len(group), "of": kind, "of_vi": KINDS[kind][0],
                     "of_en": KINDS[kind][1]}))
    return out


def _lookup(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    """id -> name from the roster's tables (issue 5; every store has them since the
    roster's migrations run on open, server/ingest/store.py SCHEMA_MODULES)."""
    return {k: v for k, v in conn.execute(f"SELECT id, name FROM {table}") if v}


def case_link(settings, case_id: int) -> str:
    base = (getattr(settings, "base_url", "") or "").rstrip("/")
    return f"{base}/cases/{case_id}" if base else f"/cases/{case_id}"


def reasons_text(codes: list[str]) -> str:
    return ", ".join(domain.REASONS[c].vi if c in domain.REASONS else c for c in codes) or "—"


def check(conn: sqlite3.Connection, settings, webhooks: tuple[str, ...],
          now: float | None = None) -> int:
    """Look for every kind of alert; returns how many new ones were raised."""
    now = time.time() if now is None else now
    officials, counters = _lookup(conn, "officials"), _lookup(conn, "counters")

    def who(official):
        return officials.get(official, official) if official else "(không rõ công chức)"

    def where(counter):
        return counters.get(counter, counter) if counter else "?"

    items: list[tuple] = []
    # New low ratings: one alert per case not yet alerted, or ONE summary when there are
    # more than summary_over of them (a first start on an old store, a long outage):
    # 87 messages at once is a flood nobody reads.
    rows = conn.execute("SELECT id, official, counter, score, scale, reasons FROM cases "
                        "WHERE alerted = 0 ORDER BY id").fetchall()
    summary_over = getattr(settings, "summary_over", 10 ** 9)
    if len(rows) > summary_over:
        by_official: dict[str, int] = {}
        for r in rows:
            by_official[who(r[1])] = by_official.get(who(r[1]), 0) + 1
        top = sorted(by_official.items(), key=lambda kv: -kv[1])[:5]
        items.append((
            f"summary:{rows[0][0]}-{rows[-1][0]}", "low-summary", "",
            f"{len(rows)} đánh giá không hài lòng chưa được báo (phản ánh #{rows[0][0]}"
            f"–#{rows[-1][0]}); nhiều nhất: "
            + "; ".join(f"{name} ({n})" for name, n in top)
            + f". Xem: {case_link(settings, 0)[:-2]}?state=active",
            {"cases": len(rows), "first": rows[0][0], "last": rows[-1][0],
             "top": [list(t) for t in top]}))
    else:
        for case_id, official, counter, score, scale, reasons in rows:
            codes = json.loads(reasons or "[]")
            try:
                level = domain.level(score, scale).vi
            except (KeyError, StopIteration):
                level = f"{score}/{scale}"
            link = case_link(settings, case_id)
            items.append((
                f"low:{case_id}", "low-rating", official or "",
                f"Đánh giá “{level}” ({score}/{scale}) cho {who(official)} tại quầy "
                f"{where(counter)}. Lý do: {reasons_text(codes)}. Phản ánh #{case_id}: {link}",
                {"case": case_id, "official": official, "official_name": who(official),
                 "counter": counter, "counter_name": where(counter), "score": score,
                 "scale": scale, "reasons": codes, "link": link}))
    # An official with N or more low ratings in the last P days (once per official per
    # period window, so a flood does not page the leader every minute).
    days = settings.official_low_days
    window = int(now // (days * 86400))
    # sorted here (GROUP BY gives no order on PostgreSQL; alerts are numbered in it)
    for official, n, last in sorted(conn.execute(
            "SELECT official, count(*), max(id) FROM cases WHERE occurred_at >= ? AND "
            "official IS NOT NULL GROUP BY official HAVING count(*) >= ?",
            [now - days * 86400, settings.official_low_count]).fetchall()):
        link = case_link(settings, 0)[:-2] + f"?official={official}"
        items.append((f"repeated:{official}:{window}", "official-repeated", official,
                      f"{who(official)}: {n} đánh giá không hài lòng trong {days} ngày. "
                      f"Xem: {link}",
                      {"official": official, "official_name": who(official), "low": n,
                       "days": days, "link": link}))
    # Kiosks offline too long, and growing backlogs.
    for kiosk, online, last_seen, status in sorted(conn.execute(
            "SELECT id, online, last_seen, status FROM kiosks").fetchall()):
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
    for kiosk, status in sorted(conn.execute("SELECT id, status FROM kiosks").fetchall()):
        tries = (json.loads(status or "{}") or {}).get("pin_failures") or 0
        if tries >= settings.pin_failures:
            items.append((f"pin:{kiosk}:{int(now // 86400)}", "kiosk-pin", kiosk,
                          f"Thiết bị {kiosk}: {tries} lần nhập sai mã PIN kỹ thuật trong 24 giờ",
                          {"kiosk": kiosk, "pin_failures": tries}))
    # Two devices with one identity (server/ingest/identity.py), once per kiosk per hour.
    from server.ingest.identity import duplicates
    for kiosk, cause in duplicates(conn, now).items():
        items.append((f"duplicate:{kiosk}:{int(now // 3600)}", "kiosk-duplicate", kiosk,
                      f"Thiết bị {kiosk}: {cause}", {"kiosk": kiosk, "cause": cause}))
    # Cases past their deadline (escalated by followup.escalate_overdue).
    for case_id, official, counter in conn.execute(
            "SELECT id, official, counter FROM cases WHERE escalated_at IS NOT NULL "
            "AND state != 'closed' ORDER BY id"):
        link = case_link(settings, case_id)
        items.append((f"overdue:{case_id}", "case-overdue", official or "",
                      f"Phản ánh #{case_id} ({who(official)}, quầy {where(counter)}) quá hạn "
                      f"xử lý: {link}",
                      {"case": case_id, "official": official, "official_name": who(official),
                       "link": link}))
    return len(_raise_many(conn, items, webhooks, now, [r[0] for r in rows],
                           settings=settings if hasattr(settings, "immediate") else None))


def case_assigned(conn: sqlite3.Connection, settings, case: dict, assignee: str,
                  by: str) -> int | None:
    """Tell the assignee (issue 10): an alert routed like any other, and an e-mail to
    the assignee's own address when ``[alerts] assignee_emails`` has one."""
    officials = _lookup(conn, "officials")
    name = officials.get(case["official"], case["official"]) if case["official"] else "?"
    link = case_link(settings, case["id"])
    targets = list(channels(settings))
    own = dict(e.split("=", 1) for e in settings.assignee_emails if "=" in e)
    if assignee in own:
        targets.append(f"mailto:{own[assignee].strip()}")
    return raise_alert(
        conn, f"assigned:{case['id']}:{assignee}:{int(time.time())}", "case-assigned",
        assignee, f"{by} giao phản ánh #{case['id']} ({name}, lý do: "
        f"{reasons_text(case['reasons'])}) cho {assignee}, hạn "
        f"{datetime.fromtimestamp(case['deadline'], LOCAL):%H:%M %d/%m/%Y}: {link}",
        {"case": case["id"], "official": case["official"], "official_name": name,
         "assignee": assignee, "by": by, "link": link}, tuple(targets))


def close_for_case(conn: sqlite3.Connection, case_id: int, by: str) -> int:
    """A case closed: its open alerts close with it, and nothing about it waits in a
    digest any more."""
    now = time.time()
    with conn:
        cur = conn.execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, "
                           "comment = 'phản ánh đã đóng' WHERE case_id = ? AND "
                           "acknowledged_at IS NULL", [now, by, case_id])
        conn.execute("UPDATE alert_deliveries SET gave_up = 1, last_error = 'case closed' "
                     "WHERE digest = 1 AND delivered_at IS NULL AND alert_id IN "
                     "(SELECT id FROM alerts WHERE case_id = ?)", [case_id])
    return cur.rowcount


def body(alert: dict, style: str, chat_id: str) -> dict:
    if style == "telegram":
        # Telegram Bot API sendMessage: {chat_id, text}; plain text, no parse_mode, so
        # nothing in a name can break the markup.
        return {"chat_id": chat_id, "text": f"[Hài Lòng] {alert['message']}",
                "disable_web_page_preview": True}
    return {"id": alert["id"], "kind": alert["kind"], "at": alert["at"],
            "subject": alert["subject"], "message": alert["message"],
            "data": json.loads(alert["payload"] or "{}")}


def _digest(alerts_: list[dict]) -> dict:
    lines = [f"- {a['message']}" for a in alerts_]
    return {"id": alerts_[0]["id"], "kind": "digest", "at": time.time(), "subject": "",
            "message": f"Tổng hợp trong ngày: {len(alerts_)} cảnh báo\n" + "\n".join(lines),
            "payload": json.dumps({"alerts": [a["id"] for a in alerts_]})}


def send_email(smtp, to: str, subject: str, text: str, timeout: float = 10.0) -> None:
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(text)
    with smtp_link.connect(smtp, timeout) as s:
        s.send_message(msg)


def _send(target: str, alert: dict, *, style: str, chat_id: str, session, smtp,
          timeout: float) -> str | None:
    """Deliver one alert (or a digest) to one target; the error, or None."""
    try:
        if target.startswith("mailto:"):
            if smtp is None or not smtp.host:
                return "no [smtp] host"
            first = alert["message"].split("\n", 1)[0]
            send_email(smtp, target[7:], f"[Hài Lòng] {first[:120]}", alert["message"],
                       timeout)
            return None
        if target.startswith("telegram:"):
            url, data = target[9:], body(alert, "telegram", chat_id)
        else:
            url, data = target, body(alert, style, chat_id)
        resp = session.post(url, json=data, timeout=timeout)
        return f"HTTP {resp.status_code}" if resp.status_code >= 300 else None
    except (requests.RequestException, OSError, smtplib.SMTPException) as e:
        return type(e).__name__


def deliver_due(conn: sqlite3.Connection, *, style: str, chat_id: str, max_attempts: int,
                session: requests.Session, now: float | None = None,
                timeout: float = 5.0, smtp=None) -> int:
    """Send every delivery that is due; failures wait 2**attempts seconds (max 1 h).
    Digest deliveries due together go to each target as ONE message."""
    now = time.time() if now is None else now
    due = conn.execute(
        "SELECT d.alert_id, d.webhook, d.attempts, a.kind, a.at, a.subject, a.message, "
        "a.payload, d.digest FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
        "WHERE d.delivered_at IS NULL AND d.gave_up = 0 AND d.next_at <= ? "
        "ORDER BY d.next_at LIMIT 500", [now]).fetchall()
    batches: list[tuple[str, list[dict], int, bool]] = []
    digests: dict[str, list[dict]] = {}
    for alert_id, url, attempts, kind, at, subject, message, payload, digest in due:
        alert = {"id": alert_id, "kind": kind, "at": at, "subject": subject,
                 "message": message, "payload": payload, "attempts": attempts}
        if digest:
            digests.setdefault(url, []).append(alert)
        elif len(batches) < 50:
            batches.append((url, [alert], attempts, False))
    for url, group in digests.items():
        batches.append((url, group, max(a["attempts"] for a in group), True))
    sent = 0
    for url, group, attempts, is_digest in batches:
        alert = _digest(group) if is_digest else group[0]
        error = _send(url, alert, style=style, chat_id=chat_id, session=session, smtp=smtp,
                      timeout=timeout)
        attempts += 1
        ids = [(a["id"], url) for a in group]
        with conn:
            if error is None:
                conn.executemany("UPDATE alert_deliveries SET attempts = attempts + 1, "
                                 "delivered_at = ?, last_error = NULL WHERE alert_id = ? "
                                 "AND webhook = ?", [(time.time(), *i) for i in ids])
                sent += 1
            else:
                conn.executemany(
                    "UPDATE alert_deliveries SET attempts = ?, next_at = ?, last_error = ?, "
                    "gave_up = ? WHERE alert_id = ? AND webhook = ?",
                    [(attempts, time.time() + min(3600.0, 2.0 ** attempts), error,
                      int(attempts >= max_attempts), *i) for i in ids])
                log.warning("alert delivery %s to %s failed (%s), try %d/%d",
                            group[0]["id"], url.split(":", 1)[0], error, attempts,
                            max_attempts)
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


def acknowledge_many(conn: sqlite3.Connection, alert_ids: list[int], by: str,
                     comment: str = "", kinds: tuple[str, ...] | None = None) -> int:
    """Acknowledge several alerts in one transaction (one audit line); how many."""
    only = f" AND kind IN ({','.join('?' * len(kinds))})" if kinds is not None else ""
    done = 0
    with conn:
        for at in range(0, len(alert_ids), 400):
            chunk = [int(i) for i in alert_ids[at:at + 400]]
            cur = conn.execute(
                "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?, comment = ? "
                f"WHERE id IN ({','.join('?' * len(chunk))}) AND acknowledged_at IS NULL"
                f"{only}", [time.time(), by, comment.strip()[:1000] or None, *chunk,
                            *(kinds or ())])
            done += cur.rowcount
    if done:
        accounts.audit(conn, by, "alert.acknowledged-many", "alerts",
                       {"count": done, "comment": comment.strip()[:200]})
    return done
