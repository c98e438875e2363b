"""End to end: kiosk outbox -> uplink -> mosquitto -> ingest -> store, none lost,
none counted twice, with real processes."""

from __future__ import annotations

from conftest import wait_until
from helpers import both_stores, kiosk_status, record, server_ids, server_stats


@both_stores
def test_three_kiosks_thousand_each(site, procs):
    confs = [site.kiosk(k) for k in ("k01", "k02", "k03")]
    made = {k: set(record(c, 1000, seed=i)) for i, (k, c) in enumerate(
        zip(("k01", "k02", "k03"), confs))}
    procs(["server", "run", "--config", str(site.server_conf)], site.folder / "server.log")
    for c in confs:
        procs(["sync", "run", "--config", str(c)], site.folder / f"{c.stem}.log")
    wait_until(lambda: all(kiosk_status(c)["acked"] == 1000 for c in confs), timeout=60,
               message="all kiosks acked")
    stats = server_stats(site.server_conf)
    assert stats["ratings"] == 3000 == stats["distinct_ids"]
    assert stats["by_kiosk"] == {"k01": 1000, "k02": 1000, "k03": 1000}
    ids = server_ids(site.store)
    assert set(ids) == made["k01"] | made["k02"] | made["k03"]
    assert all(kiosk_status(c)["pending"] == 0 for c in confs)
