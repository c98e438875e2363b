"""Burst: 10 kiosks x 2,000 ratings released at once -> 20,000 stored once, through a
broker whose queue limit (100) is far below the burst."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import wait_until
from helpers import both_stores, kiosk_status, outbox_ids, record, server_ids, server_stats

KIOSKS = [f"k{n:02d}" for n in range(1, 11)]


@pytest.mark.slow
@both_stores
def test_ten_kiosks_burst(site, procs):
    confs = [site.kiosk(k) for k in KIOSKS]
    with ThreadPoolExecutor(len(confs)) as pool:  # fsync releases the GIL
        list(pool.map(lambda ic: record(ic[1], 2000, seed=ic[0]), enumerate(confs)))
    procs(["server", "run", "--config", str(site.server_conf)], site.folder / "server.log")
    for c in confs:  # released at once
        procs(["sync", "run", "--config", str(c)], site.folder / f"{c.stem}.log")
    wait_until(lambda: all(kiosk_status(c)["pending"] == 0 for c in confs), timeout=180,
               interval=0.5, message="all 20,000 acked")
    stats = server_stats(site.server_conf)
    assert stats["ratings"] == stats["distinct_ids"] == 20_000
    assert stats["by_kiosk"] == {k: 2000 for k in KIOSKS}
    made = set().union(*(outbox_ids(c) for c in confs))
    assert set(server_ids(site.store)) == made
