"""One rule for what the office role sees (issue 10 item 5, issue 8 item 7): no figures
per official, counter or kiosk on any page, API answer or export, while leaders get
them everywhere. Every route the office may open is checked for the marker names."""

from __future__ import annotations

import html
import io
import json
import zipfile

import pytest

from server.ingest.store import connect
from server.followup.watch import Watcher
from server.web import create_app

from dashboard_support import add_users, load, login, rating, store_ratings

# Ratings that open no case, so the names can only leak through figures.
OFFICIAL, NAME, COUNTER, KIOSK = "cb-rieng", "Trần Thị Riêng", "quay-rieng", "k-rieng"
MARKERS = (OFFICIAL, NAME, COUNTER, KIOSK)

FIGURE_ROUTES = ["/", "/fields", "/reports", "/reports?period=year",
                 "/reports?period=prev-month", "/fields?from=2025-06-01&to=2027-12-31",
                 "/reports/year.xlsx", "/reports/year.csv", "/reports/year.docx",
                 "/api/v1/overview", "/api/v1/summary?period=year", "/api/v1/breakdown/field",
                 "/api/v1/breakdown/procedure", "/api/v1/trend?period=year",
                 "/api/v1/reasons?period=year", "/api/v1/report?period=year",
                 "/api/v1/report?from=2025-06-01&to=2027-12-31"]
PEOPLE_ROUTES = ["/officials", f"/officials/{OFFICIAL}", "/counters",
                 "/api/v1/breakdown/official", "/api/v1/breakdown/counter",
                 "/api/v1/breakdown/kiosk", f"/api/v1/trend?official={OFFICIAL}"]


@pytest.fixture
def app(tmp_path):
    config = load(tmp_path)
    add_users(config)
    db = connect(config.store)
    db.conn.execute("INSERT INTO officials (id, name, title, photo, active, updated_at) "
                    "VALUES (?, ?, '', '', 1, 0)", [OFFICIAL, NAME])
    db.conn.commit()
    db.close()
    new = store_ratings(config, [rating(4, official=OFFICIAL, counter=COUNTER, kiosk=KIOSK)
                                 for _ in range(3)], kiosk=KIOSK)
    with Watcher(config) as w:
        w.on_new_ratings(new)
        w.round()
    return create_app(config)


def _text(resp) -> str:
    data = resp.get_data()
    if data[:2] == b"PK":  # XLSX / DOCX: every XML part
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            # openpyxl writes non-ASCII as character references
            return html.unescape("".join(z.read(n).decode("utf-8", "replace")
                                         for n in z.namelist() if n.endswith(".xml")))
    if resp.is_json:
        return json.dumps(resp.get_json(), ensure_ascii=False)
    return data.decode("utf-8-sig", "replace")


def test_office_sees_no_figures_per_person_anywhere(app):
    client = app.test_client()
    login(client, "office")
    for route in FIGURE_ROUTES:
        r = client.get(route)
        assert r.status_code == 200, (route, r.status_code)
        body = _text(r)
        for marker in MARKERS:
            assert marker not in body, (route, marker)
    for route in PEOPLE_ROUTES:
        assert client.get(route).status_code == 403, route
    report = client.get("/api/v1/report?period=year").get_json()
    assert report["by_official"] == [] and report["by_counter"] == []
    assert set(report["withheld"]) == {"official", "counter", "kiosk"}
    assert report["by_field"]  # the rest of the report is all there


def test_leader_sees_them_in_the_same_places(app):
    client = app.test_client()
    login(client, "leader")
    for route in ("/reports?period=year", "/reports/year.xlsx", "/reports/year.csv",
                  "/reports/year.docx", "/api/v1/report?period=year"):
        assert NAME in _text(client.get(route)), route
    for route in PEOPLE_ROUTES:
        assert client.get(route).status_code == 200, route
