"""Test helpers for the fleet tests: a commune whose broker runs the configuration
``hailong server broker-config`` generates (no anonymous access, per-kiosk accounts,
ACL), kiosks enrolled with ``hailong server add-kiosk``, and plain paho clients."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import paho.mqtt.client as mqtt

from conftest import wait_until
from hailong.broker import LocalBroker, free_port
from helpers import hailong

COMMUNE = "xa-fleet"
SERVER_USER = "hailong.server"


class FleetSite:
    """Server config + generated broker folder + running mosquitto (``with`` it)."""

    def __init__(self, folder: Path, *, tls: bool = False, web_port: int | None = None,
                 extra: str = ""):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.web_port = web_port or free_port()
        self.server_conf = folder / "server.toml"
        self.extra = extra
        self.write_server_conf()
        self.broker_dir = folder / "broker"
        hailong("server", "broker-config", "--config", str(self.server_conf),
                "--out", str(self.broker_dir))
        self.broker = LocalBroker(self.broker_dir, port=self.port,
                                  conf=(self.broker_dir / "mosquitto.conf").read_text())

    def write_server_conf(self, fleet_extra: str = "") -> None:
        self.server_conf.write_text(
            f'[server]\ncommune = "{COMMUNE}"\n\n[store]\npath = "server.db"\n\n'
            f'[broker]\nhost = "127.0.0.1"\nport = {self.port}\n'
            f'username = "{SERVER_USER}"\npassword_file = "secrets/broker-password"\n\n'
            f'[web]\nhost = "127.0.0.1"\nport = {self.web_port}\n\n'
            f'[fleet]\ntls_port = {self.tls_port}\npush_interval = 0.2\n{fleet_extra}\n'
            f'{self.extra}')

    @property
    def server_password(self) -> str:
        return (self.folder / "secrets" / "broker-password").read_text().strip()

    def __enter__(self) -> FleetSite:
        self.broker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.broker.stop()

    def add_kiosk(self, kiosk: str, counter: str = "q1", *args: str) -> Path:
        out = self.folder / f"bundle-{kiosk}"
        hailong("server", "add-kiosk", "--config", str(self.server_conf), "--kiosk", kiosk,
                "--counter", counter, "--out", str(out), *args)
        return out / "kiosk.toml"

    def reload(self) -> None:
        """SIGHUP: mosquitto rereads the password and ACL files (wait until it did)."""
        log = self.broker.log_path
        before = log.read_text(errors="replace").count("Reloading config")
        self.broker.process.send_signal(signal.SIGHUP)
        wait_until(lambda: log.read_text(errors="replace").count("Reloading config") > before,
                   timeout=10, message="mosquitto reloaded")


class Client:
    """A paho client for poking at the broker; ``refused`` says why CONNECT failed."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None,
                 *, client_id: str = "probe", ca: str | None = None, tls: bool = False):
        self.messages: list[tuple[str, bytes]] = []
        self.suback: list = []
        self._connack = threading.Event()
        self.reason = None
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv311)
        if username is not None:
            self.client.username_pw_set(username, password)
        if ca or tls:
            self.client.tls_set(ca_certs=ca)
        self.client.on_connect = self._on_connect
        self.qos: list[int] = []
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.suback.extend(codes)
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        if not self._connack.wait(10):
            self.close()
            raise AssertionError("no CONNACK within 10 s")

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.reason = reason_code
        self._connack.set()
        if reason_code.is_failure:
            client.disconnect()  # do not retry: the test wants the refusal

    def _on_message(self, client, userdata, message):
        self.messages.append((message.topic, message.payload))
        self.qos.append(message.qos)

    @property
    def refused(self) -> bool:
        return self.reason.is_failure

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)

    def subscribe(self, *topics: str) -> None:
        self.client.subscribe([(t, 1) for t in topics])
        wait_until(lambda: len(self.suback) >= len(topics), timeout=10, message="SUBACK")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect_refused(port: int, *args, **kw) -> bool:
    c = Client(port, *args, **kw)
    try:
        return c.refused
    finally:
        c.close()
