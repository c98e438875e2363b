"""POST /api/v1/sessions (issue 9): integration tokens, validation, and proof on the
real broker that a refused request publishes nothing while an accepted one reaches
exactly its kiosk's session topic, QoS 1, not retained, with a server-made expiry."""

from __future__ import annotations

import json
import threading
import time

import pytest

from server.ingest import feed
from server.ingest.store import connect
from server.web import create_app
from sync.mqtt import make_client

from dashboard_support import load
from feed_support import SessionSpy, prepare_site
from helpers import hailong

DOSSIER = "000.31.12.H29-241123-0001"


@pytest.fixture
def api(tmp_path, broker):
    config = load(tmp_path, f'[broker]\nhost = "127.0.0.1"\nport = {broker.port}\n')
    prepare_site(config.store, "xa-test")
    connected = threading.Event()
    client = make_client(config.broker, "test-server")
    client.on_connect = lambda *a: connected.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert connected.wait(10)
    spy = SessionSpy(broker.port, "xa-test")
    db = connect(config.store)
    tokens = {"all": feed.add_token(db.conn, "queue"),
              "q2": feed.add_token(db.conn, "queue-q2", ["q2"])}
    db.close()
    app = create_app(config, feed.MqttPublisher(client, connected))
    yield config, app.test_client(), tokens, spy
    spy.close()
    client.loop_stop()
    client.disconnect()


def post(client, token, body, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/api/v1/sessions", data=data, headers=headers,
                       content_type="application/json", **kw)


def test_a_session_reaches_its_kiosk(api):
    config, client, tokens, spy = api
    before = time.time()
    r = post(client, tokens["all"], {"counter": "q1", "dossier": DOSSIER, "official": "cb-an",
                                     "procedure": "Đăng ký khai sinh", "field": "Hộ tịch"})
    assert r.status_code == 202, r.get_json()
    answer = r.get_json()
    assert answer["kiosk"] == "k01" and answer["counter"] == "q1"
    [session] = spy.wait_for(1)
    topic, _, retained, _ = spy.messages[0]
    assert topic == "hailong/v1/xa-test/k01/session" and not retained
    assert session.id == answer["id"] and session.transaction == answer["id"]
    assert (session.dossier, session.official, session.procedure, session.field) == (
        DOSSIER, "cb-an", "Đăng ký khai sinh", "Hộ tịch")
    # expiry from the server's clock, default [feed] expires_in = 10 minutes
    assert before + 600 <= session.expires_at <= time.time() + 600
    assert session.expires_at == answer["expires_at"]
    # by kiosk, with the caller's own transaction id and expiry
    r = post(client, tokens["q2"], {"kiosk": "k02", "transaction": "ticket-0042",
                                    "expires_in": 30})
    assert r.status_code == 202
    second = spy.wait_for(2)[1]
    assert spy.messages[1][0].endswith("/k02/session")
    assert second.transaction == "ticket-0042" and second.expires_at <= time.time() + 30
    db = connect(config.store)
    rows = list(db.execute("SELECT source, kiosk, dossier, published_at FROM feed_sessions "
                           "ORDER BY created_at"))
    db.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [("token:queue", "k01", DOSSIER),
                                                  ("token:queue-q2", "k02", None)]
    assert all(r[3] for r in rows)


REFUSED = [
    # (token key or literal, body, status, words in the error)
    (None, {"counter": "q1"}, 401, "token"),
    ("hlt_wrong", {"counter": "q1"}, 401, "unknown"),
    ("q2", {"counter": "q1"}, 403, "q1"),
    ("q2", {"kiosk": "k01"}, 403, "q1"),
    ("all", {"counter": "q1", "colour": "red"}, 422, "colour"),
    ("all", {"counter": "q1", "dossier": 42}, 422, "dossier"),
    ("all", {"counter": "q1", "expires_in": "soon"}, 422, "expires_in"),
    ("all", {"counter": "q1", "expires_in": True}, 422, "expires_in"),
    ("all", {"counter": "q1", "dossier": "X" * 201}, 422, "dossier"),
    ("all", {"counter": "q1", "procedure": ""}, 422, "procedure"),
    ("all", {"counter": "q1", "expires_in": 0}, 422, "expires_in"),
    ("all", {"counter": "Q 1"}, 422, "counter"),
    ("all", [1, 2], 422, "object"),
    ("all", {}, 422, "kiosk"),
    ("all", b"{not json", 400, "json"),
    ("all", b"", 400, "json"),
    ("all", json.dumps({"counter": "q1", "procedure": "x" * 190, "field": "y" * 190,
                        "dossier": "D" * 60, "transaction": "t" * 190,
                        "pad": "z" * 4000}), 400, "too large"),
    ("all", b"{" + b" " * 100_000 + b"}", 400, "too large"),  # past Flask's own limit too
    ("all", {"kiosk": "k99"}, 422, "unknown kiosk"),
    ("all", {"counter": "q9"}, 422, "unknown counter"),
    ("all", {"kiosk": "k01", "counter": "q2"}, 422, "counter"),
    ("all", {"counter": "q1", "dossier": "có dấu?"}, 422, "dossier_pattern"),
    ("all", {"counter": "q1", "official": "cb-nobody"}, 422, "roster"),
]


