"""Follow-up cases and alerts on a real store: one case per low rating, opened again
after a crash before the callback, escalation, contact retention, webhook delivery
with retries to a real local HTTP server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from hailong import domain
from server.followup import alerts, cases as followup
from server.reports import rollup
from server.ingest.store import connect
from server.followup.watch import Watcher

from dashboard_support import load, rating, store_ratings
from helpers import both_stores


def _cases(config) -> list[dict]:
    db = connect(config.store)
    try:
        return followup.queue(db.conn, state="all")
    finally:
        db.close()


@both_stores
def test_one_case_per_low_rating_idempotent(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    new = store_ratings(config, [rating(1, reasons=("long-wait",)), rating(2), rating(4),
                                 rating(1, suspect="burst")])
    with Watcher(config) as w:
        w.on_new_ratings(new)
        w.on_new_ratings(new)  # a repeated callback opens nothing new
    cases = _cases(config)
    assert len(cases) == 1
    assert cases[0]["reasons"] == ["long-wait"] and cases[0]["state"] == "open"


@both_stores
def test_cases_caught_up_after_a_crash_before_the_callback(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    store_ratings(config, [rating(1), rating(1, official="cb-binh")])  # no callback ran
    assert _cases(config) == []
    with Watcher(config):  # start-up catches up
        pass
    assert sorted(c["official"] for c in _cases(config)) == ["cb-an", "cb-binh"]


@both_stores
def test_threshold_is_configurable(tmp_path, server_store):
    config = load(tmp_path, "[followup]\nlow_at_or_below = 2\n", store=server_store)
    new = store_ratings(config, [rating(2), rating(3)])
    with Watcher(config) as w:
        w.on_new_ratings(new)
    assert [c["score"] for c in _cases(config)] == [2]


@both_stores
def test_escalation_and_states(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    store_ratings(config, [rating(1)])
    db = connect(config.store)
    conn = db.conn
    followup.open_cases(conn, low_at_or_below=0, deadline_days=1, now=time.time() - 2 * 86400)
    assert followup.escalate_overdue(conn) == [1]
    assert followup.escalate_overdue(conn) == []
    assert followup.counts(conn)["overdue"] == 1
    followup.assign(conn, 1, "office", "leader")
    assert followup.get(conn, 1)["state"] == "in-progress"
    with pytest.raises(followup.CaseError):
        followup.close(conn, 1, "made-up", "leader")
    followup.close(conn, 1, "unfounded", "leader")
    with pytest.raises(followup.CaseError):
        followup.close(conn, 1, "explained", "leader")
    followup.reopen(conn, 1, "leader")
    assert followup.get(conn, 1)["state"] == "in-progress"
    n = alerts.check(conn, config.alerts, ())
    kinds = {a["kind"] for a in alerts.listing(conn)}
    assert n >= 2 and {"low-rating", "case-overdue"} <= kinds
    db.close()


@both_stores
def test_contacts_deleted_after_retention(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    store_ratings(config, [rating(1, phone="0987654321")])
    db = connect(config.store)
    followup.open_cases(db.conn, low_at_or_below=0, deadline_days=3)
    case = followup.get(db.conn, 1)
    assert followup.contact(db.conn, case)["phone"] == "0987654321"
    assert followup.purge_contacts(db.conn, 30) == 0
    assert followup.purge_contacts(db.conn, 30, now=time.time() + 31 * 86400) == 1
    assert followup.contact(db.conn, case) is None
    db.close()


@both_stores
def test_repeated_low_ratings_raise_one_alert(tmp_path, server_store):
    config = load(tmp_path, "[alerts]\nofficial_low_count = 3\n", store=server_store)
    new = store_ratings(config, [rating(1, official="cb-chi") for _ in range(4)])
    with Watcher(config) as w:
        w.on_new_ratings(new)
        w.round()
        w.round()
    db = connect(config.store)
    repeated = alerts.listing(db.conn, kinds=("official-repeated",))
    db.close()
    assert len(repeated) == 1 and repeated[0]["payload"]["low"] == 4


@both_stores
def test_kiosk_offline_and_backlog_alerts(tmp_path, server_store):
    config = load(tmp_path, "[alerts]\nkiosk_offline_minutes = 1\nbacklog_over = 10\n",
                  store=server_store)
    db = connect(config.store)
    db.conn.execute("INSERT INTO kiosks (id, commune, online, last_seen, status) VALUES "
                    "('k09', 'xa-test', 0, ?, ?)",
                    [time.time() - 600, json.dumps({"backlog": 50})])
    db.conn.commit()
    alerts.check(db.conn, config.alerts, ())
    kinds = sorted(a["kind"] for a in alerts.listing(db.conn))
    db.close()
    assert kinds == ["backlog", "kiosk-offline"]


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    fail_first = 0

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        if cls.fail_first > 0:
            cls.fail_first -= 1
            self.send_response(503)
        else:
            cls.received.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@both_stores
@pytest.mark.parametrize("style", ["json", "telegram"])
def test_webhook_retried_with_backoff(tmp_path, server_store, style):
    _Hook.received, _Hook.fail_first = [], 1
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    try:
        config = load(tmp_path, f'[alerts]\nwebhooks = ["{url}"]\nstyle = "{style}"\n'
                                f'telegram_chat_id = "-100"\n', store=server_store)
        store_ratings(config, [rating(1)])
        db = connect(config.store)
        conn = db.conn
        followup.open_cases(conn, low_at_or_below=0, deadline_days=3)
        alerts.check(conn, config.alerts, (url,))
        with requests.Session() as s:
            kw = dict(style=style, chat_id="-100", max_attempts=3, session=s)
            assert alerts.deliver_due(conn, **kw) == 0  # 503: retried later
            assert alerts.deliver_due(conn, **kw) == 0  # not due yet (backoff)
            assert alerts.deliver_due(conn, now=time.time() + 3, **kw) == 1
        db.close()
    finally:
        server.shutdown()
    assert len(_Hook.received) == 1
    body = _Hook.received[0]
    if style == "json":
        assert body["kind"] == "low-rating" and body["data"]["official"] == "cb-an"
    else:
        assert body["chat_id"] == "-100" and "cb-an" in body["text"]


def test_sql_levels_match_the_domain(tmp_path):
    """The rollup's SQL for satisfied / low agrees with hailong.domain on every scale."""
    import sqlite3
    conn = sqlite3.connect(":memory:")
    for scale, levels in domain.LEVELS.items():
        for lv in levels:
            sat, low = conn.execute(
                f"SELECT {rollup.SATISFIED_SQL}, {rollup.LOW_SQL} FROM "
                "(SELECT ? AS score, ? AS scale)", [lv.score, scale]).fetchone()
            assert bool(sat) == domain.is_satisfied(lv.score, scale)
            assert bool(low) == domain.is_low(lv.score, scale)


@both_stores
def test_rollup_follows_new_ratings_and_rebuild_agrees(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    store_ratings(config, [rating(s) for s in (1, 2, 3, 4, 4)])
    db = connect(config.store)
    conn = db.conn
    rollup.catch_up(conn)
    store_ratings(config, [rating(4, official="cb-binh", reasons=("smiled",))])
    assert rollup.catch_up(conn) == 1
    before = sorted(conn.execute("SELECT * FROM daily2"))
    rollup.rebuild(conn)
    assert sorted(conn.execute("SELECT * FROM daily2")) == before
    assert conn.execute("SELECT sum(n) FROM daily2").fetchone()[0] == 6
    db.close()
