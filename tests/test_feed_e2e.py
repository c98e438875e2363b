"""The transaction feed end to end (issue 9), real mosquitto, real ``hailong server
run`` and ``hailong sync run`` processes:

HTTP session -> MQTT -> the kiosk's uplink stores it in the outbox -> a citizen's
rating takes it (through :mod:`kiosk.recorder`, the screen's path) and carries its
dossier -> stored on the server with the dossier, and the dossier, procedure and field
show on the dashboard's pages, the follow-up case and the apology letter. The same
transaction rated twice: one stored, one ``duplicate-transaction``. An expired session
is not used.
"""

from __future__ import annotations

import io
import time
import zipfile

import requests

from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from kiosk.recorder import Recorder, Transaction
from server import accounts
from server.followup import cases as followup
from server.config import load_server_config
from server.ingest.store import connect
from server.web import create_app

from conftest import wait_until
from dashboard_support import PASSWORD, login
from feed_support import prepare_site
from helpers import hailong, kiosk_status, server_stats

DOSSIER = "000.31.12.H29-241123-0001"


def sessions_waiting(kiosk_conf) -> int:
    with Outbox(load_kiosk_config(kiosk_conf).store.path) as outbox:
        return outbox.db.execute("SELECT count(*) FROM sessions WHERE used = 0").fetchone()[0]


def rate_open_session(kiosk_conf, score: int, reasons=()) -> tuple[str, Transaction | None]:
    """What the screen does: take the open session, then record the press under it."""
    config = load_kiosk_config(kiosk_conf)
    with Outbox(config.store.path) as outbox:
        recorder = Recorder.from_config(config, outbox)
        session = outbox.take_session()
        if session is not None:
            recorder.transaction = Transaction(
                id=session.transaction, official=session.official, dossier=session.dossier,
                procedure=session.procedure, field=session.field)
        tx = recorder.transaction
        rating = recorder.press(score, sealed=not reasons)
        if reasons:
            recorder.amend(rating.id, reasons=list(reasons))
        return rating.id, tx


def test_http_session_to_a_stored_rating_with_its_dossier(site, procs, broker):
    conf = str(site.server_conf)
    prepare_site(site.folder / "server.db", site.commune)
    token = hailong("server", "add-token", "--config", conf, "--name", "hang-doi").stdout.strip()
    kiosk = site.kiosk("k01")
    server = procs(["server", "run", "--config", conf], site.folder / "server.log")
    server.wait_for_log("ingest subscribed")
    server.wait_for_log("dashboard on")
    uplink = procs(["sync", "run", "--config", str(kiosk)], site.folder / "sync.log")
    uplink.wait_for_log("connected to broker")
    # the uplink's QoS 1 subscription is made in its connect callback
    wait_until(lambda: server_stats(site.server_conf)["kiosks"].get("k01", {}).get("online"),
               message="k01 online")
    url = f"http://127.0.0.1:{site.web_port}/api/v1/sessions"
    auth = {"Authorization": f"Bearer {token}"}

    def send(**body):
        r = requests.post(url, json=body, headers=auth, timeout=10)
        assert r.status_code == 202, r.text
        return r.json()

    # 1. one session, one low rating: it carries the dossier all the way
    sent = send(counter="q1", dossier=DOSSIER, official="cb-an",
                procedure="Đăng ký khai sinh", field="Hộ tịch")
    wait_until(lambda: sessions_waiting(kiosk) == 1, message="session in the outbox")
    low, tx = rate_open_session(kiosk, 1, reasons=("wait",))
    assert tx.dossier == DOSSIER and tx.id == sent["transaction"]
    wait_until(lambda: server_stats(site.server_conf)["with_dossier"] == 1, timeout=60,
               message="rating with dossier on the server")
    db = connect(site.folder / "server.db")
    row = db.execute("SELECT official, dossier, procedure, field, transaction_id, counter "
                     "FROM ratings WHERE id = ?", [low]).fetchone()
    db.close()
    assert row == ("cb-an", DOSSIER, "Đăng ký khai sinh", "Hộ tịch", sent["id"], "q1")

    # 2. the queue system sends ticket 7 twice; the citizen rates each time: one stored
    for score in (4, 3):
        send(counter="q1", transaction="ticket-7", dossier="H29-241123-0007")
        wait_until(lambda: sessions_waiting(kiosk) == 1, message="session in the outbox")
        rate_open_session(kiosk, score)
    wait_until(lambda: kiosk_status(kiosk)["rejected"] == 1, timeout=60,
               message="second rating of ticket-7 rejected")
    status = kiosk_status(kiosk)
    assert status["acked"] == 2 and status["pending"] == 0
    assert status["recent_rejections"][0]["reason"] == "duplicate-transaction"
    stats = server_stats(site.server_conf)
    assert stats["ratings"] == 2 and stats["with_dossier"] == 2
    assert stats["rejected_by_reason"] == {"duplicate-transaction": 1}

    # 3. an expired session is not used: the next rating goes to whoever is on duty
    send(counter="q1", dossier="H29-241123-0009", official="cb-binh", expires_in=1)
    wait_until(lambda: sessions_waiting(kiosk) == 1, message="session in the outbox")
    time.sleep(1.2)
    rid, tx = rate_open_session(kiosk, 4)
    assert tx is None
    wait_until(lambda: server_stats(site.server_conf)["ratings"] == 3, timeout=60)
    assert server_stats(site.server_conf)["with_dossier"] == 2

    # 4. the dossier, procedure and field on the dashboard, the case and the letter
    config = load_server_config(site.server_conf)
    db = connect(config.store)
    accounts.add_user(db.conn, "leader", "leader", PASSWORD)
    case_id = wait_until(lambda: (db.execute("SELECT id FROM cases WHERE rating_id = ?",
                                             [low]).fetchone() or [None])[0],
                         message="a follow-up case for the low rating")
    followup.close(db.conn, case_id, "apologised", "leader")  # an apology once found valid
    db.close()
    client = create_app(config).test_client()
    login(client, "leader")
    fields = client.get("/fields").get_data(as_text=True)
    assert "Hộ tịch" in fields and "Đăng ký khai sinh" in fields
    case = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert DOSSIER in case and "Đăng ký khai sinh" in case and "Hộ tịch" in case
    letter = client.get(f"/cases/{case_id}/letter-apology.docx")
    with zipfile.ZipFile(io.BytesIO(letter.data)) as z:
        text = z.read("word/document.xml").decode()
    assert DOSSIER in text and "Đăng ký khai sinh" in text
