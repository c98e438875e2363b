"""One rating per transaction on the server (issue 9): a second rating of a rated
transaction is rejected (``duplicate-transaction``) and counted, while a re-sent copy
of a stored rating is still acked as stored; ``server stats`` counts ratings with a
dossier and suspect ones."""

from __future__ import annotations

import json
import time
import uuid

from server.ingest.store import Store, stats

from dashboard_support import load, rating
from helpers import both_stores


def with_tx(raw: bytes, transaction: str | None, **changes) -> bytes:
    record = json.loads(raw)
    record["transaction"] = transaction
    record.update(changes)
    return json.dumps(record).encode()


def add(store: Store, raws: list[bytes], kiosk: str = "k01"):
    with store.db.atomic():
        return store.add_ratings("xa-test", kiosk, raws, time.time())


@both_stores
def test_second_rating_of_a_transaction_is_rejected(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    first = with_tx(rating(4), "tx-1")
    second = with_tx(rating(1), "tx-1")
    with Store(config.store) as store:
        r1 = add(store, [first])
        assert r1.stored == [json.loads(first)["id"]] and not r1.rejected
        r2 = add(store, [second])
        assert r2.stored == [] and [(x.id, x.reason) for x in r2.rejected] == [
            (json.loads(second)["id"], "duplicate-transaction")]
        assert r2.new == []  # no case, no alert, no figure for it
        # a re-send of the stored one is still a plain re-send: acked as stored
        r3 = add(store, [first])
        assert r3.stored == [json.loads(first)["id"]] and not r3.rejected and not r3.new
        # another kiosk cannot rate the transaction again either
        r4 = add(store, [with_tx(rating(2, kiosk="k02"), "tx-1")], kiosk="k02")
        assert r4.rejected[0].reason == "duplicate-transaction"
        figures = stats(store.db)
    assert figures["ratings"] == 1
    assert figures["rejected_by_reason"] == {"duplicate-transaction": 2}


@both_stores
def test_two_ratings_of_one_transaction_in_one_batch(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    a, b = with_tx(rating(4), "tx-9"), with_tx(rating(3), "tx-9")
    other = with_tx(rating(3), "tx-10")
    plain = [rating(2, dossier=None), rating(2, dossier=None)]  # no transaction: no limit
    with Store(config.store) as store:
        result = add(store, [a, b, other, *plain])
        assert result.stored == [json.loads(x)["id"] for x in (a, other, *plain)]
        assert [x.reason for x in result.rejected] == ["duplicate-transaction"]


@both_stores
def test_stats_count_dossiers_and_suspects(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    with Store(config.store) as store:
        add(store, [rating(4), rating(3, dossier=None), rating(1, suspect="too-fast"),
                    with_tx(rating(4), None, id=str(uuid.uuid4()), dossier="")])
        figures = stats(store.db)
    assert figures["with_dossier"] == 2
    assert figures["suspect"] == 1
    assert figures["ratings"] == 4
