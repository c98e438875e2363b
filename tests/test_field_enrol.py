"""Issue 11: add-kiosk checks the broker host against the TLS certificate's names, and
a failed broker reload is reported as that, not as a failed enrolment."""

from __future__ import annotations

from fleet_site import FleetSite
from helpers import hailong


def add(site, *args):
    return hailong("server", "add-kiosk", "--config", str(site.server_conf), "--kiosk", "k01",
                   "--counter", "q1", "--out", str(site.folder / "bundle-k01"), *args,
                   check=False)


def test_broker_host_outside_the_certificate_is_refused(tmp_path):
    site = FleetSite(tmp_path, tls=True, extra='tls_names = ["broker.example", "10.0.0.5"]')
    r = add(site, "--broker-host", "10.0.0.9")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "does not cover '10.0.0.9'" in r.stderr and "broker.example, 10.0.0.5" in r.stderr
    assert not (tmp_path / "bundle-k01").exists()
    r = add(site, "--broker-host", "10.0.0.5")
    assert r.returncode == 0, r.stderr
    r = add(site, "--broker-host", "0.0.0.0")
    assert "--broker-host '0.0.0.0' is not an address" in r.stderr
    assert "say --broker-host" not in r.stderr


def test_failed_reload_is_not_a_failed_enrolment(tmp_path):
    site = FleetSite(tmp_path)
    site.write_server_conf('reload_command = "false"')
    r = add(site)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "k01 is enrolled and its bundle written" in r.stderr
    assert "broker was not reloaded" in r.stderr
    assert (tmp_path / "bundle-k01" / "kiosk.toml").exists()
    assert "k01" in (tmp_path / "broker" / "passwd").read_text()
