"""Issue 12: "PostgreSQL restarted → still exactly N" at the province. Three communes
forward through a real province broker to a province server whose PostgreSQL (a private
cluster: the machine's own is shared) is restarted mid-ingest, once cleanly (``-m fast``)
and once as a crash (``-m immediate``). The province server keeps running through both:
its pool reconnects, a batch that failed is not acked, so its commune sends it again."""

from __future__ import annotations

import psycopg
import pytest

from conftest import wait_until
from hailong.broker import free_port
import province_support
from province_support import fill_commune, province_broker, province_toml
from test_province import backlog, commune_conf, enrol, province_stats

pytestmark = pytest.mark.slow

private_pg = province_support.private_pg   # the fixture, a private cluster

PER_COMMUNE = 1000


def test_postgresql_restarted_and_crashed_mid_ingest(tmp_path, broker, private_pg, procs):
    with psycopg.connect(private_pg.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE hailong_province")
    url = private_pg.url.rsplit("/", 1)[0] + "/hailong_province"
    pport = free_port()
    pconf = province_toml(tmp_path, url, pport)
    communes = ["xa-an", "xa-binh", "xa-cuong"]
    passwords = {c: enrol(pconf, c) for c in communes}

    def held() -> int:  # a connection of its own each time: the server goes away
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                return conn.execute("SELECT count(*) FROM ratings").fetchone()[0]
        except psycopg.OperationalError:
            return -1

    with province_broker(tmp_path, pport):
        confs = {}
        for seed, c in enumerate(communes, 1):
            # small batches, two in flight: each restart lands mid-stream
            confs[c] = commune_conf(tmp_path, c, broker.port, pport, passwords[c],
                                    batch=20, window=2)
            assert fill_commune(confs[c][1], c, PER_COMMUNE, seed=seed) == PER_COMMUNE
        prov = procs(["province", "run", "--config", str(pconf)], tmp_path / "province.log")
        prov.wait_for_log("province ingest subscribed")
        for c in communes:
            procs(["server", "run", "--config", str(confs[c][0])], tmp_path / f"{c}.log")
        total = PER_COMMUNE * len(communes)
        marks = []
        for at, mode in ((total // 5, "fast"), (total // 2, "immediate")):
            wait_until(lambda: held() >= at, timeout=60, interval=0.02,
                       message=f"{at} ratings at the province before the {mode} restart")
            private_pg.restart(mode)
            marks.append(held())
            assert prov.alive(), f"the province server died when PostgreSQL restarted ({mode})"
        assert 0 < marks[0] < marks[1] < total, marks   # both landed mid-ingest
        wait_until(lambda: all(backlog(confs[c][1]) == 0 for c in communes), timeout=90,
                   interval=0.5, message="every commune's backlog acked")
        assert prov.alive(), "the province server died"   # the same process, throughout
        figures = province_stats(pconf)
        assert figures["ratings"] == total and figures["distinct_ids"] == total, figures
        assert figures["by_commune"] == {c: PER_COMMUNE for c in communes}
        assert figures["contacts"] == 0


def test_pool_hands_out_no_dead_connection_after_a_restart(private_pg):
    """After PostgreSQL restarts, every connection the pool held is dead: without a
    check on checkout each was handed out once more and failed, up to ``pool_size``
    failed ingest batches (each re-sent only after its commune's ack timeout) and as
    many dashboard requests answered 500."""
    from province import store
    pool = store.connect(private_pg.url, 4)
    try:
        held = [pool.getconn() for _ in range(4)]   # ingest and dashboard at once
        for conn in held:
            conn.execute("SELECT 1")
            conn.rollback()
            pool.putconn(conn)
        for mode in ("fast", "immediate"):
            private_pg.restart(mode)
            for _ in range(6):
                with pool.connection() as conn:
                    assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        pool.close()
