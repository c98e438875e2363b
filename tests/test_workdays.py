"""Case deadlines count working days with Vietnam's public holidays (issue 10): a case
opened just before Tết or 2/9 is not due during the holiday."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from server.followup import cases as followup, workdays
from server.reports.rollup import LOCAL
from server.ingest.store import connect

from helpers import both_stores
from dashboard_support import load, rating, store_ratings


def _at(y, m, d, h=10) -> float:
    return datetime(y, m, d, h, tzinfo=LOCAL).timestamp()


def test_the_library_knows_tet_and_national_day():
    # Lunar dates move each year: the calendar must come from the library, not a list.
    for tet in (date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6)):
        assert not workdays.is_working_day(tet)
    for d in (date(2025, 9, 2), date(2026, 9, 2), date(2026, 9, 1), date(2026, 4, 30),
              date(2026, 5, 1)):
        assert not workdays.is_working_day(d)
    assert workdays.is_working_day(date(2026, 2, 23))


@pytest.mark.parametrize("opened, due", [
    ((2026, 2, 13), (2026, 2, 25)),   # Fri before Tết (16–20/2/2026): Mon 23, Tue 24, Wed 25
    ((2025, 1, 24), (2025, 2, 5)),    # Tết 2025 (27/1–1/2): Mon 3, Tue 4, Wed 5/2
    ((2026, 8, 28), (2026, 9, 7)),    # 2/9/2026 (31/8–2/9 off): Thu 3, Fri 4, Mon 7/9
    ((2025, 8, 29), (2025, 9, 5)),    # 2/9/2025 (1–2/9 off): Wed 3, Thu 4, Fri 5/9
    ((2026, 11, 18), (2026, 11, 23)), # an ordinary week: Thu 19, Fri 20, Mon 23
])
def test_three_working_days_across_holidays(opened, due):
    got = datetime.fromtimestamp(workdays.deadline(_at(*opened), 3), LOCAL)
    assert got.date() == date(*due) and got.hour == 17


@both_stores
def test_cases_get_working_day_deadlines(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    store_ratings(config, [rating(1)])
    db = connect(config.store)
    followup.open_cases(db.conn, low_at_or_below=0, deadline_days=3, now=_at(2026, 2, 13))
    due = datetime.fromtimestamp(followup.get(db.conn, 1)["deadline"], LOCAL)
    db.close()
    assert due.date() == date(2026, 2, 25)


@both_stores
def test_deadline_changed_with_a_reason_in_the_audit(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    store_ratings(config, [rating(1)])
    db = connect(config.store)
    conn = db.conn
    followup.open_cases(conn, low_at_or_below=0, deadline_days=3)
    with pytest.raises(followup.CaseError):
        followup.set_deadline(conn, 1, _at(2030, 1, 2), "  ", "leader")
    followup.set_deadline(conn, 1, _at(2030, 1, 2), "chờ xác minh với người dân", "leader")
    assert followup.get(conn, 1)["deadline"] == _at(2030, 1, 2)
    trail = [a for a in __import__("server.accounts").accounts.audit_trail(conn, "case:1")
             if a["action"] == "case.deadline"]
    db.close()
    assert trail[0]["detail"]["reason"] == "chờ xác minh với người dân"
