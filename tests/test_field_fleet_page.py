"""Issue 11 / issue 8 item 8: the dashboard's fleet page names two devices with one
identity and shows wrong technician PINs (fed through the real store code)."""

from __future__ import annotations

import time

from dashboard_support import add_users, load, login
from hailong.database import immediate
from server.ingest.store import Store
from server.web import create_app
from sync import contract


def test_fleet_page_shows_duplicate_and_pin_failures(tmp_path):
    config = load(tmp_path)
    add_users(config)
    now = time.time()
    with Store(config.store) as store:
        with immediate(store.db):
            for i, instance in enumerate(["aaaa", "bbbb"] * 3):  # the two take turns
                store.record_status("xa-test", "k01", contract.Status(
                    v=1, online=True, kiosk="k01", at=now, instance=instance,
                    pin_failures=4), now - 30 + i)
    client = create_app(config).test_client()
    login(client, "technician")
    page = client.get("/fleet").get_data(as_text=True)
    assert "2 devices use kiosk identity k01" in page and "aaaa, bbbb" in page
    assert "PIN ✗ 4" in page


def test_a_replaced_pi_is_not_a_duplicate(tmp_path):
    from server.ingest import identity
    from server.ingest.store import connect
    db = connect(tmp_path / "s.db")
    try:
        conn, now = db.conn, time.time()
        with immediate(db):
            for t in range(0, 120, 30):            # the old card
                identity.note_status(conn, "k01", "old", True, now - 600 + t)
            identity.note_status(conn, "k01", "old", False, now - 100)  # its late will
            for t in range(0, 90, 30):             # the new card
                identity.note_status(conn, "k01", "new", True, now - 90 + t)
        assert identity.duplicates(conn, now) == {}
        with immediate(db):                        # but two that take turns are named
            for t, inst in enumerate(["old", "new", "old", "new"]):
                identity.note_status(conn, "k01", inst, True, now + t)
        assert "2 devices" in identity.duplicates(conn, now + 5)["k01"]
    finally:
        db.close()
