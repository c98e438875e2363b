"""The figures leaders read: counts, satisfaction rate, low ratings, breakdowns, trends
and reasons over a period, all from the daily rollup (``server/reports/rollup.py``).

Suspect ratings are left out of every index (they are counted apart). The same
functions feed the pages, the JSON API and the reports.
"""

from __future__ import annotations

import calendar
import re
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from hailong.errors import HailongError

from server.reports.rollup import local_day

DIMENSIONS = ("official", "counter", "kiosk", "field", "procedure")


class PeriodError(HailongError, ValueError):
    """A period the figures do not understand."""


@dataclass(frozen=True)
class Period:
    key: str         # as in URLs: 2026-11, 2026-Q3, 2026-6M, 2026-9M, 2026, today, ...
    start: date      # first day
    end: date        # day after the last

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def label(self, lang: str = "vi") -> str:
        from server.reports import periods as report_periods  # official periods, ranges, weeks (issue 10)
        if (text := report_periods.label(self, lang)) is not None:
            return text
        y = self.start.year
        k = self.key
        vi = lang == "vi"
        if re.fullmatch(r"\d{4}-\d{2}", k):
            return f"Tháng {self.start.month}/{y}" if vi else f"{calendar.month_name[self.start.month]} {y}"
        if re.fullmatch(r"\d{4}-Q[1-4]", k):
            return f"Quý {k[-1]}/{y}" if vi else f"Q{k[-1]} {y}"
        if k.endswith("-6M"):
            return f"6 tháng đầu năm {y}" if vi else f"First 6 months of {y}"
        if k.endswith("-9M"):
            return f"9 tháng đầu năm {y}" if vi else f"First 9 months of {y}"
        if re.fullmatch(r"\d{4}", k):
            return f"Năm {y}" if vi else f"Year {y}"
        if k == "today":
            return "Hôm nay" if vi else "Today"
        return f"{self.start:%d/%m/%Y} – {self.end - timedelta(days=1):%d/%m/%Y}"


def _month_end(y: int, m: int) -> date:
    return date(y + (m == 12), m % 12 + 1, 1)


# The years a rating can be in (the contract's timestamps run 2000..2100); outside
# them a period is a mistake, and year 0 or 9999 broke date arithmetic (issue 8: 500).
MIN_YEAR, MAX_YEAR = 2000, 2100


def parse_period(key: str, today: date | None = None) -> Period:
    """``today``, ``month``, ``quarter``, ``year`` (the current ones), ``YYYY-MM``,
    ``YYYY-Q1``..``Q4``, ``YYYY-6M``, ``YYYY-9M`` (from 1 January), ``YYYY``."""
    try:
        period = _parse_period(key, today)
    except PeriodError:
        raise
    except (ValueError, OverflowError):  # a calendar edge: year 0, 10000, ...
        raise PeriodError(f"period {key[:40]!r}: years {MIN_YEAR}-{MAX_YEAR} only") from None
    if not MIN_YEAR <= period.start.year <= MAX_YEAR:
        raise PeriodError(f"period {key!r}: years {MIN_YEAR}-{MAX_YEAR} only")
    return period


def _parse_period(key: str, today: date | None) -> Period:
    import time
    today = today or local_day(time.time())
    key = (key or "").strip()
    # \d would take other scripts' digits; 22 characters: a date range (issue 10)
    if not key.isascii() or len(key) > 22:
        raise PeriodError(f"period {key[:40]!r}: use YYYY-MM, YYYY-Q1..Q4, YYYY-6M, "
                          "YYYY-9M, YYYY, bc-YYYY-Q1.., YYYY-MM-DD..YYYY-MM-DD or YYYY-Www")
    from server.reports import periods as report_periods  # official periods, ranges, weeks (issue 10)
    if (found := report_periods.parse(key)) is not None:
        return found
    if key == "today":
        return Period(key, today, today + timedelta(days=1))
    if key == "month":
        key = f"{today:%Y-%m}"
    elif key == "quarter":
        key = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    elif key == "year":
        key = str(today.year)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", key):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return Period(key, date(y, mo, 1), _month_end(y, mo))
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", key):
        y, q = int(m[1]), int(m[2])
        return Period(key, date(y, 3 * q - 2, 1), _month_end(y, 3 * q))
    if m := re.fullmatch(r"(\d{4})-([69])M", key):
        y, n = int(m[1]), int(m[2])
        return Period(key, date(y, 1, 1), _month_end(y, n))
    if re.fullmatch(r"\d{4}", key):
        y = int(key)
        return Period(key, date(y, 1, 1), date(y + 1, 1, 1))
    raise PeriodError(f"period {key!r}: use YYYY-MM, YYYY-Q1..Q4, YYYY-6M, YYYY-9M or YYYY")


