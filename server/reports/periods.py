"""Report periods beyond calendar months and quarters: the official reporting periods
of state administration, any date range, and ISO weeks; and, for any period, the one
to compare it with (the previous period, the same period a year before).

Official periods (data cut-off, "thời gian chốt số liệu") follow Decree
09/2019/NĐ-CP on the reporting regime of state administrative agencies, Article 12:
a monthly report runs from the 15th of the previous month to the 14th of the month;
a quarterly one from the 15th of the month before the quarter to the 14th of the
quarter's last month; the first half-year from 15 December of the year before to 14
June, the second from 15 June to 14 December; the year from 15 December of the year
before to 14 December. The 9-month period (15 December to 14 September) is not in the
decree; provinces set it the same way in their own reporting rules (e.g. Khánh Hòa,
Quyết định 01/2023/QĐ-UBND, Article 4). See docs/leader-guide.md.

Keys (in URLs and on the command line):
  bc-2026-11  bc-2026-Q3  bc-2026-6M  bc-2026-H2  bc-2026-9M  bc-2026   official periods
  2026-10-01..2026-10-15   a date range, both days included
  2026-W05                 an ISO week (Monday to Sunday)
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from server.reports import figures

Period = figures.Period

_OFFICIAL = re.compile(r"bc-(\d{4})(?:-(\d{2})|-Q([1-4])|-(6M|H2|9M))?")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
MAX_RANGE_DAYS = 3 * 366  # a longer range is a typing mistake, not a report


def _cut(y: int, m: int) -> date:
    """The 15th of month ``m`` of year ``y`` (m may be 0: December of y - 1)."""
    if m <= 0:
        y, m = y - 1, m + 12
    return date(y, m, 15)


def official(y: int, *, month: int | None = None, quarter: int | None = None,
             part: str | None = None) -> tuple[date, date]:
    """[start, end) of an official period (end = the day after the 14th)."""
    if month:
        return _cut(y, month - 1), _cut(y, month)
    if quarter:
        return _cut(y, 3 * quarter - 3), _cut(y, 3 * quarter)
    if part == "6M":
        return _cut(y, 0), _cut(y, 6)
    if part == "H2":
        return _cut(y, 6), _cut(y, 12)
    if part == "9M":
        return _cut(y, 0), _cut(y, 9)
    return _cut(y, 0), _cut(y, 12)


def parse(key: str) -> Period | None:
    """A Period for the keys above; None when ``key`` is not one of them (the caller
    then tries the calendar keys); PeriodError when it is one but is wrong."""
    try:
        if m := _OFFICIAL.fullmatch(key):
            y = int(m[1])
            if m[2] and not 1 <= int(m[2]) <= 12:
                raise figures.PeriodError(f"period {key!r}: no month {m[2]}")
            start, end = official(y, month=int(m[2]) if m[2] else None,
                                  quarter=int(m[3]) if m[3] else None, part=m[4])
            return Period(key, start, end)
        if m := _RANGE.fullmatch(key):
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last < first:
                raise figures.PeriodError(f"period {key!r}: the end is before the start")
            if (last - first).days >= MAX_RANGE_DAYS:
                raise figures.PeriodError(f"period {key!r}: longer than three years")
            return Period(key, first, last + timedelta(days=1))
        if m := _WEEK.fullmatch(key):
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Period(key, monday, monday + timedelta(days=7))
    except ValueError as e:  # a bad date or week number
        raise figures.PeriodError(f"period {key!r}: {e}") from None
    return None


def label(period: Period, lang: str = "vi") -> str | None:
    """Words for our keys; None for the calendar ones (figures.Period.label's)."""
    k, vi = period.key, lang == "vi"
    span = f"{period.start:%d/%m/%Y} – {period.end - timedelta(days=1):%d/%m/%Y}"
    if m := _OFFICIAL.fullmatch(k):
        y = m[1]
        if m[2]:
            name = f"Tháng {int(m[2])}/{y}" if vi else f"Month {int(m[2])}/{y}"
        elif m[3]:
            name = f"Quý {m[3]}/{y}" if vi else f"Q{m[3]} {y}"
        elif m[4] == "6M":
            name = f"6 tháng đầu năm {y}" if vi else f"First half of {y}"
        elif m[4] == "H2":
            name = f"6 tháng cuối năm {y}" if vi else f"Second half of {y}"
        elif m[4] == "9M":
            name = f"9 tháng năm {y}" if vi else f"9 months of {y}"
        else:
            name = f"Năm {y}" if vi else f"Year {y}"
        return (f"{name} (kỳ báo cáo {span})" if vi else f"{name} (reporting period {span})")
    if _RANGE.fullmatch(k):
        return (f"Từ ngày {period.start:%d/%m/%Y} đến ngày "
                f"{period.end - timedelta(days=1):%d/%m/%Y}") if vi else span
    if m := _WEEK.fullmatch(k):
        return (f"Tuần {int(m[2])}/{m[1]} ({span})" if vi else f"Week {int(m[2])} {m[1]} ({span})")
    return None


def _year_back(d: date, years: int = 1) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def previous(period: Period) -> Period | None:
    """The period of the same kind just before (None for cumulative 9-month and
    6-month-from-January periods whose 'previous' is not one)."""
    k = period.key
    if m := re.fullmatch(r"(\d{4})-(\d{2})", k):
        y, mo = int(m[1]), int(m[2]) - 1
        return figures.parse_period(f"{y - (mo == 0)}-{(mo - 1) % 12 + 1:02d}")
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", k):
        y, q = int(m[1]), int(m[2]) - 1
        return figures.parse_period(f"{y - (q == 0)}-Q{(q - 1) % 4 + 1}")
    if re.fullmatch(r"\d{4}", k):
        return figures.parse_period(str(int(k) - 1))
    if m := _OFFICIAL.fullmatch(k):
        y = int(m[1])
        if m[2]:
            mo = int(m[2]) - 1
            return figures.parse_period(f"bc-{y - (mo == 0)}-{(mo - 1) % 12 + 1:02d}")
        if m[3]:
            q = int(m[3]) - 1
            return figures.parse_period(f"bc-{y - (q == 0)}-Q{(q - 1) % 4 + 1}")
        if m[4] == "H2":
            return figures.parse_period(f"bc-{y}-6M")
        if m[4] == "6M":
            return figures.parse_period(f"bc-{y - 1}-H2")
        if m[4] is None:
            return figures.parse_period(f"bc-{y - 1}")
        return None
    if m := _WEEK.fullmatch(k):
        monday = period.start - timedelta(days=7)
        iso = monday.isocalendar()
        return figures.parse_period(f"{iso.year}-W{iso.week:02d}")
    if k in ("today",) or _RANGE.fullmatch(k) or k.startswith("last"):
        days = timedelta(days=period.days)
        return _range(period.start - days, period.start)
    return None  # 6M / 9M from January: compare with the same period a year before


def year_before(period: Period) -> Period:
    """The same period one year earlier (same ISO week number for a week)."""
    k = period.key
    if m := _WEEK.fullmatch(k):
        y, w = int(m[1]) - 1, int(m[2])
        if w == 53 and date(y, 12, 28).isocalendar().week < 53:
            w = 52
        return figures.parse_period(f"{y}-W{w:02d}")
    if re.fullmatch(r"\d{4}(-\d{2}|-Q[1-4]|-6M|-9M)?", k) or _OFFICIAL.fullmatch(k):
        y = re.search(r"\d{4}", k)[0]
        return figures.parse_period(k.replace(y, str(int(y) - 1), 1))
    return _range(_year_back(period.start), _year_back(period.end))


def _range(start: date, end: date) -> Period:
    return figures.parse_period(f"{start.isoformat()}..{(end - timedelta(days=1)).isoformat()}")


def choices(today: date) -> list[Period]:
    """The official periods a commune reports on, most recent first: this and the last
    month and quarter, the half-years, 9 months and the year, none starting later
    than today."""
    y = today.year
    keys = [f"bc-{y}-{today.month:02d}"]
    keys += [f"bc-{y}-Q{q}" for q in range(4, 0, -1)]
    keys += [f"bc-{y}-H2", f"bc-{y}-9M", f"bc-{y}-6M", f"bc-{y}", f"bc-{y - 1}"]
    return [p for p in map(figures.parse_period, keys) if p.start <= today]
