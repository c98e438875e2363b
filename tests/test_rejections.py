"""Every rejection reaches the sender (issue 8, item 3).

A message refused whole (too big, unreadable) used to be acked with no ids, so the
uplink re-sent the same rows for ever and nobody was told why. Now the ack names the
ids it covered and the batch, the uplink splits and sends again, marks only what is
truly invalid as rejected with the reason, and the reason shows in ``kiosk status``,
the technician menu and the fleet view. Batches are sized by bytes, so a valid record
always fits.
"""

from __future__ import annotations

import json
import time
import uuid

from conftest import COMMUNE, wait_until
from hailong.settings import load
from helpers import both_stores, kiosk_status, record, server_stats, store_setting
from kiosk.clock import Clock
from sync.outbox import Outbox
from server.config import SERVER_SETTINGS
from server.fleet.kiosks import fleet_view
from server.ingest.worker import Ingest
from server.ingest.store import connect
from sync import contract

TOPIC = contract.topic(COMMUNE, "k01", "ratings")


def make_ingest(server_store) -> Ingest:
    config = load(None, SERVER_SETTINGS, overrides={
        "server": {"commune": COMMUNE}, "store": store_setting(server_store)})
    return Ingest(config)


def body(**changes) -> dict:
    r = {"id": str(uuid.uuid4()), "v": 1, "kiosk": "k01", "commune": COMMUNE,
         "counter": "q1", "score": 3, "scale": 4, "created_at": time.time(),
         "clock_synced": True, "boot_id": str(uuid.uuid4()), "mono": 100.0}
    r.update(changes)
    return r


@both_stores
def test_a_message_refused_whole_is_acked_with_its_ids_and_batch(server_store):
    ingest = make_ingest(server_store)
    big = [body(dossier="x" * 200, procedure="y" * 200, field="z" * 200) for _ in range(900)]
    payload = contract.encode_batch([json.dumps(r).encode() for r in big], "run1-7")
    assert len(payload) > contract.MAX_BATCH_BYTES
    [result] = ingest.handle([(TOPIC, payload, time.time())])
    assert result.batch == "run1-7" and result.batch_reason == "oversize"
    assert [r.id for r in result.rejected] == [r["id"] for r in big]
    assert {r.reason for r in result.rejected} == {"oversize"}
    # unreadable JSON: the ids are read from the raw bytes
    broken = b'{"v":1,"batch":"run1-8","ratings":[' + json.dumps(big[0]).encode() + b",{"
    [result] = ingest.handle([(TOPIC, broken, time.time())])
    assert (result.batch, [r.id for r in result.rejected]) == ("run1-8", [big[0]["id"]])
    assert result.rejected[0].reason == "bad-batch"
    [result] = ingest.handle([(TOPIC, b'{"v":1,"batch":"run1-9","ratings":[]}', time.time())])
    assert (result.batch, result.batch_reason, result.rejected) == ("run1-9", "empty-batch", [])
    assert ingest.store.db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0


PROCEDURES = (("Đăng ký khai sinh", "Hộ tịch"), ("Chứng thực bản sao", "Chứng thực"),
              ("Cấp giấy chứng nhận quyền sử dụng đất", "Đất đai"))


def ordinary(n: int) -> contract.Rating:
    """A rating as a counter with a queue system makes them: a dossier code, the queue
    system's transaction id, the official, the procedure; a low one with two reasons, now and then a
    consented call-back number."""
    reading = Clock("synced").read()
    procedure, field = PROCEDURES[n % 3]
    code = f"000.31.12.H29-{241123 + n % 7}-{n:04d}"
    low = n % 4 == 0
    return contract.Rating(
        id=str(uuid.uuid4()), v=1, kiosk="k01", commune=COMMUNE, counter="q1",
        score=1 if low else 4, scale=4, created_at=reading.wall, clock_synced=True,
        boot_id=reading.boot_id, mono=reading.mono, official="cb-nguyen-thi-thu-hoa",
        reasons=["long-wait", "unclear-guidance"] if low else ["greeted", "helped"],
        dossier=code, procedure=procedure, field=field, transaction=str(uuid.uuid4()),
        contact=contract.Contact(phone="0912345678", consent=True,
                                 consent_text="Tôi đồng ý để UBND xã gọi lại về đánh giá này")
        if n % 10 == 0 else None)


