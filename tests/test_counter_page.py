"""The official's counter page (issue 9): role ``official`` sees no ratings and no
figures (every figure page and API call is 403), and its one page sends the kiosk at
the official's counter a session for the dossier typed or scanned, for that official."""

from __future__ import annotations

import threading
import time

import pytest

from server import accounts
from server.ingest import feed
from server.fleet.roster import Roster
from server.ingest.store import connect
from server.web import create_app
from sync.mqtt import make_client

from dashboard_support import PASSWORD, add_users, csrf_of, load, login, rating, store_ratings
from feed_support import SessionSpy, prepare_site


@pytest.fixture(params=["sqlite", "postgresql"])
def store_engine(request) -> str:
    """Every test here that opens the server store runs on both engines (issue 12)."""
    return request.param


def hailong(*args: str, input: str = "", check: bool = True):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "hailong", *args], capture_output=True,
                          text=True, check=check, timeout=120, input=input)

from test_web_pages import PAGES

DOSSIER = "000.31.12.H29-241123-0001"


@pytest.fixture
def counter(tmp_path, server_store, broker):
    config = load(tmp_path, f'[broker]\nhost = "127.0.0.1"\nport = {broker.port}\n',
                  store=server_store)
    add_users(config)
    prepare_site(config.store, "xa-test")
    store_ratings(config, [rating(1, official="cb-an", reasons=("attitude",)), rating(4)])
    db = connect(config.store)
    Roster(db).set_counter("q2", officials=["cb-binh"])  # q2 is not cb-an's counter
    accounts.add_user(db.conn, "an", "official", PASSWORD)
    feed.link_official(db.conn, "an", "cb-an")
    db.close()
    connected = threading.Event()
    client = make_client(config.broker, "test-server")
    client.on_connect = lambda *a: connected.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert connected.wait(10)
    spy = SessionSpy(broker.port, "xa-test")
    app = create_app(config, feed.MqttPublisher(client, connected))
    yield config, app, spy
    spy.close()
    client.loop_stop()
    client.disconnect()


def test_official_sees_no_figures(counter):
    _, app, _ = counter
    client = app.test_client()
    assert login(client, "an").status_code == 302
    for page in PAGES:
        r = client.get(page)
        if page == "/":
            assert r.status_code == 302 and r.location.endswith("/counter"), page
        else:
            assert r.status_code == 403, (page, r.status_code)
        body = r.get_data(as_text=True)
        assert "attitude" not in body and "Không hài lòng" not in body
    page = client.get("/counter").get_data(as_text=True)
    assert "Mời đánh giá" in page and "Quầy 1 - Tư pháp" in page
    for word in ("Tổng quan", "Tỷ lệ", "Lượt đánh giá", "Báo cáo", "Xử lý phản ánh"):
        assert word not in page


def test_invite_sends_the_session_to_the_counters_kiosk(counter):
    config, app, spy = counter
    client = app.test_client()
    login(client, "an")
    page = client.get("/counter").get_data(as_text=True)
    assert 'name="dossier"' in page and "autofocus" in page
    assert 'value="q2"' not in page  # not a counter cb-an serves
    csrf = csrf_of(page)
    # what a USB scanner does: the code, then Enter, which submits the form
    r = client.post("/counter", data={"csrf_token": csrf, "counter": "q1",
                                      "dossier": f" {DOSSIER}\n"})
    assert r.status_code == 302 and "sent=" in r.location
    [session] = spy.wait_for(1)
    assert spy.messages[0][0] == "hailong/v1/xa-test/k01/session"
    assert (session.dossier, session.official) == (DOSSIER, "cb-an")
    assert session.expires_at > time.time() + 590
    shown = client.get(r.location).get_data(as_text=True)
    assert DOSSIER in shown and "Đã mời đánh giá" in shown


def test_refusals_publish_nothing(counter):
    _, app, spy = counter
    client = app.test_client()
    login(client, "an")
    csrf = csrf_of(client.get("/counter").get_data(as_text=True))
    r = client.post("/counter", data={"csrf_token": csrf, "counter": "q1", "dossier": ""})
    assert r.status_code == 422 and "Hãy nhập hoặc quét mã hồ sơ" in r.get_data(as_text=True)
    r = client.post("/counter", data={"csrf_token": csrf, "counter": "q1", "dossier": "??"})
    assert r.status_code == 422 and "không đúng dạng" in r.get_data(as_text=True)
    r = client.post("/counter", data={"csrf_token": csrf, "counter": "q2", "dossier": DOSSIER})
    assert r.status_code == 403
    r = client.post("/counter", data={"counter": "q1", "dossier": DOSSIER})
    assert r.status_code == 400  # no CSRF token
    time.sleep(0.5)
    assert spy.messages == []


def test_leader_cannot_use_the_counter_page_and_unlinked_official_is_told(counter):
    config, app, spy = counter
    client = app.test_client()
    login(client, "leader")
    assert client.get("/counter").status_code == 403
    db = connect(config.store)
    accounts.add_user(db.conn, "nobody", "official", PASSWORD)
    db.close()
    client = app.test_client()
    login(client, "nobody")
    assert "chưa gắn với công chức" in client.get("/counter").get_data(as_text=True)


def test_add_user_links_an_official(counter):
    config, app, _ = counter
    conf = str(config.path)
    r = hailong("server", "add-user", "--config", conf, "--username", "binh", "--role",
                "official", "--official", "cb-binh", input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    db = connect(config.store)
    assert feed.official_of(db.conn, "binh") == "cb-binh"
    db.close()
    r = hailong("server", "add-user", "--config", conf, "--username", "x", "--role",
                "official", "--official", "cb-nobody", input=PASSWORD + "\n", check=False)
    assert r.returncode == 1 and "cb-nobody" in r.stderr and "Traceback" not in r.stderr
    r = hailong("server", "add-user", "--config", conf, "--username", "y", "--role",
                "official", input=PASSWORD + "\n", check=False)
    assert r.returncode != 0 and "--official" in r.stderr
