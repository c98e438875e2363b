"""Alerts people can act on (issue 10 item 4), against a real local webhook receiver
(http.server on 127.0.0.1) and a real local SMTP server (aiosmtpd): the official's
name, the counter's name, the reasons and the case link reach both; a restart on a
backlog sends one summary, not a flood; closing a case closes its alert; digests;
acknowledging many at once."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from aiosmtpd.controller import Controller

from server.followup import alerts, cases as followup
from server.ingest.store import connect
from server.followup.watch import Watcher

from helpers import both_stores
from dashboard_support import load, rating, store_ratings


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        type(self).received.append(
            (self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class _Mailbox:
    def __init__(self):
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, msg["Subject"] + "\n" + msg.get_content()))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receivers():
    _Hook.received = []
    http = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    box = _Mailbox()
    smtp = Controller(box, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", smtp.port, box
    finally:
        smtp.stop()
        http.shutdown()


def _roster(config):
    db = connect(config.store)
    db.conn.execute("INSERT INTO officials (id, name, title, photo, active, updated_at) "
                    "VALUES ('cb-le-van-cuong', 'Lê Văn Cường', '', '', 1, 0)")
    db.conn.execute("INSERT INTO counters (id, name) VALUES ('q1', 'Tư pháp - Hộ tịch')")
    db.conn.commit()
    db.close()


def _settings(base: str, smtp_port: int, extra: str = "") -> str:
    return (f'[alerts]\nwebhooks = ["{base}/hook"]\ntelegram_webhooks = ["{base}/bot1/'
            f'sendMessage"]\ntelegram_chat_id = "-100"\nemails = ["lanh-dao@xa.test"]\n'
            f'base_url = "https://hailong.xa.test"\nofficial_low_count = 100\n{extra}'
            f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
            f'sender = "hailong@xa.test"\n')


def _deliver(conn, config, now=None) -> int:
    with requests.Session() as s:
        return alerts.deliver_due(conn, style="json", chat_id="-100", max_attempts=3,
                                  session=s, smtp=config.smtp, now=now)


@both_stores
def test_webhook_telegram_and_email_name_the_official_and_link_the_case(tmp_path, server_store, receivers):
    base, smtp_port, box = receivers
    config = load(tmp_path, _settings(base, smtp_port), store=server_store)
    _roster(config)
    store_ratings(config, [rating(1, official="cb-le-van-cuong", counter="q1",
                                  reasons=("long-wait", "attitude"))])
    db = connect(config.store)
    followup.open_cases(db.conn, low_at_or_below=0, deadline_days=3)
    assert alerts.check(db.conn, config.alerts, alerts.channels(config.alerts)) == 1
    assert _deliver(db.conn, config) == 3
    db.close()
    link = "https://hailong.xa.test/cases/1"
    hook = dict(_Hook.received)
    generic, telegram = hook["/hook"], hook["/bot1/sendMessage"]
    for text in (generic["message"], telegram["text"], box.messages[0][1]):
        assert "Lê Văn Cường" in text and link in text
        assert "Tư pháp - Hộ tịch" in text and "Chờ đợi lâu" in text
    assert generic["data"]["link"] == link
    assert telegram["chat_id"] == "-100" and set(telegram) >= {"chat_id", "text"}
    assert box.messages[0][0] == ["lanh-dao@xa.test"]


@both_stores
def test_restart_with_a_backlog_sends_one_summary(tmp_path, server_store, receivers):
    base, smtp_port, box = receivers
    config = load(tmp_path, _settings(base, smtp_port, "summary_over = 10\n"), store=server_store)
    _roster(config)
    # 40 low ratings stored while the server was down: no cases, no alerts yet.
    store_ratings(config, [rating(1, official="cb-le-van-cuong") for _ in range(40)])
    with Watcher(config) as w:
        w.round()
        deadline = time.monotonic() + 30
        while len(_Hook.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # anything more would have come by now
    bodies = [b for path, b in _Hook.received if path == "/hook"]
    assert [b["kind"] for b in bodies] == ["low-summary"], bodies
    assert "40" in bodies[0]["message"] and "Lê Văn Cường" in bodies[0]["message"]
    assert len(box.messages) == 1


@both_stores
def test_closing_a_case_closes_its_alert(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    store_ratings(config, [rating(1), rating(1)])
    db = connect(config.store)
    conn = db.conn
    followup.open_cases(conn, low_at_or_below=0, deadline_days=3)
    alerts.check(conn, config.alerts, ())
    assert alerts.open_count(conn) == 2
    followup.close(conn, 1, "explained", "leader")
    still = alerts.listing(conn)
    assert [a["payload"]["case"] for a in still] == [2]
    closed = alerts.listing(conn, include_acknowledged=True)
    assert any(a["payload"]["case"] == 1 and a["acknowledged_at"] for a in closed)
    db.close()


@both_stores
def test_acknowledge_many_at_once(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    store_ratings(config, [rating(1) for _ in range(5)])
    db = connect(config.store)
    followup.open_cases(db.conn, low_at_or_below=0, deadline_days=3)
    alerts.check(db.conn, config.alerts, ())
    ids = [a["id"] for a in alerts.listing(db.conn)]
    assert len(ids) >= 5
    assert alerts.acknowledge_many(db.conn, ids[1:], "leader", "đã xem") == len(ids) - 1
    assert alerts.open_count(db.conn) == 1
    db.close()


@both_stores
def test_routing_lowest_now_others_in_one_daily_digest(tmp_path, server_store, receivers):
    base, smtp_port, box = receivers
    config = load(tmp_path, _settings(base, smtp_port, 'webhook_routes = ["lowest-rating", '
                                      '"low-rating"]\nemail_routes = ["lowest-rating"]\n'), store=server_store)
    store_ratings(config, [rating(1, scale=5), rating(2, scale=5), rating(2, scale=5)])
    db = connect(config.store)
    followup.open_cases(db.conn, low_at_or_below=0, deadline_days=3)
    alerts.check(db.conn, config.alerts, alerts.channels(config.alerts))
    _deliver(db.conn, config)
    now_hooks = [b for p, b in _Hook.received if p == "/hook"]
    assert [b["data"]["score"] for b in now_hooks] == [1]  # the lowest at once
    assert len(box.messages) == 1                           # email: lowest only
    _Hook.received.clear()
    _deliver(db.conn, config, now=time.time() + 86400)     # the digest hour has passed
    later = [b for p, b in _Hook.received if p == "/hook"]
    assert len(later) == 1 and later[0]["kind"] == "digest"
    assert later[0]["message"].count("\n- ") == 2
    assert len(box.messages) == 1                            # email_routes: no digest mail
    db.close()


@both_stores
def test_many_overdue_cases_at_first_start_are_one_message(tmp_path, server_store, receivers):
    base, smtp_port, box = receivers
    config = load(tmp_path, _settings(base, smtp_port, "summary_over = 5\n"), store=server_store)
    store_ratings(config, [rating(1) for _ in range(4)] +
                  [rating(1, official=f"cb-{i}") for i in range(8)])
    db = connect(config.store)
    conn = db.conn
    followup.open_cases(conn, low_at_or_below=0, deadline_days=1, now=time.time() - 9 * 86400)
    alerts.check(conn, config.alerts, alerts.channels(config.alerts))  # the 12 low ratings
    _deliver(conn, config)
    _Hook.received.clear()
    followup.escalate_overdue(conn)
    alerts.check(conn, config.alerts, alerts.channels(config.alerts))
    _deliver(conn, config)
    bodies = [b for p, b in _Hook.received if p == "/hook"]
    assert [b["kind"] for b in bodies] == ["alert-summary"], bodies
    assert "12 cảnh báo" in bodies[0]["message"]
    assert len(alerts.listing(conn, kinds=("case-overdue",))) == 12  # all listed on the page
    db.close()


@both_stores
def test_the_assignee_is_emailed_with_the_case_link(tmp_path, server_store, receivers):
    base, smtp_port, box = receivers
    config = load(tmp_path, _settings(base, smtp_port,
                                      'assignee_emails = ["vanphong=vp@xa.test"]\n'), store=server_store)
    _roster(config)
    store_ratings(config, [rating(1, official="cb-le-van-cuong", reasons=("late-result",))])
    db = connect(config.store)
    conn = db.conn
    followup.open_cases(conn, low_at_or_below=0, deadline_days=3)
    followup.assign(conn, 1, "vanphong", "chutich")
    alerts.case_assigned(conn, config.alerts, followup.get(conn, 1), "vanphong", "chutich")
    _deliver(conn, config)
    db.close()
    mine = [text for to, text in box.messages if to == ["vp@xa.test"]]
    assert len(mine) == 1
    assert "https://hailong.xa.test/cases/1" in mine[0] and "Lê Văn Cường" in mine[0]
    assert "Trễ hẹn" in mine[0] and "chutich" in mine[0]
