"""The checked-in examples stay true: config/*.example.toml load, the mosquitto
examples are what the generator makes, and no bridge forwards raw ratings to the
province (issue 12)."""

from __future__ import annotations

import sys
from pathlib import Path

from fleet_site import FleetSite
from helpers import hailong

ROOT = Path(__file__).resolve().parent.parent


def test_example_configs_load():
    from kiosk.config import load_kiosk_config
    from server.fleet.fleet_cli import admin_config
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


def test_broker_folder_has_no_bridge_forwarding_raw_ratings(tmp_path):
    """Issue 12: the bridge template forwarded whole rating messages, call-back numbers
    included, to the province. broker-config writes none and removes an old copy; the
    server's forwarder (server/ingest/forward.py, tests/test_province.py) replaces it."""
    site = FleetSite(tmp_path / "commune")  # runs broker-config; no broker needed
    old = site.broker_dir / "bridge-province.conf.example"
    assert not old.exists()
    assert not any("bridge" in p.name for p in site.broker_dir.rglob("*"))
    old.write_text("topic hailong/v1/xa-fleet/+/ratings out 1\n")
    hailong("server", "broker-config", "--config", str(site.server_conf),
            "--out", str(site.broker_dir))
    assert not old.exists()
