"""Case deadlines in working days: Monday to Friday, less Vietnam's public holidays.

The holidays come from the ``holidays`` package (its ``VN`` calendar carries the lunar
ones, Tết and the Hùng Kings' day, besides 1/1, 30/4, 1/5 and 2/9, and the days off the
government moves each year), so nobody has to type next year's Tết dates in. A deadline
falls at the end of the last working day (17:00 local time: the one-stop counter's
closing hour), so a case opened on the Friday before Tết is due after Tết, not during it.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time as dtime, timedelta

import holidays

from server.reports.rollup import LOCAL

CLOSE_OF_DAY = dtime(17, 0)


@functools.lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def holiday_name(day: date) -> str | None:
    return holidays.country_holidays("VN", years=day.year, language="vi").get(day)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself not counted)."""
    day = start
    left = max(0, int(n))
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def deadline(opened_at: float, working_days: float) -> float:
    """When a case opened at ``opened_at`` (epoch seconds) is due: the close of the
    ``working_days``-th working day after the day it opened (fractions round up)."""
    n = max(1, -int(-working_days // 1))
    opened = datetime.fromtimestamp(opened_at, LOCAL).date()
    due = add_working_days(opened, n)
    return datetime.combine(due, CLOSE_OF_DAY, LOCAL).timestamp()


def working_days_between(a: date, b: date) -> int:
    """Working days in (a, b]: how many a deadline moved by, for the audit."""
    step = 1 if b >= a else -1
    n, day = 0, a
    while day != b:
        day += timedelta(days=step)
        n += step if is_working_day(day) else 0
    return n
