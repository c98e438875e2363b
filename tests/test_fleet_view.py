"""The fleet view joins enrolment and health: one row per kiosk, revoked ones never
shown online, clock skew from the last ack as well as from the status."""

from __future__ import annotations

from helpers import both_stores
from server.fleet.kiosks import Fleet, fleet_view
from server.ingest.store import Store
from sync import contract


@both_stores
def test_fleet_view_rows(tmp_path, server_store):
    with Store(server_store) as store:
        fleet = Fleet(store.db, "xa")
        fleet.enrol("k01", "q1")
        fleet.enrol("k02", "q2")
        fleet.enrol("k03", "q3")
        now = 1_800_000_000.0
        with store.db.atomic():
            store.record_status("xa", "k01", contract.Status(
                v=1, online=True, kiosk="k01", version="0.1.0", at=now + 2.0, backlog=3,
                last_ack_server_time=now - 10.0, last_ack_at=now - 7.5), received_at=now)
            store.record_status("xa", "k02", contract.Status(
                v=1, online=True, kiosk="k02", at=now), received_at=now)
            store.record_status("xa", "k09", contract.Status(
                v=1, online=False, kiosk="k09"), received_at=now)   # heard, never enrolled
        fleet.revoke("k02")
        rows = {r["id"]: r for r in fleet_view(store.db, now=now + 30)}
    assert list(rows) == ["k01", "k02", "k03", "k09"]
    k01 = rows["k01"]
    assert k01["online"] and k01["counter"] == "q1" and k01["backlog"] == 3
    assert k01["clock_skew"] == 2.0 and k01["ack_clock_skew"] == 2.5 and k01["age_s"] == 30
    assert rows["k02"]["revoked"] and not rows["k02"]["online"]
    assert rows["k03"]["enrolled"] and rows["k03"]["last_seen"] is None
    assert not rows["k09"]["enrolled"] and not rows["k09"]["online"]
