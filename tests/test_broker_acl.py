"""The generated broker configuration, run by a real mosquitto: per-kiosk accounts,
ACL, no anonymous access, revocation, TLS with the generated CA."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import time
import uuid

import pytest

from conftest import wait_until
from fleet_site import COMMUNE, SERVER_USER, Client, FleetSite, connect_refused
from helpers import hailong, kiosk_status, record, server_ids, server_stats
from kiosk.config import load_kiosk_config
from server.fleet.kiosks import check_password, hash_password
from sync import contract


def topic(kiosk: str, kind: str) -> str:
    return contract.topic(COMMUNE, kiosk, kind)


def forged_rating(kiosk: str) -> bytes:
    now = time.time()
    rating = contract.Rating(id=str(uuid.uuid4()), v=1, kiosk=kiosk, commune=COMMUNE,
                             counter="q1", score=1, scale=4, created_at=now, clock_synced=True,
                             boot_id=str(uuid.uuid4()), mono=10.0)
    return contract.encode_batch([contract.encode(rating)]), rating.id


def test_hash_is_what_mosquitto_passwd_writes(tmp_path):
    passwd = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "k01", "s3cret"], check=True)
    hashed = passwd.read_text().strip().split(":", 1)[1]
    _, _, iterations, salt, _ = hashed.split("$")
    assert hash_password("s3cret", salt=base64.b64decode(salt),
                         iterations=int(iterations)) == hashed
    assert check_password("s3cret", hashed) and not check_password("other", hashed)


def test_anonymous_wrong_password_and_removed_kiosk_are_refused(tmp_path):
    with FleetSite(tmp_path) as site:
        bundle = site.add_kiosk("k01")
        site.reload()
        conf = load_kiosk_config(bundle)
        assert conf.broker.username == "k01" and len(conf.broker.password) >= 24
        assert oct(bundle.stat().st_mode & 0o777) == "0o600"
        assert conf.broker.password not in (site.broker_dir / "passwd").read_text()

        assert connect_refused(site.port)                                  # anonymous
        assert connect_refused(site.port, "k01", "wrong-password")
        assert connect_refused(site.port, "k99", conf.broker.password)     # not enrolled
        assert not connect_refused(site.port, "k01", conf.broker.password)
        assert not connect_refused(site.port, SERVER_USER, site.server_password)

        live = Client(site.port, "k01", conf.broker.password, client_id="live")
        # revoke, with the broker reloaded by the configured command this time
        site.write_server_conf(f'reload_command = "kill -HUP {site.broker.process.pid}"')
        out = hailong("server", "remove-kiosk", "--config", str(site.server_conf),
                      "--kiosk", "k01").stdout
        assert "reloaded the broker" in out
        wait_until(lambda: connect_refused(site.port, "k01", conf.broker.password),
                   timeout=10, message="removed kiosk refused")
        # a removed kiosk that was connected is thrown off at the reload, not left on
        wait_until(lambda: not live.client.is_connected(), timeout=10,
                   message="connected removed kiosk disconnected")
        live.close()
        # enrolling again issues a new password; the old one stays dead
        again = load_kiosk_config(site.add_kiosk("k01"))
        assert again.broker.password != conf.broker.password
        wait_until(lambda: not connect_refused(site.port, "k01", again.broker.password),
                   timeout=10, message="re-enrolled kiosk accepted")
        assert connect_refused(site.port, "k01", conf.broker.password)


def test_a_kiosk_cannot_speak_for_another_nor_read_its_acks(tmp_path, procs):
    with FleetSite(tmp_path) as site:
        k01 = site.add_kiosk("k01")
        k02 = load_kiosk_config(site.add_kiosk("k02"))
        site.reload()
        procs(["server", "run", "--config", str(site.server_conf)], tmp_path / "server.log")
        wait_until(lambda: "ingest connected" in (tmp_path / "server.log").read_text(),
                   message="server connected")

        # k02 tries to take over the server's session by its client id, listens to
        # every kiosk's acks and config, and publishes as k01
        spy = Client(site.port, "k02", k02.broker.password, client_id=f"hailong-server-{COMMUNE}")
        spy.subscribe(f"hailong/v1/{COMMUNE}/+/acks", topic("k01", "acks"),
                      topic("k01", "config"), f"hailong/v1/{COMMUNE}/#")
        payload, forged_id = forged_rating("k01")
        spy.publish(topic("k01", "ratings"), payload)
        spy.publish(topic("k01", "status"), contract.encode(contract.Status(
            v=1, online=True, kiosk="k01", version="forged", backlog=999)), retain=True)
        spy.publish(topic("k01", "config"), b'{"v":1,"revision":99}', retain=True)
        # then something it may say, so we know the broker has dealt with the rest
        spy.publish(topic("k02", "status"), contract.encode(contract.Status(
            v=1, online=True, kiosk="k02", version="0.1.0")), retain=True)
        wait_until(lambda: "k02" in server_stats(site.server_conf)["kiosks"],
                   message="server heard k02's own status")

        made = set(record(k01, 30, seed=1))
        procs(["sync", "run", "--config", str(k01)], tmp_path / "sync-k01.log")
        wait_until(lambda: kiosk_status(k01)["acked"] == 30, message="k01 acked")
        stats = server_stats(site.server_conf)
        assert stats["ratings"] == 30 and set(server_ids(tmp_path / "server.db")) == made
        assert forged_id not in made
        assert stats["rejected"] == 0          # the broker dropped the forgery: ingest never saw it
        fleet = {r["id"]: r for r in json.loads(hailong(
            "server", "fleet", "--config", str(site.server_conf), "--json").stdout)}
        assert fleet["k01"]["version"] != "forged" and fleet["k01"]["backlog"] != 999
        # k02 heard only what it may: its own config (the server pushes one to every
        # kiosk); nothing of k01's, not even with the wildcards
        wait_until(lambda: spy.messages, message="k02 got its own config")
        assert all(t.startswith(f"hailong/v1/{COMMUNE}/k02/") for t, _ in spy.messages), \
            spy.messages
        # no secret in any log: server, uplink, broker
        secrets = [site.server_password, k02.broker.password,
                   load_kiosk_config(k01).broker.password]
        for log in [*tmp_path.glob("*.log"), site.broker.log_path]:
            text = log.read_text(errors="replace")
            assert not any(secret in text for secret in secrets), log
        # its chosen client id did not take the server's session (the acks above came
        # after it connected): use_username_as_clientid made it plain "k02"
        spy.close()


def test_tls_works_with_the_generated_ca_and_fails_without(tmp_path):
    with FleetSite(tmp_path, tls=True) as site:
        bundle = site.add_kiosk("k01")
        site.reload()
        conf = load_kiosk_config(bundle)
        assert conf.broker.port == site.tls_port and conf.broker.tls_ca.endswith("ca.crt")
        ok = Client(site.tls_port, "k01", conf.broker.password, ca=conf.broker.tls_ca)
        assert not ok.refused
        ok.close()
        with pytest.raises(ssl.SSLCertVerificationError):   # the system CAs do not know it
            Client(site.tls_port, "k01", conf.broker.password, tls=True)
        with pytest.raises(ssl.SSLError):                    # another CA (a stranger's)
            Client(site.tls_port, "k01", conf.broker.password,
                   ca=str(FleetSite(tmp_path / "other", tls=True).broker_dir / "tls" / "ca.crt"))
        # the kiosk's own check (doctor) uses the same settings: its uplink connects
        from sync.uplink import Uplink
        uplink = Uplink(conf)
        try:
            uplink.client.connect(conf.broker.host, conf.broker.port)
            uplink.client.loop_start()
            wait_until(uplink._connected.is_set, timeout=10, message="uplink over TLS")
        finally:
            uplink.close()


def test_broker_config_explains_what_is_missing(tmp_path):
    conf = tmp_path / "server.toml"
    conf.write_text(f'[server]\ncommune = "{COMMUNE}"\n[broker]\nusername = "hailong.server"\n')
    r = hailong("server", "broker-config", "--config", str(conf), "--out",
                str(tmp_path / "b"), check=False)
    assert r.returncode == 1 and "password_file" in r.stderr and "Traceback" not in r.stderr
    conf.write_text(f'[server]\ncommune = "{COMMUNE}"\n[broker]\nusername = "server"\n'
                    'password_file = "pw"\n')
    r = hailong("server", "broker-config", "--config", str(conf), "--out",
                str(tmp_path / "b"), check=False)
    assert r.returncode == 1 and "could also be a kiosk id" in r.stderr


def test_broker_check_for_the_doctor_names_each_problem(tmp_path):
    from hailong.broker import free_port
    from hailong.settings import Section
    from kiosk.brokercheck import check_broker

    with FleetSite(tmp_path, tls=True) as site:
        conf = load_kiosk_config(site.add_kiosk("k01"))
        site.reload()
        b = dict(conf.broker)

        def check(**changes):
            return check_broker(Section("broker", {**b, **changes}), timeout=3)
        assert check().ok and "over TLS" in check().detail
        assert "refused user 'k01'" in check(password="wrong").detail
        assert "does not exist" in check(tls_ca=str(tmp_path / "nope.crt")).detail
        other = FleetSite(tmp_path / "other", tls=True).broker_dir / "tls" / "ca.crt"
        assert "does not vouch" in check(tls_ca=str(other)).detail
        assert "no MQTT answer" in check(tls_ca="").detail        # plain MQTT to the TLS port
        assert "TLS handshake" in check(port=site.port).detail    # TLS to the plain port
        assert "cannot reach" in check(port=free_port()).detail
