"""The office's daily work on the dashboard (issue 10 item 5): the follow-up queue is
paginated and filtered instead of stopping at 200 rows; the overview names the lowest
three officials and the overdue cases and compares with the previous period; periods
can be the previous one or any range; deadlines change with a reason; the assignee is
told; the audit trail reads as words; the misleading labels are gone."""

from __future__ import annotations

import re
import time

import pytest

from server.followup import alerts, cases as followup
from server.ingest.store import connect
from server.followup.watch import Watcher
from server.web import create_app

from dashboard_support import add_users, csrf_of, load, login, rating, store_ratings


@pytest.fixture(params=["sqlite", "postgresql"])
def store_engine(request) -> str:
    """Every test here that opens the server store runs on both engines (issue 12)."""
    return request.param


@pytest.fixture
def busy(tmp_path, server_store):
    """230 low ratings (230 cases): 200 for cb-an, 30 for cb-binh; some good ones."""
    config = load(tmp_path, store=server_store)
    add_users(config)
    raws = [rating(1, official="cb-an") for _ in range(200)] + \
        [rating(1, official="cb-binh", counter="q2") for _ in range(30)] + \
        [rating(4, official="cb-chi", counter="q3") for _ in range(30)]
    new = store_ratings(config, raws)
    with Watcher(config) as w:
        w.on_new_ratings(new)
        w.round()
    return config, create_app(config)


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/cases/(\d+)"', html)]


def test_queue_is_paginated_and_filtered(busy):
    config, app = busy
    client = app.test_client()
    login(client, "office")
    first = client.get("/cases").get_data(as_text=True)
    assert "1/5" in first and "230" in first and len(set(_ids(first))) == 50
    seen = set()
    for page in range(1, 6):
        seen |= set(_ids(client.get(f"/cases?page={page}").get_data(as_text=True)))
    assert len(seen) == 230  # nothing silently cut at 200
    binh = client.get("/cases?official=cb-binh").get_data(as_text=True)
    assert "1/1" in binh and len(set(_ids(binh))) == 30
    db = connect(config.store)
    followup.assign(db.conn, 7, "office", "leader")
    db.close()
    mine = client.get("/cases?assignee=office").get_data(as_text=True)
    assert set(_ids(mine)) == {7}
    assert not _ids(client.get("/cases?from=2000-01-01&to=2000-01-31").get_data(as_text=True))
    api = client.get("/api/v1/cases?per_page=500").get_json()
    assert api["total"] == 230 and len(api["cases"]) == 230


def test_overview_names_lowest_three_and_overdue_and_compares(busy):
    config, app = busy
    db = connect(config.store)
    db.conn.execute("UPDATE cases SET deadline = ? WHERE id IN (3, 4)", [time.time() - 60])
    db.conn.commit()
    db.close()
    client = app.test_client()
    login(client, "leader")
    html = client.get("/").get_data(as_text=True)
    assert "3 công chức có tỷ lệ hài lòng thấp nhất" in html
    assert "từ 20 lượt đánh giá trở lên" in html
    lowest = html.split("thấp nhất", 1)[1].split("</table>", 1)[0]
    assert "cb-an" in lowest and "cb-binh" in lowest and "cb-chi" in lowest
    assert "Phản ánh quá hạn (2)" in html
    assert "so với kỳ trước" in html
    office = app.test_client()
    login(office, "office")
    assert "thấp nhất" not in office.get("/").get_data(as_text=True)


def test_previous_period_and_range_on_every_figure_page(busy):
    _, app = busy
    client = app.test_client()
    login(client, "leader")
    for page in ("/", "/officials", "/counters", "/fields", "/officials/cb-an", "/reports"):
        html = client.get(page).get_data(as_text=True)
        assert 'name="from"' in html and 'name="to"' in html, page
        assert "Kỳ trước" in html, page
        assert client.get(f"{page}?period=prev-quarter").status_code == 200, page
        assert client.get(f"{page}?from=2026-01-01&to=2026-03-31").status_code == 200, page
    data = client.get("/api/v1/summary?from=2026-11-01&to=2026-11-30").get_json()
    assert data["period"] == "2026-11-01..2026-11-30"


def test_deadline_change_assignee_told_audit_in_words(busy):
    config, app = busy
    client = app.test_client()
    login(client, "leader")
    token = csrf_of(client.get("/cases/5").get_data(as_text=True))
    r = client.post("/cases/5", data={"csrf_token": token, "action": "deadline",
                                      "deadline": "2026-12-31", "reason": ""})
    assert "error=" in r.location  # a reason is required
    client.post("/cases/5", data={"csrf_token": token, "action": "deadline",
                                  "deadline": "2026-12-31", "reason": "chờ xác minh"})
    client.post("/cases/5", data={"csrf_token": token, "action": "assign",
                                  "assignee": "office"})
    client.post("/cases/5", data={"csrf_token": token, "action": "close",
                                  "outcome": "apologised"})
    db = connect(config.store)
    told = alerts.listing(db.conn, kinds=("case-assigned",), include_acknowledged=True)
    db.close()
    assert told and told[0]["payload"]["assignee"] == "office"
    page = client.get("/cases/5").get_data(as_text=True)
    assert "Đổi hạn xử lý từ" in page and "31/12/2026" in page and "chờ xác minh" in page
    assert "Giao xử lý cho office" in page
    assert "Đóng phản ánh: Đã xin lỗi người dân" in page
    assert "outcome=" not in page and "case.closed" not in page
    audit = client.get("/audit").get_data(as_text=True)
    assert "case.closed" not in audit and "Đóng phản ánh" in audit


def test_labels_say_what_they_mean(busy):
    config, app = busy
    db = connect(config.store)
    db.conn.execute("UPDATE cases SET deadline = ? WHERE id = 1", [time.time() - 60])
    db.conn.commit()
    followup.escalate_overdue(db.conn)
    db.close()
    client = app.test_client()
    login(client, "leader")
    pages = "".join(client.get(p).get_data(as_text=True)
                    for p in ("/", "/cases", "/cases/1", "/reports", "/cases?state=overdue"))
    assert "Đã báo cấp trên" not in pages  # nothing is reported upward
    assert "Nghi bấm thử" not in pages
    assert "Quá hạn" in pages
    report = client.get("/reports").get_data(as_text=True)
    assert "Phản ánh mở" not in report and "Phản ánh phát sinh trong kỳ" in report
