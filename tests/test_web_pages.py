"""HTTP tests of the dashboard (Flask test client on a real SQLite store): every page
needs a session, roles see only what they may, POSTs need the CSRF token, names and
notes are escaped, login failures slow down."""

from __future__ import annotations

import json

import pytest

from server import accounts
from server.followup import cases as followup
from server.ingest.store import connect
from server.followup.watch import Watcher
from server.web import create_app

from dashboard_support import (PASSWORD, add_users, csrf_of, load, login, rating,
                               store_ratings)

PAGES = ["/", "/officials", "/officials/cb-an", "/counters", "/fields", "/cases", "/cases/1",
         "/fleet", "/alerts", "/audit", "/reports", "/reports?period=2026-Q3",
         "/cases/1/letters/thanks.docx", "/cases/1/letter-thanks.docx",
         "/reports/2026-Q4.xlsx", "/reports/2026-Q4.csv", "/reports/2026-Q4.docx",
         "/api/v1/overview", "/api/v1/summary?period=month", "/api/v1/breakdown/official",
         "/api/v1/breakdown/field", "/api/v1/trend", "/api/v1/reasons", "/api/v1/report",
         "/api/v1/cases", "/api/v1/cases/1", "/api/v1/fleet", "/api/v1/alerts"]

# What each role may open (200); everything else is 403 (or a redirect for "/").
ALLOWED = {
    "leader": set(PAGES),
    "office": {"/", "/fields", "/cases", "/cases/1", "/alerts", "/reports",
               "/reports?period=2026-Q3", "/cases/1/letters/thanks.docx",
               "/cases/1/letter-thanks.docx", "/reports/2026-Q4.xlsx", "/reports/2026-Q4.csv",
               "/reports/2026-Q4.docx", "/api/v1/overview", "/api/v1/summary?period=month",
               "/api/v1/breakdown/field", "/api/v1/trend", "/api/v1/reasons",
               "/api/v1/report", "/api/v1/cases", "/api/v1/cases/1", "/api/v1/alerts"},
    "technician": {"/fleet", "/alerts", "/api/v1/fleet", "/api/v1/alerts"},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_engine(request) -> str:
    """Every test here that opens the server store runs on both engines (issue 12)."""
    return request.param


@pytest.fixture
def dash(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    add_users(config)
    new = store_ratings(config, [
        rating(1, official="cb-an", reasons=("attitude",), phone="0912345678"),
        rating(4, official="cb-an"), rating(3, official="cb-binh", counter="q2"),
        rating(1, official="cb-binh", counter="q2", suspect="burst")])
    with Watcher(config) as w:
        w.on_new_ratings(new)
        w.round()
    app = create_app(config)
    return config, app


def test_every_page_needs_a_session(dash):
    _, app = dash
    client = app.test_client()
    r = client.get("/")
    assert r.status_code == 302 and r.location.startswith("/login")
    for page in PAGES:
        r = client.get(page)
        if page.startswith("/api/"):
            assert r.status_code == 401, page
        else:
            assert r.status_code == 302 and "/login" in r.location, page
    assert client.get("/login").status_code == 200


@pytest.mark.parametrize("role", ["leader", "office", "technician"])
def test_role_boundaries(dash, role):
    _, app = dash
    client = app.test_client()
    assert login(client, role).status_code == 302
    for page in PAGES:
        r = client.get(page)
        if page in ALLOWED[role]:
            assert r.status_code == 200, (role, page, r.status_code)
        elif page == "/" and role == "technician":
            assert r.status_code == 302 and r.location.endswith("/fleet")
        else:
            assert r.status_code == 403, (role, page, r.status_code)


def test_technician_sees_no_ratings_of_people(dash):
    _, app = dash
    client = app.test_client()
    login(client, "technician")
    body = client.get("/alerts").get_data(as_text=True) + \
        client.get("/api/v1/alerts").get_data(as_text=True)
    assert "cb-an" not in body and "cb-binh" not in body


def test_overview_figures_leave_suspect_out(dash):
    _, app = dash
    client = app.test_client()
    login(client, "leader")
    data = client.get("/api/v1/overview").get_json()
    today = data["today"]
    assert today["count"] == 3 and today["suspect"] == 1
    assert today["low"] == 1 and today["satisfied"] == 2 and today["rate"] == 66.7
    page = client.get("/").get_data(as_text=True)
    assert "66,7\u00a0%" in page and "<svg" in page  # Vietnamese: decimal comma


def test_login_form_and_wrong_password(dash):
    _, app = dash
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in page and 'name="password"' in page
    r = client.post("/login", data={"username": "leader", "password": "nope"})
    assert r.status_code == 401
    assert client.get("/").status_code == 302


def test_slow_down_after_failed_logins(dash):
    _, app = dash
    client = app.test_client()
    for _ in range(accounts.FREE_FAILURES):
        assert client.post("/login", data={"username": "office", "password": "x"}
                           ).status_code == 401
    # The next try is refused even with the right password, until the wait is over.
    r = client.post("/login", data={"username": "office", "password": PASSWORD})
    assert r.status_code == 429
    assert "giây" in r.get_data(as_text=True)


def test_cross_site_login_refused(dash):
    _, app = dash
    client = app.test_client()
    r = client.post("/login", data={"username": "leader", "password": PASSWORD},
                    headers={"Origin": "http://evil.example"})
    assert r.status_code == 400


def test_post_without_csrf_is_refused(dash):
    config, app = dash
    client = app.test_client()
    login(client, "leader")
    for data in ({"action": "close", "outcome": "explained"},
                 {"action": "close", "outcome": "explained", "csrf_token": "forged"}):
        r = client.post("/cases/1", data=data)
        assert r.status_code == 400
    assert client.post("/logout").status_code == 400
    db = connect(config.store)
    assert followup.get(db.conn, 1)["state"] == "open"
    db.close()


def test_case_flow_with_audit_trail(dash):
    config, app = dash
    client = app.test_client()
    login(client, "office")
    page = client.get("/cases/1").get_data(as_text=True)
    assert "0912345678" in page  # office may call back while the case is open
    token = csrf_of(page)
    assert client.post("/cases/1", data={"action": "assign", "assignee": "office",
                                         "csrf_token": token}).status_code == 302
    r = client.post("/cases/1", data={"action": "close", "outcome": "apologised",
                                      "text": "Đã gọi điện xin lỗi", "csrf_token": token})
    assert r.status_code == 302
    page = client.get("/cases/1").get_data(as_text=True)
    assert "0912345678" not in page  # closed: the number is no longer shown
    assert "Đã xin lỗi người dân" in page and "Đã gọi điện xin lỗi" in page
    db = connect(config.store)
    actions = [a["action"] for a in accounts.audit_trail(db.conn, "case:1")]
    db.close()
    assert actions[:3] == ["case.closed", "case.note", "case.assigned"]
    assert "case.contact-viewed" in actions


def test_leader_sees_contact_technician_cannot_open_case(dash):
    _, app = dash
    leader = app.test_client()
    login(leader, "leader")
    assert "0912345678" in leader.get("/cases/1").get_data(as_text=True)
    tech = app.test_client()
    login(tech, "technician")
    assert tech.get("/cases/1").status_code == 403


def test_names_and_notes_are_escaped(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    add_users(config)
    evil = "<script>alert(1)</script>"
    new = store_ratings(config, [rating(1, official="cb-x", dossier=evil, procedure=evil,
                                        field=evil)])
    with Watcher(config) as w:
        w.on_new_ratings(new)
        w.round()
    db = connect(config.store)
    followup.add_note(db.conn, 1, f"note {evil}", "leader")
    db.conn.execute("CREATE TABLE IF NOT EXISTS officials (id TEXT PRIMARY KEY, name TEXT)")
    db.conn.execute("INSERT INTO officials (id, name) VALUES ('cb-x', ?) "
                    "ON CONFLICT (id) DO UPDATE SET name = excluded.name", [evil])
    db.conn.commit()
    db.close()
    client = create_app(config).test_client()
    login(client, "leader")
    for page in ("/cases/1", "/officials", "/officials/cb-x", "/fields", "/cases",
                 "/reports", "/alerts"):
        html = client.get(page).get_data(as_text=True)
        assert "<script>" not in html, page
    assert "&lt;script&gt;" in client.get("/cases/1").get_data(as_text=True)


def test_logout_ends_the_session(dash):
    _, app = dash
    client = app.test_client()
    login(client, "leader")
    token = csrf_of(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_english_switch(dash):
    _, app = dash
    client = app.test_client()
    login(client, "leader")
    assert "Tổng quan" in client.get("/").get_data(as_text=True)
    client.get("/lang/en?next=/")
    assert "Overview" in client.get("/").get_data(as_text=True)


def test_alert_acknowledge(dash):
    config, app = dash
    client = app.test_client()
    login(client, "leader")
    alerts = client.get("/api/v1/alerts").get_json()["alerts"]
    low = [a for a in alerts if a["kind"] == "low-rating"]
    assert len(low) == 1 and low[0]["payload"]["official"] == "cb-an"
    token = csrf_of(client.get("/alerts").get_data(as_text=True))
    r = client.post(f"/alerts/{low[0]['id']}/ack", data={"comment": "đã gọi",
                                                          "csrf_token": token})
    assert r.status_code == 302
    assert not [a for a in client.get("/api/v1/alerts").get_json()["alerts"]
                if a["id"] == low[0]["id"]]
    # A technician cannot acknowledge an alert about an official.
    tech = app.test_client()
    login(tech, "technician")
    token = csrf_of(tech.get("/alerts").get_data(as_text=True))
    other = json.loads(json.dumps(alerts))
    for a in other:
        if a["kind"] not in ("kiosk-offline", "backlog"):
            assert tech.post(f"/alerts/{a['id']}/ack", data={"csrf_token": token}
                             ).status_code == 404


def test_roster_photos_are_served_to_kiosks_without_a_login(dash):
    config, app = dash
    photos = config.fleet.photos_dir
    photos.mkdir(parents=True, exist_ok=True)
    (photos / "cb-an.png").write_bytes(b"\x89PNG\r\n\x1a\nphoto")
    (photos / "notes.txt").write_text("not a photo")
    client = app.test_client()  # no session: a kiosk
    r = client.get("/photos/cb-an.png")
    assert r.status_code == 200 and r.data.startswith(b"\x89PNG")
    for name in ("notes.txt", "missing.png", ".hidden.png"):
        assert client.get(f"/photos/{name}").status_code == 404, name
    assert client.get("/photos/..%2Fserver.db").status_code in (302, 404)  # never the file
