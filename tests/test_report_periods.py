"""Report periods (issue 10): the official reporting periods of Decree 09/2019/NĐ-CP
Article 12 (15th to 14th), date ranges, ISO weeks, what each is compared with, and
the Vietnamese number and date formats the documents use."""

from __future__ import annotations

from datetime import date

import pytest

from server.reports import figures, periods as report_periods, vnformat
from server.followup import mailer


@pytest.mark.parametrize("key,start,last", [
    # Art. 12(1): a month runs from the 15th of the month before to the 14th.
    ("bc-2026-11", date(2026, 10, 15), date(2026, 11, 14)),
    ("bc-2026-01", date(2025, 12, 15), date(2026, 1, 14)),
    # Art. 12(2): a quarter from the 15th of the month before it to the 14th of its
    # last month.
    ("bc-2026-Q1", date(2025, 12, 15), date(2026, 3, 14)),
    ("bc-2026-Q3", date(2026, 6, 15), date(2026, 9, 14)),
    ("bc-2026-Q4", date(2026, 9, 15), date(2026, 12, 14)),
    # Art. 12(3): first half from 15 December of the year before to 14 June; second
    # half from 15 June to 14 December.
    ("bc-2026-6M", date(2025, 12, 15), date(2026, 6, 14)),
    ("bc-2026-H2", date(2026, 6, 15), date(2026, 12, 14)),
    # 9 months: provinces' rule (e.g. Khánh Hòa QĐ 01/2023/QĐ-UBND Art. 4).
    ("bc-2026-9M", date(2025, 12, 15), date(2026, 9, 14)),
    # Art. 12(4): the year from 15 December of the year before to 14 December.
    ("bc-2026", date(2025, 12, 15), date(2026, 12, 14)),
    ("2026-10-01..2026-10-15", date(2026, 10, 1), date(2026, 10, 15)),
    ("2026-02-28..2026-02-28", date(2026, 2, 28), date(2026, 2, 28)),
    ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
    ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
])
def test_periods(key, start, last):
    p = figures.parse_period(key)
    assert (p.start, p.end.toordinal() - 1) == (start, last.toordinal())


@pytest.mark.parametrize("key", ["bc-2026-13", "2026-10-15..2026-10-01", "2026-W54",
                                 "2025-W53", "2026-02-30..2026-03-01", "2020-01-01..2026-01-01"])
def test_bad_periods_are_refused(key):
    with pytest.raises(figures.PeriodError):
        figures.parse_period(key)


@pytest.mark.parametrize("key,previous,year_before", [
    ("2026-11", "2026-10", "2025-11"),
    ("2026-01", "2025-12", "2025-01"),
    ("2026-Q1", "2025-Q4", "2025-Q1"),
    ("2026", "2025", "2025"),
    ("2026-9M", None, "2025-9M"),
    ("bc-2026-Q1", "bc-2025-Q4", "bc-2025-Q1"),
    ("bc-2026-01", "bc-2025-12", "bc-2025-01"),
    ("bc-2026-6M", "bc-2025-H2", "bc-2025-6M"),
    ("bc-2026-H2", "bc-2026-6M", "bc-2025-H2"),
    ("2026-W01", "2025-W52", "2025-W01"),
    ("2026-W53", "2026-W52", "2025-W52"),  # 2025 has no week 53
    ("2026-10-01..2026-10-15", "2026-09-16..2026-09-30", "2025-10-01..2025-10-15"),
    ("2028-02-29..2028-03-01", "2028-02-27..2028-02-28", "2027-02-28..2027-03-01"),
])
def test_what_a_period_is_compared_with(key, previous, year_before):
    p = figures.parse_period(key)
    prev = report_periods.previous(p)
    assert (prev.key if prev else None) == previous
    assert report_periods.year_before(p).key == year_before


def test_labels_say_the_dates():
    assert figures.parse_period("bc-2026-Q3").label() == \
        "Quý 3/2026 (kỳ báo cáo 15/06/2026 – 14/09/2026)"
    assert figures.parse_period("2026-10-01..2026-10-15").label() == \
        "Từ ngày 01/10/2026 đến ngày 15/10/2026"
    assert figures.parse_period("2026-W05").label() == "Tuần 5/2026 (26/01/2026 – 01/02/2026)"
    assert figures.parse_period("2026-Q3").label() == "Quý 3/2026"  # calendar ones unchanged


def test_official_choices_never_start_in_the_future():
    keys = [p.key for p in report_periods.choices(date(2026, 11, 23))]
    assert keys[0] == "bc-2026-11" and "bc-2026-Q4" in keys and "bc-2025" in keys
    assert all(p.start <= date(2026, 11, 23) for p in report_periods.choices(date(2026, 11, 23)))
    assert "bc-2026-Q4" not in [p.key for p in report_periods.choices(date(2026, 9, 1))]


@pytest.mark.parametrize("today,style,month,quarter", [
    (date(2026, 11, 14), "official", "bc-2026-10", "bc-2026-Q3"),
    (date(2026, 11, 15), "official", "bc-2026-11", "bc-2026-Q3"),
    (date(2026, 12, 15), "official", "bc-2026-12", "bc-2026-Q4"),
    (date(2027, 1, 3), "official", "bc-2026-12", "bc-2026-Q4"),
    (date(2026, 3, 15), "official", "bc-2026-03", "bc-2026-Q1"),
    (date(2026, 11, 1), "calendar", "2026-10", "2026-Q3"),
    (date(2027, 1, 5), "calendar", "2026-12", "2026-Q4"),
])
def test_the_report_due_is_the_latest_closed_period(today, style, month, quarter):
    assert mailer.latest_closed("month", today, style).key == month
    assert mailer.latest_closed("quarter", today, style).key == quarter


def test_vietnamese_numbers_and_dates():
    assert vnformat.number(29006) == "29.006"
    assert vnformat.number(1234567) == "1.234.567"
    assert vnformat.number(0) == "0"
    assert vnformat.percent(86.1) == "86,1\u00a0%"  # no-break space: never a lone '%'
    assert vnformat.percent(100.0) == "100,0\u00a0%"
    assert vnformat.percent(None) == "—"
    assert vnformat.decimal(1234.5) == "1.234,5"
    assert vnformat.signed(-1.24, 1, "điểm") == "-1,2\u00a0điểm"
    assert vnformat.signed(3.0) == "+3,0"
    assert vnformat.day(date(2026, 10, 1)) == "01/10/2026"
    # Decree 30: a leading zero for days below 10 and months below 3 only.
    assert vnformat.day_words(date(2026, 2, 5)) == "ngày 05 tháng 02 năm 2026"
    assert vnformat.day_words(date(2026, 10, 1)) == "ngày 01 tháng 10 năm 2026"
