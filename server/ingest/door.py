"""The server decides what it can know (issue 8, item 4): plausibility at the door.

A kiosk's credentials are on its SD card, so anything a message claims beyond the
citizen's own answer is checked against what the server knows by itself:

* **counter and commune** come from the enrolment (``enrolled_kiosks``), never from
  the message; a different claim is overridden and noted (``counter-claim``);
* **official**: one not on the roster for that counter is flagged ``roster``;
* **date**: older than the newest rating already stored for that kiosk by more than
  ``[door] backdate_hours`` is flagged ``backdated``; one in a closed period (a quarter
  ``[door] quarter_closes_after_days`` after its end, or before ``[door] closed_before``)
  is flagged ``closed-period``;
* **rate**: more than ``[door] max_per_minute`` / ``max_per_hour`` ratings from one
  kiosk in one minute / hour (by when they happened, so a drained backlog is not a
  burst) flags the rest ``rate`` and raises one alert per kiosk and hour;
* **reasons** are de-duplicated and limited to the configured codes (``reasons``).

Flagged ratings are stored (nothing is dropped: a leader may confirm them), but left
out of every index, figure and follow-up case until confirmed. The kiosk's own
``suspect`` is kept as sent; the server adds its flags beside it, so no message can
lower them.

Tables (migrations ``hailong-server-i8door``): ``ratings.flagged`` (the unconfirmed
excluding rules, comma-separated; NULL = counted) and ``rating_flags`` (``rating_id``,
``rule``, ``detail``, ``at``, ``confirmed_at``, ``confirmed_by``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlite_utils
from sqlite_utils import Migrations

from hailong import domain
from hailong.errors import ConfigError
from hailong.settings import Setting
from sync import contract

from server.reports.rollup import local_day

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server-i8door")

# Rules that keep a rating out of the figures until a leader confirms it.
EXCLUDING = ("roster", "closed-period", "backdated", "rate")
# Rules that only record what the server overrode (the stored row is already right).
NOTED = ("counter-claim", "reasons")

DOOR_SETTINGS: tuple[Setting, ...] = (
    Setting("door", "max_per_minute", int, 12, "ratings from one kiosk in one minute "
            "(by when they happened) before the rest are flagged 'rate' (the kiosk's own "
            "cooldown allows at most 30)", minimum=1),
    Setting("door", "max_per_hour", int, 240, "ratings from one kiosk in one hour before "
            "the rest are flagged 'rate'", minimum=1),
    Setting("door", "backdate_hours", float, 24.0, "a new rating dated this much before "
            "the newest one already stored from its kiosk is flagged 'backdated'",
            minimum=0.1),
    Setting("door", "quarter_closes_after_days", int, 15, "a quarter is closed this many "
            "days after its last day (its report has gone to the province); ratings dated "
            "in a closed quarter are flagged 'closed-period'; 0: quarters never close",
            minimum=0),
    Setting("door", "closed_before", str, "", "YYYY-MM-DD: every rating dated before this "
            "day is flagged 'closed-period' (e.g. after the year's report); empty: none"),
)


@migrations()
def m001_i8door_flags(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE ratings ADD COLUMN flagged TEXT")
    db.execute("""CREATE TABLE rating_flags (
        rating_id TEXT NOT NULL, rule TEXT NOT NULL, detail TEXT, at REAL NOT NULL,
        confirmed_at REAL, confirmed_by TEXT, PRIMARY KEY (rating_id, rule))""")
    db.execute("CREATE INDEX rating_flags_rule ON rating_flags (rule, confirmed_at)")
    # the rate and backdate rules look up one kiosk's ratings by time
    db.execute("CREATE INDEX ratings_kiosk_time ON ratings (kiosk, occurred_at)")
    # the fleet page counts rejections per kiosk
    db.execute("CREATE INDEX rejections_kiosk ON rejections (kiosk, id)")


@dataclass
class Verdict:
    """What the server makes of one new rating."""
    counter: str
    reasons: list[str]
    flags: list[tuple[str, str]] = field(default_factory=list)  # (rule, detail)

    @property
    def flagged(self) -> str | None:
        rules = [r for r, _ in self.flags if r in EXCLUDING]
        return ",".join(rules) if rules else None


class Door:
    """The rules, with their settings; :meth:`judge` runs inside ingest's transaction."""

    def __init__(self, settings, webhooks: tuple[str, ...] = ()):
        self.max_per_minute = settings.max_per_minute
        self.max_per_hour = settings.max_per_hour
        self.backdate = settings.backdate_hours * 3600
        self.closes_after = settings.quarter_closes_after_days
        try:
            self.closed_before = (date.fromisoformat(settings.closed_before)
                                  if settings.closed_before else None)
        except ValueError:
            raise ConfigError(f"[door] closed_before: {settings.closed_before!r} is not a "
                              "date YYYY-MM-DD") from None
        self.webhooks = webhooks

    @classmethod
    def from_config(cls, config) -> Door:
        return cls(config.door, tuple(config.alerts.webhooks))

    # --- one batch ----------------------------------------------------------------------

    def judge(self, conn: sqlite3.Connection, kiosk: str,
              placed: list[tuple[contract.Rating, float]], received_at: float
              ) -> list[Verdict]:
        """A verdict per (rating, occurred_at), in order."""
        if not placed:
            return []
        enrolled = conn.execute("SELECT counter FROM enrolled_kiosks WHERE id = ? AND "
                                "revoked_at IS NULL", [kiosk]).fetchone()
        roster = _Roster(conn)
        known_reasons = _reason_codes(conn)
        newest = conn.execute("SELECT max(occurred_at) FROM ratings WHERE kiosk = ?",
                              [kiosk]).fetchone()[0]
        today = local_day(received_at)
        verdicts = []
        for rating, occurred_at in placed:
            counter = enrolled[0] if enrolled else rating.counter
            v = Verdict(counter=counter, reasons=[])
            if counter != rating.counter:
                v.flags.append(("counter-claim", f"message said {rating.counter}"))
            seen, dropped = set(), []
            for code in rating.reasons:
                if code in seen or code not in known_reasons:
                    dropped.append(code)
                    continue
                seen.add(code)
                v.reasons.append(code)
            if dropped:
                v.flags.append(("reasons", "dropped " + ",".join(dropped)[:200]))
            if rating.official and not roster.serves(rating.official, counter):
                v.flags.append(("roster", f"{rating.official} not on the roster of {counter}"))
            if newest is not None and occurred_at < newest - self.backdate:
                v.flags.append(("backdated", f"{(newest - occurred_at) / 3600:.0f} h before "
                                             "the kiosk's newest stored rating"))
            if self._closed(local_day(occurred_at), today):
                v.flags.append(("closed-period", f"dated {local_day(occurred_at)}"))
            verdicts.append(v)
        self._rate(conn, kiosk, placed, verdicts, received_at)
        return verdicts

    def _closed(self, day: date, today: date) -> bool:
        if self.closed_before and day < self.closed_before:
            return True
        if not self.closes_after:
            return False
        quarter_end = _quarter_end(day)  # the day after the quarter's last day
        return today >= quarter_end + timedelta(days=self.closes_after)

    def _rate(self, conn: sqlite3.Connection, kiosk: str,
              placed: list[tuple[contract.Rating, float]], verdicts: list[Verdict],
              received_at: float) -> None:
        """Fixed minute and hour buckets of when the ratings happened: the first
        ``max_per_*`` of a bucket count, the rest are flagged (stored all the same)."""
        over_hours: set[int] = set()
        for width, limit in ((60, self.max_per_minute), (3600, self.max_per_hour)):
            in_batch: dict[int, list[int]] = defaultdict(list)
            for i, (_, occurred_at) in enumerate(placed):
                in_batch[int(occurred_at // width)].append(i)
            for bucket, idx in in_batch.items():
                stored = conn.execute(
                    "SELECT count(*) FROM ratings WHERE kiosk = ? AND occurred_at >= ? "
                    "AND occurred_at < ?", [kiosk, bucket * width, (bucket + 1) * width]
                ).fetchone()[0]
                room = max(0, limit - stored)
                if len(idx) <= room:
                    continue
                idx.sort(key=lambda i: placed[i][1])
                for i in idx[room:]:
                    if not any(r == "rate" for r, _ in verdicts[i].flags):
                        verdicts[i].flags.append(
                            ("rate", f"over {limit} per {'minute' if width == 60 else 'hour'}"))
                    over_hours.add(int(placed[i][1] // 3600))
        for hour in over_hours:
            _alert(conn, f"rate:{kiosk}:{hour}", kiosk,
                   f"Thiết bị {kiosk} gửi quá nhiều đánh giá trong một giờ "
                   f"(trên {self.max_per_hour}/giờ hoặc {self.max_per_minute}/phút): "
                   "đã lưu nhưng không tính, chờ lãnh đạo xác nhận",
                   {"kiosk": kiosk, "hour_start": hour * 3600}, self.webhooks, received_at)


def store_flags(conn: sqlite3.Connection, pairs: list[tuple[str, Verdict]], at: float) -> None:
    rows = [(rid, rule, detail, at) for rid, v in pairs for rule, detail in v.flags]
    if rows:
        conn.executemany("INSERT INTO rating_flags (rating_id, rule, detail, at) "
                         "VALUES (?,?,?,?) ON CONFLICT (rating_id, rule) DO NOTHING", rows)
        counts: dict[str, int] = defaultdict(int)
        for _, rule, _, _ in rows:
            counts[rule] += 1
        log.warning("flagged at the door: %s", ", ".join(f"{r} {n}" for r, n in counts.items()))


class _Roster:
    """Who serves where. An empty roster (no officials entered yet: a demo, the first
    day) checks nothing, rather than flagging every rating."""

    def __init__(self, conn: sqlite3.Connection):
        self.active = {r[0] for r in conn.execute("SELECT id FROM officials WHERE active = 1")}
        self.any = bool(conn.execute("SELECT 1 FROM officials LIMIT 1").fetchone())
        self.counters = {cid: (set(json.loads(serving or "[]")), on_duty)
                         for cid, serving, on_duty in conn.execute(
                             "SELECT id, officials, on_duty FROM counters")}

    def serves(self, official: str, counter: str) -> bool:
        if not self.any:
            return True
        if official not in self.active:
            return False
        serving, on_duty = self.counters.get(counter, (set(), None))
        return not serving or official in serving or official == on_duty


def _reason_codes(conn: sqlite3.Connection) -> set[str]:
    """The configured reason codes (the roster's lists, else the product's defaults)."""
    codes = {r.code for r in domain.LOW_REASONS + domain.HIGH_REASONS}
    for key in ("low_reasons", "high_reasons"):
        row = conn.execute("SELECT value FROM roster_settings WHERE key = ?", [key]).fetchone()
        if row:
            try:
                custom = {r["code"] for r in json.loads(row[0])}
            except (ValueError, TypeError, KeyError):
                continue
            defaults = {r.code for r in (domain.LOW_REASONS if key == "low_reasons"
                                         else domain.HIGH_REASONS)}
            codes = (codes - defaults) | custom
    return codes


def _quarter_end(day: date) -> date:
    q = (day.month - 1) // 3
    return date(day.year + (q == 3), (3 * q + 3) % 12 + 1, 1)


def _alert(conn: sqlite3.Connection, key: str, kiosk: str, message: str, payload: dict,
           webhooks: tuple[str, ...], now: float) -> None:
    # Inside ingest's transaction, so not alerts.raise_alert (its ``with conn`` would
    # commit half a batch); same rows, once per key.
    row = conn.execute("INSERT INTO alerts (key, at, kind, subject, message, payload) "
                       "VALUES (?,?,?,?,?,?) ON CONFLICT (key) DO NOTHING RETURNING id",
                       [key, now, "kiosk-rate", kiosk, message,
                        json.dumps(payload, ensure_ascii=False)]).fetchone()
    if row:  # a new alert (none was raised under this key before)
        conn.executemany("INSERT INTO alert_deliveries (alert_id, webhook, next_at) "
                         "VALUES (?,?,?)", [(row[0], url, now) for url in webhooks])
        log.warning("alert kiosk-rate: %s", message)


# --- what a leader sees and confirms ---------------------------------------------------

def open_flags(conn: sqlite3.Connection) -> list[dict]:
    """Unconfirmed excluding flags, grouped: rule, kiosk, official, count, first, last."""
    return [dict(zip(("rule", "kiosk", "official", "count", "first", "last"), row))
            for row in conn.execute(
                "SELECT f.rule, r.kiosk, r.official, count(*), min(r.occurred_at), "
                "max(r.occurred_at) FROM rating_flags f JOIN ratings r ON r.id = f.rating_id "
                f"WHERE f.confirmed_at IS NULL AND f.rule IN ({','.join('?' * len(EXCLUDING))}) "
                "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", EXCLUDING)]


def confirm(conn: sqlite3.Connection, *, rule: str, by: str, kiosk: str | None = None,
            official: str | None = None, no_official: bool = False,
            rating_ids: list[str] | None = None, now: float | None = None) -> list[str]:
    """A leader confirms flagged ratings: they count from now on (figures rebuilt,
    low ones get their follow-up case). Returns the ratings that now count."""
    from server.reports import rollup

    if rule not in EXCLUDING:
        raise ValueError(f"unknown rule {rule!r}; one of {', '.join(EXCLUDING)}")
    now = time.time() if now is None else now
    where, args = ["f.rule = ?", "f.confirmed_at IS NULL"], [rule]
    if kiosk:
        where.append("r.kiosk = ?")
        args.append(kiosk)
    if official:
        where.append("r.official = ?")
        args.append(official)
    elif no_official:
        where.append("r.official IS NULL")
    ids = [r[0] for r in conn.execute(
        "SELECT f.rating_id FROM rating_flags f JOIN ratings r ON r.id = f.rating_id "
        f"WHERE {' AND '.join(where)}", args)]
    if rating_ids is not None:
        wanted = set(rating_ids)
        ids = [i for i in ids if i in wanted]
    if not ids:
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("UPDATE rating_flags SET confirmed_at = ?, confirmed_by = ? "
                         "WHERE rating_id = ? AND rule = ?", [(now, by, i, rule) for i in ids])
        conn.executemany("UPDATE ratings SET flagged = ? WHERE id = ?",
                         [(_still_flagged(conn, i), i) for i in ids])
        counted = []
        for at in range(0, len(ids), 500):
            chunk = ids[at:at + 500]
            counted += [r[0] for r in conn.execute(
                f"SELECT id FROM ratings WHERE flagged IS NULL AND id IN "
                f"({','.join('?' * len(chunk))})", chunk)]
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    log.info("%s confirmed %d rating(s) flagged %s", by, len(ids), rule)
    rollup.rebuild(conn)  # a confirmed rating may sit on any past day
    return counted


def _still_flagged(conn, rating_id: str) -> str | None:
    """The excluding rules a rating still has unconfirmed, as ``Verdict.flagged`` writes
    them (joined here, not by an engine's group_concat)."""
    rules = [r[0] for r in conn.execute(
        "SELECT rule FROM rating_flags WHERE rating_id = ? AND confirmed_at IS NULL "
        f"AND rule IN ({','.join('?' * len(EXCLUDING))}) ORDER BY rule",
        [rating_id, *EXCLUDING])]
    return ",".join(rules) if rules else None


def open_cases_for(conn: sqlite3.Connection, ids: list[str], followup_settings) -> int:
    from server.followup import cases as followup
    if not ids:
        return 0
    return followup.open_cases(conn, low_at_or_below=followup_settings.low_at_or_below,
                               deadline_days=followup_settings.deadline_days, rating_ids=ids)
