"""Issue 8, item 7: managing dashboard accounts (commands and the leader's page), a user
linked to a rated official cannot act on their own cases, and the reasons a commune
configured show with their labels, not as codes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlite_utils

from server import accounts
from server.followup import cases as followup
from server.fleet.roster import Roster
from server.ingest.store import connect
from server.followup.watch import Watcher
from server.web import create_app

from dashboard_support import (PASSWORD, add_users, csrf_of, load, login, rating,
                               store_ratings, write_config)

RUN = [sys.executable, "-m", "hailong", "server"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_engine(request) -> str:
    """Every test here that opens the server store runs on both engines (issue 12)."""
    return request.param


def _cli(conf, *args, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(RUN + [args[0], "--config", str(conf), *args[1:]], input=stdin,
                          capture_output=True, text=True, timeout=60)


def _audit_actions(config) -> list[tuple[str, str, str]]:
    db = connect(config.store)
    try:
        return [(a["username"], a["action"], a["target"])
                for a in accounts.audit_trail(db.conn)]
    finally:
        db.close()


@pytest.fixture
def dash(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    add_users(config)
    db = connect(config.store)
    roster = Roster(sqlite_utils.Database(db.conn))
    roster.add_official("cb-an", "Nguyễn Văn An")
    roster.add_official("cb-binh", "Trần Thị Bình")
    roster.set_setting("low_reasons", [
        {"code": "no-queue-number", "vi": "Không được lấy số thứ tự", "en": "No queue ticket"},
        {"code": "long-wait", "vi": "Phải chờ quá lâu", "en": "Waited far too long"}])
    db.close()
    new = store_ratings(config, [
        rating(1, official="cb-an", reasons=("no-queue-number", "long-wait"),
               phone="0912345678"),
        rating(1, official="cb-binh", counter="q2", reasons=("attitude",))])
    with Watcher(config) as w:
        w.on_new_ratings(new)
        w.round()
    return config, create_app(config)


def test_account_commands(tmp_path, server_store):
    conf = write_config(tmp_path)
    config = load(tmp_path, store=server_store)
    assert _cli(conf, "add-user", "--username", "lead", "--role", "leader",
                stdin="mat-khau-dai\n").returncode == 0
    assert _cli(conf, "add-user", "--username", "vp", "--role", "office",
                stdin="mat-khau-dai\n").returncode == 0
    app = create_app(config)
    client = app.test_client()
    assert login(client, "vp", "mat-khau-dai").status_code == 302
    assert client.get("/cases").status_code == 200

    r = _cli(conf, "disable-user", "--username", "vp")
    assert r.returncode == 0 and "disabled" in r.stdout, r.stderr
    assert client.get("/cases").status_code == 302  # the session ended at once
    assert login(app.test_client(), "vp", "mat-khau-dai").status_code == 401
    assert _cli(conf, "enable-user", "--username", "vp").returncode == 0
    assert login(app.test_client(), "vp", "mat-khau-dai").status_code == 302

    r = _cli(conf, "reset-password", "--username", "vp", stdin="mat-khau-moi-2\n")
    assert r.returncode == 0, r.stderr
    assert login(app.test_client(), "vp", "mat-khau-dai").status_code == 401
    assert login(app.test_client(), "vp", "mat-khau-moi-2").status_code == 302
    short = _cli(conf, "reset-password", "--username", "vp", stdin="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr
    assert "Traceback" not in short.stderr

    assert _cli(conf, "remove-user", "--username", "vp").returncode == 0
    assert login(app.test_client(), "vp", "mat-khau-moi-2").status_code == 401
    missing = _cli(conf, "disable-user", "--username", "vp")
    assert missing.returncode == 1 and "no user 'vp'" in missing.stderr
    last = _cli(conf, "disable-user", "--username", "lead")
    assert last.returncode == 1 and "last active leader" in last.stderr
    assert _cli(conf, "add-user", "--username", "x", "--role", "office", "--official",
                "cb-nobody", stdin="mat-khau-dai\n").returncode == 1

    listed = _cli(conf, "users", "--json")
    assert listed.returncode == 0 and '"username": "lead"' in listed.stdout
    assert '"username": "vp"' not in listed.stdout
    actions = [a[1] for a in _audit_actions(config) if a[2] == "vp"]
    for action in ("user.set", "user.disabled", "user.enabled", "user.password-reset",
                   "user.removed"):
        assert action in actions, (action, actions)


def test_leader_page_manages_accounts(dash):
    config, app = dash
    office = app.test_client()
    login(office, "office")
    assert office.get("/users").status_code == 403
    tech = app.test_client()
    login(tech, "technician")
    leader = app.test_client()
    login(leader, "leader")
    page = leader.get("/users").get_data(as_text=True)
    assert "technician" in page and "office" in page
    token = csrf_of(page)
    assert office.post("/users/technician", data={"action": "disable",
                                                  "csrf_token": csrf_of(
                                                      office.get("/").get_data(as_text=True))}
                       ).status_code == 403
    assert leader.post("/users/technician", data={"action": "disable"}).status_code == 400
    r = leader.post("/users/technician", data={"action": "disable", "csrf_token": token})
    assert r.status_code == 302 and "saved" in r.location
    assert tech.get("/fleet").status_code == 302  # its session is gone
    leader.post("/users/technician", data={"action": "enable", "csrf_token": token})
    leader.post("/users/technician", data={"action": "reset", "password": "mat-khau-moi-3",
                                           "csrf_token": token})
    assert login(app.test_client(), "technician", "mat-khau-moi-3").status_code == 302
    r = leader.post("/users/leader", data={"action": "disable", "csrf_token": token})
    assert "error" in r.location  # not yourself
    leader.post("/users/technician", data={"action": "remove", "csrf_token": token})
    assert "technician" not in leader.get("/users").get_data(as_text=True)
    actions = {(a[0], a[1], a[2]) for a in _audit_actions(config)}
    for action in ("user.disabled", "user.enabled", "user.password-reset", "user.removed"):
        assert ("leader", action, "technician") in actions, action


def test_official_cannot_act_on_own_cases(dash):
    config, app = dash
    db = connect(config.store)
    accounts.add_user(db.conn, "an", "office", PASSWORD, official="cb-an")
    own = followup.queue(db.conn, official="cb-an")[0]["id"]
    other = followup.queue(db.conn, official="cb-binh")[0]["id"]
    db.close()
    client = app.test_client()
    login(client, "an")
    page = client.get(f"/cases/{own}").get_data(as_text=True)
    assert "0912345678" not in page  # the citizen's number is not shown to the official
    assert 'name="action"' not in page
    token = csrf_of(client.get(f"/cases/{other}").get_data(as_text=True))
    for data in ({"action": "close", "outcome": "unfounded"}, {"action": "note", "text": "x"},
                 {"action": "assign", "assignee": "an"}, {"action": "reopen"}):
        r = client.post(f"/cases/{own}", data={**data, "csrf_token": token})
        assert r.status_code == 403, data
    assert client.get(f"/cases/{own}/letter-thanks.docx").status_code == 403
    # other officials' cases: as any office user
    assert client.post(f"/cases/{other}", data={"action": "note", "text": "đã gọi",
                                                "csrf_token": token}).status_code == 302
    # nobody can hand the case to the official it is about
    leader = app.test_client()
    login(leader, "leader")
    page = leader.get(f"/cases/{own}").get_data(as_text=True)
    assert '<option value="an"' not in page
    r = leader.post(f"/cases/{own}", data={"action": "assign", "assignee": "an",
                                           "csrf_token": csrf_of(page)})
    assert "error" in r.location
    db = connect(config.store)
    case = followup.get(db.conn, own)
    db.close()
    assert case["state"] == "open" and case["assignee"] is None


def test_configured_reason_labels_show_on_pages(dash):
    _, app = dash
    client = app.test_client()
    login(client, "leader")
    for page in ("/cases", "/cases/1", "/", "/reports", "/officials/cb-an"):
        html = client.get(page).get_data(as_text=True)
        assert "no-queue-number" not in html, page
        assert "Không được lấy số thứ tự" in html, page
    assert "Phải chờ quá lâu" in client.get("/cases/1").get_data(as_text=True)
    client.get("/lang/en?next=/")
    assert "No queue ticket" in client.get("/cases/1").get_data(as_text=True)
    # a code the commune did not configure keeps the built-in words
    assert "Unfriendly attitude" in client.get("/cases/2").get_data(as_text=True)
