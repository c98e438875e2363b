"""Which period a page shows: the calendar keys ``figures.parse_period`` knows, the
previous month / quarter / year, and any date range (issue 10: "previous-period and
custom-range selectors everywhere").

A range is written ``YYYY-MM-DD..YYYY-MM-DD`` (both days included) in a ``period``
parameter, or given as ``from`` and ``to`` date fields; everything downstream works on
``Period.start``/``end``, so other period kinds (ISO weeks, official reporting periods)
plug in by teaching ``figures.parse_period`` their key.
"""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

from server.reports import figures, periods as report_periods
from server.reports.rollup import local_day

RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
# The product's range of dates (figures' one rule): beyond it a period is a typo.
FIRST, LAST = date(figures.MIN_YEAR, 1, 1), date(figures.MAX_YEAR + 1, 1, 1)
MAX_DAYS = 3 * 366 + 1


def _shift_months(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(y, m + 1, 1)


def range_period(start: date, last: date) -> figures.Period:
    if last < start:
        start, last = last, start
    if start < FIRST or last >= LAST or (last - start).days >= MAX_DAYS:
        raise figures.PeriodError(f"range {start}..{last}: outside the years "
                                  f"{figures.MIN_YEAR}–{figures.MAX_YEAR} or longer than 3 years")
    return figures.Period(f"{start.isoformat()}..{last.isoformat()}", start,
                          last + timedelta(days=1))


def parse(key: str | None, default: str = "quarter", *, start: str | None = None,
          end: str | None = None, today: date | None = None) -> figures.Period:
    """A period from a key, a ``prev-month``/``prev-quarter``/``prev-year`` word, a
    ``from``..``to`` range; raises figures.PeriodError."""
    today = today or local_day(time.time())
    try:
        if start or end:
            a = date.fromisoformat((start or end).strip())
            b = date.fromisoformat((end or start).strip())
            return range_period(a, b)
        key = (key or default).strip()
        if m := RANGE.fullmatch(key):
            return range_period(date.fromisoformat(m[1]), date.fromisoformat(m[2]))
    except ValueError as e:
        raise figures.PeriodError(f"period: {e}") from None
    if key in ("prev-month", "prev-quarter", "prev-year"):
        return previous(figures.parse_period(key[5:], today))
    p = figures.parse_period(key, today)
    if not FIRST <= p.start < LAST:
        raise figures.PeriodError(f"period {key!r}: outside the years "
                                  f"{figures.MIN_YEAR}–{figures.MAX_YEAR}")
    return p


def previous(p: figures.Period) -> figures.Period:
    """The period just before ``p``, of the same kind: the previous month, quarter,
    year (a 6- or 9-month period: the same months of the year before); otherwise the
    same number of days just before."""
    k = p.key
    if k.startswith("bc-"):  # Decree 09/2019 periods: report_periods knows their order
        before = report_periods.previous(p)
        if before is not None:
            return before
    if re.fullmatch(r"\d{4}-\d{2}", k):
        s = _shift_months(p.start, -1)
        return figures.parse_period(f"{s:%Y-%m}")
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", k):
        y, q = int(m[1]), int(m[2])
        return figures.parse_period(f"{y - (q == 1)}-Q{4 if q == 1 else q - 1}")
    if m := re.fullmatch(r"(\d{4})(-[69]M)?", k):
        return figures.parse_period(f"{int(m[1]) - 1}{m[2] or ''}")
    days = p.days
    start = p.start - timedelta(days=days)
    if k == "today":
        return figures.Period(start.isoformat() + ".." + start.isoformat(), start, p.start)
    return figures.Period(f"{start.isoformat()}..{(p.start - timedelta(days=1)).isoformat()}",
                          start, p.start)


def choices(today: date | None = None) -> list[tuple[str, str]]:
    """(key, label key) of the quick choices every period selector offers."""
    words = [("today", "today"), ("month", "this_month"), ("prev-month", "prev_month"),
             ("quarter", "this_quarter"), ("prev-quarter", "prev_quarter"),
             ("year", "this_year"), ("prev-year", "prev_year")]
    # Resolved keys (2026-11, not "month"), so the selected one matches the page's.
    return [(parse(k, today=today).key, label) for k, label in words]


def change(now: float | None, before: float | None) -> float | None:
    """Percentage points between two rates (None when either is unknown)."""
    if now is None or before is None:
        return None
    return round(now - before, 1)