@both_stores
def test_batch_size_at_its_maximum_with_ordinary_ratings(site, procs):
    conf = site.kiosk("k01", extra="\n[sync]\nbatch_size = 1000\n")
    with Outbox(site.folder / "kiosk-k01.db") as outbox:
        for n in range(3000):
            outbox.add(ordinary(n))
        first = outbox.due(1000)
    assert len(contract.encode_batch([r[1].encode() for r in first])) > \
        contract.MAX_BATCH_BYTES  # the old uplink's batch did not fit
    procs(["server", "run", "--config", str(site.server_conf)], site.folder / "server.log")
    procs(["sync", "run", "--config", str(conf)], site.folder / "sync.log")
    wait_until(lambda: kiosk_status(conf)["acked"] == 3000, timeout=90,
               message="3,000 ordinary ratings acked at batch_size = 1000")
    stats = server_stats(site.server_conf)
    assert stats["ratings"] == 3000 and stats["rejected"] == 0


def at_the_limits(n: int) -> contract.Rating:
    """A valid record with every text field at the contract's limit, in the characters
    that take the most bytes on the wire (3-byte UTF-8, escaped quote, control). The
    transaction differs per record: the server keeps one rating per transaction."""
    text = ("ệ\"\x01" * 70)[:200]
    reading = Clock("synced").read()
    return contract.Rating(
        id=str(uuid.uuid4()), v=1, kiosk="k01", commune=COMMUNE, counter="q1", score=1,
        scale=4, created_at=reading.wall, clock_synced=True, boot_id=reading.boot_id,
        mono=reading.mono, official="cb-" + "a" * 60,
        reasons=[f"r{i:02d}" + "x" * 37 for i in range(12)], dossier=text, procedure=text,
        field=text, transaction=(f"{n:06d}" + text)[:200], suspect=None, lang="z" * 40,
        contact=contract.Contact(phone="+" + "9" * 15, consent=True,
                                 consent_text=("ệ\"\x01" * 170)[:500]))


@both_stores
def test_default_batch_size_with_every_text_field_at_its_limit(site, procs):
    conf = site.kiosk("k01")  # batch_size = 250, the default
    with Outbox(site.folder / "kiosk-k01.db") as outbox:
        for n in range(600):
            outbox.add(at_the_limits(n))
        size = len(outbox.due(1)[0][1].encode())
    assert size * 250 > contract.MAX_BATCH_BYTES  # the old uplink's batch did not fit
    procs(["server", "run", "--config", str(site.server_conf)], site.folder / "server.log")
    procs(["sync", "run", "--config", str(conf)], site.folder / "sync.log")
    wait_until(lambda: kiosk_status(conf)["acked"] == 600, timeout=90,
               message="600 records at the contract's limits acked at batch_size = 250")
    stats = server_stats(site.server_conf)
    assert stats["ratings"] == 600 and stats["rejected"] == 0


@both_stores
def test_the_uplink_splits_and_marks_only_what_is_truly_invalid(site, procs):
    conf = site.kiosk("k01", extra="\n[sync]\nstatus_interval = 1\n")
    good = record(conf, 40, seed=3)
    broken_id = str(uuid.uuid4())
    with Outbox(site.folder / "kiosk-k01.db") as outbox:
        # a row whose body is damaged (not JSON): it spoils every message it is in
        outbox.add(at_the_limits(0))
        outbox.db.execute("UPDATE ratings SET id = ?, body = ? WHERE id = (SELECT id FROM "
                          "ratings ORDER BY rowid DESC LIMIT 1)",
                          [broken_id, '{"id":"%s","v":1,"kiosk":' % broken_id])
        outbox.db.conn.commit()
        good += record(conf, 40, seed=4)
    procs(["server", "run", "--config", str(site.server_conf)], site.folder / "server.log")
    procs(["sync", "run", "--config", str(conf)], site.folder / "sync.log")
    wait_until(lambda: kiosk_status(conf)["acked"] == 80, timeout=60,
               message="the 80 good ratings acked around a damaged one")
    status = kiosk_status(conf)
    assert status["rejected"] == 1 and status["pending"] == 0
    assert status["last_rejected_reason"] == "bad-batch"
    assert status["rejected_by_reason"] == {"bad-batch": 1}
    assert status["recent_rejections"][0]["id"] == broken_id
    assert server_stats(site.server_conf)["ratings"] == 80

    def fleet_says():
        db = connect(site.store)
        try:
            rows = {r["id"]: r for r in fleet_view(db)}
        finally:
            db.close()
        k = rows.get("k01", {})
        return k.get("rejected") == 1 and k.get("rejected_reason") == "bad-batch" and k
    row = wait_until(fleet_says, timeout=60, message="the fleet shows the rejection")
    assert row["server_rejected"] >= 1
