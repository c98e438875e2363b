"""The demo's simulated queue system (issue 9): it sends each citizen's session
through ``POST /api/v1/sessions`` of a real ``hailong server run`` with the token the
demo makes, the kiosks' uplinks deliver them, simulated citizens rate them, and the
dashboard's field and procedure pages fill from that path."""

from __future__ import annotations

import random

from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from kiosk.recorder import Recorder
from server import accounts
from server.ingest import queue_sim
from server.config import load_server_config
from server.ingest.store import connect
from server.web import create_app

from conftest import wait_until
from dashboard_support import PASSWORD, login
from helpers import server_stats


def test_queue_system_fills_the_field_and_procedure_pages(site, procs, broker):
    queue_sim.prepare(site.server_conf, 2)
    token = queue_sim.prepare(site.server_conf, 2)  # a second demo run: a new token
    server = procs(["server", "run", "--config", str(site.server_conf)],
                   site.folder / "server.log")
    server.wait_for_log("ingest subscribed")
    server.wait_for_log("dashboard on")
    confs = [site.kiosk(k) for k in ("k01", "k02")]
    for n, conf in enumerate(confs):
        procs(["sync", "run", "--config", str(conf)], site.folder / f"sync{n}.log")
    wait_until(lambda: all(server_stats(site.server_conf)["kiosks"].get(k, {}).get("online")
                           for k in ("k01", "k02")), message="both kiosks online")
    queue = queue_sim.QueueSystem(f"http://127.0.0.1:{site.web_port}/", token,
                                  rng=random.Random(3))
    rng = random.Random(4)
    desks = queue_sim.counters(2)
    outboxes = [Outbox(load_kiosk_config(c).store.path) for c in confs]
    try:
        recorders = [Recorder.from_config(load_kiosk_config(c), o)
                     for c, o in zip(confs, outboxes)]
        for turn in range(6):
            n = turn % 2
            _, counter, officials = desks[n]
            queue.call_next(counter, officials)
            assert queue_sim.rate_session(recorders[n], rng, wait=10) is not None
    finally:
        queue.close()
        for o in outboxes:
            o.close()
    wait_until(lambda: server_stats(site.server_conf)["with_dossier"] == 6, timeout=60,
               message="six ratings with their dossiers")
    stats = server_stats(site.server_conf)
    assert stats["ratings"] == 6 and stats["suspect"] == 0 and stats["rejected"] == 0
    config = load_server_config(site.server_conf)
    db = connect(config.store)
    sent = {r[0] for r in db.execute("SELECT procedure FROM feed_sessions")}
    stored = {r[0] for r in db.execute("SELECT procedure FROM ratings")}
    accounts.add_user(db.conn, "leader", "leader", PASSWORD)
    db.close()
    assert stored == sent and len(sent) > 1
    client = create_app(config).test_client()
    login(client, "leader")
    page = client.get("/fields").get_data(as_text=True)
    assert all(p in page for p in sent)
