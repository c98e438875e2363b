"""Issue 11: every broker fault says what it is and where, at a bounded rate, in the log
and in the outbox; a kiosk id that is not its account is refused at start; two devices
with one identity are named; the doctor does not throw the live uplink off."""

from __future__ import annotations

import json
import re
import time

from conftest import wait_until
from fleet_site import FleetSite
from hailong.broker import free_port
from helpers import hailong, kiosk_status

FAST_FAULTS = "[sync]\nfault_log_every = 3\n"


def log_lines(proc, pattern: str) -> list[str]:
    text = proc.log.read_text(errors="replace") if proc.log.exists() else ""
    return [line for line in text.splitlines() if re.search(pattern, line)]


def assert_logged_and_repeated(proc, pattern: str, where: str) -> None:
    """Within 10 s a line with the cause and host:port; then again, at most every 3 s."""
    start = time.monotonic()
    first = wait_until(lambda: log_lines(proc, pattern), timeout=10,
                       message=f"{pattern!r} logged")
    assert where in first[0], first[0]
    wait_until(lambda: len(log_lines(proc, pattern)) >= 2, timeout=20,
               message=f"{pattern!r} logged again while the fault lasts")
    time.sleep(4)
    elapsed = time.monotonic() - start
    assert len(log_lines(proc, pattern)) <= elapsed / 3 + 2, "logged faster than bounded"


def test_closed_port_is_logged_with_cause_and_place(site, procs, tmp_path):
    port = free_port()  # nothing listens there
    conf = site.kiosk("k01", extra=FAST_FAULTS)
    conf.write_text(conf.read_text().replace(f"port = {site_port(conf)}", f"port = {port}"))
    proc = procs(["sync", "run", "--config", str(conf)], tmp_path / "sync.log")
    assert_logged_and_repeated(proc, "refused the connection", f"127.0.0.1:{port}")
    # where the technician looks: kiosk status (and the menu and the doctor read the same)
    status = kiosk_status(conf)
    assert not status["link"]["connected"]
    assert f"127.0.0.1:{port}" in status["link"]["error"]
    text = hailong("kiosk", "status", "--config", str(conf)).stdout
    assert "NOT connected" in text and "refused the connection" in text


def site_port(conf) -> int:
    return int(re.search(r"port = (\d+)", conf.read_text()).group(1))


def test_wrong_password_is_logged_as_authorisation(tmp_path, procs):
    with FleetSite(tmp_path) as site:
        conf = site.add_kiosk("k01")
        site.reload()
        text = conf.read_text()
        conf.write_text(re.sub(r'password = "[^"]*"', 'password = "wrong"', text)
                        .replace("[sync]", "[sync-old]") + "\n" + FAST_FAULTS)
        proc = procs(["sync", "run", "--config", str(conf)], tmp_path / "sync.log")
        assert_logged_and_repeated(proc, "refused user 'k01'", f"127.0.0.1:{site.port}")
        assert "wrong password" in log_lines(proc, "refused user")[0]


def test_tls_name_mismatch_names_both_names(tmp_path, procs):
    with FleetSite(tmp_path, tls=True, extra='tls_names = ["broker.example"]') as site:
        conf = site.add_kiosk("k01", "q1", "--broker-host", "broker.example")
        site.reload()
        # the server's address changed and the technician typed the new one in by hand
        conf.write_text(conf.read_text().replace('host = "broker.example"',
                                                 'host = "127.0.0.1"') + "\n" + FAST_FAULTS)
        proc = procs(["sync", "run", "--config", str(conf)], tmp_path / "sync.log")
        assert_logged_and_repeated(proc, "certificate verify failed",
                                   f"127.0.0.1:{site.tls_port}")
        line = log_lines(proc, "certificate verify failed")[0]
        assert "'127.0.0.1'" in line and "broker.example" in line, line


def test_kiosk_id_not_its_account_is_refused_at_start(site):
    conf = site.kiosk("k1")
    conf.write_text(conf.read_text().replace('username = ""', 'username = "k01"'))
    for part in (["sync", "run"], ["kiosk", "run", "--headless"]):
        r = hailong(*part, "--config", str(conf), check=False)
        assert r.returncode == 1 and "Traceback" not in r.stderr
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "'k1'" in lines[0] and "'k01'" in lines[0], r.stderr


def test_doctor_beside_a_live_uplink_does_not_throw_it_off(tmp_path, procs):
    with FleetSite(tmp_path) as site:
        conf = site.add_kiosk("k01")
        site.reload()
        uplink = procs(["sync", "run", "--config", str(conf)], tmp_path / "sync.log")
        uplink.wait_for_log("connected to broker", timeout=20)
        r = hailong("kiosk", "doctor", "--config", str(conf), "--json", check=False)
        broker = next(c for c in json.loads(r.stdout)["checks"] if c["name"] == "broker")
        assert broker["status"] == "ok" and "running uplink" in broker["detail"], broker
        time.sleep(3)
        assert not log_lines(uplink, "lost the connection|disconnect"), \
            uplink.log.read_text()
        uplink.stop()
        # with no uplink running the doctor looks at the broker itself
        r = hailong("kiosk", "doctor", "--config", str(conf), "--json", check=False)
        broker = next(c for c in json.loads(r.stdout)["checks"] if c["name"] == "broker")
        assert broker["status"] == "ok" and "connected to" in broker["detail"], broker


def test_two_devices_with_one_identity_are_named(site, procs, tmp_path):
    from server.followup.alerts import listing
    from server.ingest.store import connect

    server = procs(["server", "run", "--config", str(site.server_conf)],
                   tmp_path / "server.log")
    server.wait_for_log("ingest subscribed")
    conf = site.kiosk("k01")
    twin = tmp_path / "twin" / "kiosk.toml"  # the same bundle on a second Pi
    twin.parent.mkdir()
    twin.write_text(conf.read_text().replace(str(tmp_path / "kiosk-k01.db"),
                                             str(twin.parent / "outbox.db")))
    procs(["sync", "run", "--config", str(conf)], tmp_path / "sync-a.log")
    procs(["sync", "run", "--config", str(twin)], tmp_path / "sync-b.log")

    def fleet_row():
        rows = json.loads(hailong("server", "fleet", "--config", str(site.server_conf),
                                  "--json").stdout)
        return next((r for r in rows if r["id"] == "k01" and r["duplicate"]), None)
    row = wait_until(fleet_row, timeout=60, interval=1, message="fleet names the duplicate")
    assert "2 devices use kiosk identity k01" in row["duplicate"]
    text = hailong("server", "fleet", "--config", str(site.server_conf)).stdout
    assert "2 devices use kiosk identity k01" in text

    def alert():
        db = connect(tmp_path / "server.db")
        try:
            return [a for a in listing(db.conn) if a["kind"] == "kiosk-duplicate"]
        finally:
            db.close()
    found = wait_until(alert, timeout=30, interval=1, message="a duplicate alert")
    assert "k01" in found[0]["message"]

    def doctor_says():  # on either Pi, the doctor names the cause too
        r = hailong("kiosk", "doctor", "--config", str(twin), "--json", check=False)
        broker = next(c for c in json.loads(r.stdout)["checks"] if c["name"] == "broker")
        return broker["status"] == "fail" and "another device" in broker["detail"]
    wait_until(doctor_says, timeout=30, interval=1, message="the doctor names the duplicate")