def test_refused_requests_publish_nothing(api):
    config, client, tokens, spy = api
    for token, body, status, words in REFUSED:
        r = post(client, tokens.get(token, token), body)
        assert r.status_code == status, (body, r.status_code, r.get_data(as_text=True))
        error = r.get_json()["error"]
        assert "\n" not in error and words.lower() in error.lower(), (body, error)
        if status == 401:
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
    # A marker published after all of them arrives alone: the broker delivers one
    # publisher's QoS 1 messages in order, so anything published before would be here.
    assert post(client, tokens["all"], {"kiosk": "k02", "transaction": "marker"}
                ).status_code == 202
    sessions = spy.wait_for(1)
    time.sleep(0.5)
    assert [s.transaction for s in spy.sessions()] == ["marker"], sessions
    db = connect(config.store)
    assert db.execute("SELECT count(*) FROM feed_sessions").fetchone()[0] == 1
    db.close()


def test_the_dossier_pattern_is_a_setting(tmp_path, broker):
    config = load(tmp_path, '[feed]\ndossier_pattern = "H\\\\d{3}"\nexpires_in = 60\n')
    assert config.feed.dossier_pattern == r"H\d{3}"
    with pytest.raises(feed.FeedError, match="dossier_pattern"):
        _check(config, "H12")
    _check(config, "H123")
    bad = tmp_path / "bad"
    bad.mkdir()
    r = hailong("server", "stats", "--config",
                str(_write(bad, '[feed]\ndossier_pattern = "("\n')), check=False)
    assert r.returncode == 1 and "dossier_pattern" in r.stderr and "Traceback" not in r.stderr


def _write(folder, extra):
    from dashboard_support import write_config
    return write_config(folder, extra)


def _check(config, dossier):
    prepare_site(config.store, "xa-test")
    db = connect(config.store)
    sent = []
    try:
        feed.open_session(db.conn, config, feed.SessionRequest(counter="q1", dossier=dossier),
                          source="test", publish=lambda *a: sent.append(a))
    finally:
        db.close()
    assert sent and json.loads(sent[0][2])["expires_at"] - time.time() <= 60


def test_not_connected_answers_503_and_records_no_publication(api, tmp_path):
    config, _, tokens, spy = api
    client = create_app(config, feed.MqttPublisher(None, threading.Event())).test_client()
    r = post(client, tokens["all"], {"counter": "q1"})
    assert r.status_code == 503 and "broker" in r.get_json()["error"]
    time.sleep(0.3)
    assert spy.messages == []


def test_token_commands(tmp_path, api):
    config, client, _, spy = api
    conf = str(config.path)
    made = hailong("server", "add-token", "--config", conf, "--name", "hang-doi",
                   "--counter", "q1")
    token = made.stdout.strip()
    assert token.startswith("hlt_") and len(token) > 40
    listed = hailong("server", "list-tokens", "--config", conf, "--json").stdout
    assert token not in listed
    names = {t["name"]: t["counters"] for t in json.loads(listed)["tokens"]}
    assert names["hang-doi"] == ["q1"]
    # stored hashed: the token itself is nowhere in the store's files
    for f in tmp_path.glob("server.db*"):
        assert token.encode() not in f.read_bytes()
    assert post(client, token, {"counter": "q1"}).status_code == 202
    assert post(client, token, {"counter": "q2"}).status_code == 403
    hailong("server", "remove-token", "--config", conf, "--name", "hang-doi")
    assert post(client, token, {"counter": "q1"}).status_code == 401
    gone = hailong("server", "remove-token", "--config", conf, "--name", "hang-doi",
                   check=False)
    assert gone.returncode == 1 and "no integration token" in gone.stderr
    bad = hailong("server", "add-token", "--config", conf, "--name", "x y", check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
