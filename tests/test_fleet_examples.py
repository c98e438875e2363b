"""The checked-in examples stay true: config/*.example.toml load, the mosquitto
examples are what the generator makes, and the bridge template really forwards a
commune's ratings to a province broker at QoS 1."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import wait_until
from fleet_site import Client, FleetSite
from hailong.broker import LocalBroker
from helpers import kiosk_status, record

ROOT = Path(__file__).resolve().parent.parent


def test_example_configs_load():
    from kiosk.config import load_kiosk_config
    from server.fleet_cli import admin_config
    assert load_kiosk_config(ROOT / "config" / "kiosk.example.toml").broker.tls_ca
    server = admin_config(ROOT / "config" / "server.example.toml")
    assert server.broker.username == "hailong.server" and server.fleet.tls_port


def test_mosquitto_examples_are_current():
    sys.path.insert(0, str(ROOT / "config" / "mosquitto"))
    try:
        from render import render
    finally:
        sys.path.pop(0)
    for name, text in render().items():
        assert (ROOT / "config" / "mosquitto" / name).read_text() == text, \
            f"config/mosquitto/{name} is stale: run .venv/bin/python config/mosquitto/render.py"


def test_bridge_template_forwards_ratings_at_qos1(tmp_path, procs):
    with LocalBroker(tmp_path / "province") as province, FleetSite(tmp_path / "commune") as site:
        listener = Client(province.port, client_id="province-store")
        listener.subscribe("hailong/v1/+/+/ratings")
        lines = []
        for line in (site.broker_dir / "bridge-province.conf.example").read_text().splitlines():
            if line.startswith("address "):
                line = f"address 127.0.0.1:{province.port}"
            if line.startswith(("remote_username", "remote_password", "bridge_cafile")):
                continue  # the test's province broker is anonymous and plain
            lines.append(line)
        (site.broker_dir / "conf.d" / "bridge-province.conf").write_text("\n".join(lines))
        site.broker.restart()
        wait_until(lambda: "Connecting bridge" in site.broker.log_path.read_text(),
                   message="bridge connecting")

        kiosk = site.add_kiosk("k01")
        site.reload()
        procs(["server", "run", "--config", str(site.server_conf)], tmp_path / "server.log")
        record(kiosk, 20, seed=3)
        procs(["sync", "run", "--config", str(kiosk)], tmp_path / "sync.log")
        wait_until(lambda: kiosk_status(kiosk)["acked"] == 20, message="acked at the commune")
        wait_until(lambda: listener.messages, message="ratings forwarded to the province")
        assert all("/xa-fleet/k01/ratings" in t for t, _ in listener.messages)
        assert set(listener.qos) == {1}   # QoS 1 across the bridge, not its default 0
        listener.close()
