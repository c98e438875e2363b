"""What a report to the province needs beyond the period's own figures: the data
cut-off ("số liệu tính đến ngày …"), counts at every rating level (zeros included),
and the change against the previous period and the same period a year before.

Days after today are never reported: a period still running is cut at today, both
for its figures (nothing is there anyway) and for its rows (no empty future days or
months in the trend), and the cut-off date says so.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import date, timedelta

from hailong import domain

from server.reports import figures, periods as report_periods
from server.reports.rollup import local_day


def as_of(period: figures.Period, now: float | None = None) -> date:
    """The last day whose data the report holds: the period's last day, or today."""
    today = local_day(time.time() if now is None else now)
    return min(period.end - timedelta(days=1), today)


def by_level(conn: sqlite3.Connection, period: figures.Period) -> list[dict]:
    """Every level of every scale in use (the default 4-level scale when there is no
    data), best first, with its count and share of the period's non-suspect ratings."""
    got = {(scale, score): int(n) for scale, score, n in conn.execute(
        "SELECT scale, score, sum(n) FROM daily_scores WHERE day >= ? AND day < ? "
        "GROUP BY scale, score", [period.start.isoformat(), period.end.isoformat()])}
    total = sum(got.values())
    scales = sorted({scale for scale, _ in got} or {4}, reverse=True)
    out = []
    for scale in scales:
        for lv in domain.LEVELS.get(scale, ()):
            n = got.get((scale, lv.score), 0)
            out.append({"scale": scale, "score": lv.score, "vi": lv.vi, "en": lv.en,
                        "count": n, "share": round(100.0 * n / total, 1) if total else None})
    return out


def _delta(now: dict, then: dict) -> dict:
    rate = (None if now["rate"] is None or then["rate"] is None
            else round(now["rate"] - then["rate"], 1))
    count = now["count"] - then["count"]
    return {"count": count, "rate_points": rate, "low": now["low"] - then["low"],
            "count_pct": round(100.0 * count / then["count"], 1) if then["count"] else None}


def comparisons(conn: sqlite3.Connection, period: figures.Period, summary: dict) -> dict:
    """{'previous': …, 'year_before': …}: each the other period's key, label and
    summary, and the change (count, rate in percentage points, low ratings)."""
    out = {}
    for name, find in (("previous", report_periods.previous),
                       ("year_before", report_periods.year_before)):
        try:
            other = find(period)
        except figures.PeriodError:  # before year 2000: nothing to compare with
            other = None
        if other is None:
            out[name] = None
            continue
        s = figures.summary(conn, other)
        out[name] = {"period": other.key, "label": other.label("vi"),
                     "start": other.start.isoformat(), "end": other.end.isoformat(),
                     "summary": s, "change": _delta(summary, s)}
    return out


def enrich(conn: sqlite3.Connection, period: figures.Period, data: dict,
           now: float | None = None) -> dict:
    """Add the cut-off, levels and comparisons to ``reports.build``'s answer, and
    drop trend rows after the cut-off."""
    cut = as_of(period, now)
    data["as_of"] = cut.isoformat()
    data["by_level"] = by_level(conn, period)
    data["compare"] = comparisons(conn, period, data["summary"])
    data["trend"] = [p for p in data["trend"] if p["key"] <= cut.isoformat()[:len(p["key"])]]
    return data
