"""Issue 8 item 8: the technician PIN has an attempt limit with back-off, each failure
is an event the server shows in the fleet and alerts on, and the PIN is set per kiosk
on the server and pushed as a hash, never in clear."""

from __future__ import annotations

import json

from conftest import wait_until
from fleet_site import FleetSite
from helpers import hailong
from sync.outbox import Outbox
from kiosk.pinguard import PinGuard
from kiosk_ui_support import key, make_app
from sync import contract


def try_pin(app, digits: str) -> str:
    key(app, "F12")
    if app.screen.name != "pin":
        return app.screen.name
    for d in digits:
        key(app, d)
    key(app, "RETURN")
    return app.screen.name


def test_wrong_pins_lock_the_keypad_and_are_kept(tmp_path):
    app, clock = make_app(tmp_path, "[flow]\ntech_pin = \"2468\"\n")
    for _ in range(3):
        assert try_pin(app, "1111") == "idle"
    # locked now: even the right PIN does not open the menu, the keypad is not shown
    key(app, "F12")
    assert app.screen.name == "idle"
    events = [e["kind"] for e in app.outbox.db["events"].rows]
    assert events.count("pin-failed") == 3
    # the count survives a restart (the outbox), and the wait grows per failure
    with Outbox(app.outbox.path) as outbox:
        guard = PinGuard(outbox)
        assert 25 < guard.locked_for() <= 30
        later = PinGuard(outbox, now=lambda: guard.now() + 31)
        assert later.locked_for() == 0
        outbox.log_event("pin-failed", "x")
        assert 55 < PinGuard(outbox).locked_for() <= 60  # doubled


def test_server_pin_is_pushed_as_a_hash_and_opens_the_menu(tmp_path):
    app, clock = make_app(tmp_path, "")  # no local PIN: the menu is closed
    key(app, "F12")
    assert app.screen.name == "idle"
    from hailong.pin import hash_pin
    app.outbox.save_config(contract.KioskConfig(v=1, revision=2,
                                                tech_pin_hash=hash_pin("97531")))
    clock.advance(1)
    app.step([])
    assert try_pin(app, "13579") == "idle"
    assert try_pin(app, "97531") == "tech"


def test_set_pin_failures_in_fleet_and_alert(tmp_path, procs):
    with FleetSite(tmp_path, extra="\n[alerts]\npin_failures = 2\n") as site:
        conf = site.add_kiosk("k01")
        site.reload()
        r = hailong("server", "set-pin", "--config", str(site.server_conf), "--kiosk", "k01",
                    check=False)
        assert r.returncode == 1 and "4 to 12 digits" in r.stderr
        r = subprocess_input(["server", "set-pin", "--config", str(site.server_conf),
                              "--kiosk", "k01"], "4321\n")
        assert r.returncode == 0, r.stderr
        server = procs(["server", "run", "--config", str(site.server_conf)],
                       tmp_path / "server.log")
        server.wait_for_log("ingest subscribed")
        from kiosk.config import load_kiosk_config
        store = load_kiosk_config(conf).store.path
        with Outbox(store) as outbox:
            for _ in range(2):
                PinGuard(outbox).failed()
        procs(["sync", "run", "--config", str(conf)], tmp_path / "sync.log")

        def pushed():
            with Outbox(store) as outbox:
                remote = outbox.config()
            return remote if remote and remote.tech_pin_hash else None
        remote = wait_until(pushed, timeout=30, message="the PIN hash pushed")
        assert "4321" not in contract.encode(remote).decode()
        from hailong.pin import verify_pin
        assert verify_pin("4321", remote.tech_pin_hash)

        def fleet_row():
            rows = json.loads(hailong("server", "fleet", "--config", str(site.server_conf),
                                      "--json").stdout)
            return next((r for r in rows if r["id"] == "k01" and r["pin_failures"]), None)
        assert wait_until(fleet_row, timeout=30, interval=1)["pin_failures"] == 2

        def alert():
            from server.followup.alerts import listing
            from server.ingest.store import connect
            db = connect(site.folder / "server.db")
            try:
                return [a for a in listing(db.conn) if a["kind"] == "kiosk-pin"]
            finally:
                db.close()
        assert "k01" in wait_until(alert, timeout=30, interval=1)[0]["message"]


def subprocess_input(args, text):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "hailong", *args], input=text,
                          capture_output=True, text=True, timeout=60)