def _where(period: Period, filters: dict[str, str] | None) -> tuple[str, list]:
    clauses = ["day >= ?", "day < ?"]
    args: list = [period.start.isoformat(), period.end.isoformat()]
    for dim, value in (filters or {}).items():
        if dim not in DIMENSIONS:
            raise ValueError(dim)
        clauses.append(f"{dim} = ?")
        args.append(value)
    return " AND ".join(clauses), args


_AGG = "sum(n), sum(sat), sum(low), sum(sus)"


def _row(count, satisfied, low, suspect) -> dict:
    # int(): PostgreSQL's sum() of a bigint is a numeric, which comes back as a float
    count, satisfied, low, suspect = (int(v or 0) for v in (count, satisfied, low, suspect))
    return {"count": count, "satisfied": satisfied, "low": low, "suspect": suspect,
            "rate": round(100.0 * satisfied / count, 1) if count else None}


def summary(conn: sqlite3.Connection, period: Period,
            filters: dict[str, str] | None = None) -> dict:
    where, args = _where(period, filters)
    row = conn.execute(f"SELECT {_AGG} FROM daily2 WHERE {where}", args).fetchone()
    out = _row(*row)
    if not filters:
        out["by_score"] = {f"{scale}:{score}": int(n) for scale, score, n in conn.execute(
            "SELECT scale, score, sum(n) FROM daily_scores WHERE day >= ? AND day < ? "
            "GROUP BY scale, score ORDER BY scale, score DESC", args[:2])}
    return out


def breakdown(conn: sqlite3.Connection, period: Period, by: str,
              filters: dict[str, str] | None = None) -> list[dict]:
    if by not in DIMENSIONS:
        raise ValueError(by)
    where, args = _where(period, filters)
    rows = conn.execute(f"SELECT {by}, {_AGG} FROM daily2 WHERE {where} GROUP BY {by}",
                        args).fetchall()
    # sorted here, by code point: PostgreSQL's ORDER BY follows the database's locale
    return [{"key": r[0], **_row(*r[1:])} for r in sorted(rows, key=lambda r: r[0])]


def breakdowns(conn: sqlite3.Connection, period: Period) -> dict[str, list[dict]]:
    """Every dimension's breakdown from ONE pass over the period's rollup rows (a
    year's report reads them once instead of five times)."""
    where, args = _where(period, None)
    dims = ", ".join(DIMENSIONS)
    totals: dict[str, dict[str, list[int]]] = {d: {} for d in DIMENSIONS}
    for row in conn.execute(f"SELECT {dims}, {_AGG} FROM daily2 WHERE {where} "
                            f"GROUP BY {dims}", args):
        counts = row[len(DIMENSIONS):]
        for i, dim in enumerate(DIMENSIONS):
            acc = totals[dim].setdefault(row[i], [0, 0, 0, 0])
            for j in range(4):
                acc[j] += int(counts[j] or 0)
    return {dim: [{"key": key, **_row(*acc)} for key, acc in sorted(rows.items())]
            for dim, rows in totals.items()}


def trend(conn: sqlite3.Connection, period: Period, step: str = "auto",
          filters: dict[str, str] | None = None) -> list[dict]:
    """Per day (periods up to ~2 months) or per month, with empty steps filled in."""
    if step == "auto":
        step = "day" if period.days <= 62 else "month"
    where, args = _where(period, filters)
    bucket = "day" if step == "day" else "substr(day, 1, 7)"
    got = {r[0]: _row(*r[1:]) for r in conn.execute(
        f"SELECT {bucket}, {_AGG} FROM daily2 WHERE {where} GROUP BY 1", args)}
    out = []
    d = period.start
    while d < period.end:
        key = d.isoformat() if step == "day" else d.isoformat()[:7]
        out.append({"key": key, **got.get(key, _row(0, 0, 0, 0))})
        d = d + timedelta(days=1) if step == "day" else _month_end(d.year, d.month)
    return out


def reasons(conn: sqlite3.Connection, period: Period, *, low: bool = True,
            official: str | None = None) -> list[dict]:
    clauses = ["day >= ?", "day < ?", "low = ?"]
    args: list = [period.start.isoformat(), period.end.isoformat(), int(low)]
    if official is not None:
        clauses.append("official = ?")
        args.append(official)
    rows = [(r[0], int(r[1])) for r in conn.execute(
        f"SELECT reason, sum(n) FROM daily_reasons WHERE {' AND '.join(clauses)} "
        "GROUP BY reason", args)]
    # most first, then by code point (not the database's locale: the same on both engines)
    return [{"code": code, "count": n} for code, n in sorted(rows, key=lambda r: (-r[1], r[0]))]


def last_months(today: date, n: int = 12) -> Period:
    """The ``n`` whole months up to and including this one (for trend charts)."""
    y, m = today.year, today.month - (n - 1)
    while m < 1:
        y, m = y - 1, m + 12
    return Period(f"last{n}m", date(y, m, 1), _month_end(today.year, today.month))
