"""Helpers for the transaction-feed tests (issue 9): a spy subscribed on the real
broker to every kiosk's session topic, and a server store with enrolled kiosks and a
roster."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt

from server.fleet.kiosks import Fleet
from server.fleet.roster import Roster
from server.ingest.store import connect
from sync import contract


class SessionSpy:
    """Subscribes (QoS 1) to ``hailong/v1/{commune}/+/session`` and keeps what arrives:
    the only way to prove that a refused request published nothing."""

    def __init__(self, port: int, commune: str):
        self.messages: list[tuple[str, bytes, bool, float]] = []  # topic, body, retain, at
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"spy-{time.monotonic_ns()}")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(
            contract.subscription(commune, "session"), qos=1)
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = lambda c, u, m: self.messages.append(
            (m.topic, m.payload, bool(m.retain), time.monotonic()))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "spy did not subscribe"

    def sessions(self) -> list[contract.Session]:
        return [contract.decode_session(body) for _, body, _, _ in self.messages]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[contract.Session]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.sessions()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def prepare_site(store_path, commune: str) -> None:
    """k01 at q1, k02 at q2, k03 also at q2; officials cb-an and cb-binh."""
    db = connect(store_path)
    try:
        fleet = Fleet(db, commune)
        fleet.enrol("k01", "q1")
        fleet.enrol("k02", "q2")
        roster = Roster(db)
        roster.add_official("cb-an", "Nguyễn Văn An")
        roster.add_official("cb-binh", "Trần Thị Bình")
        roster.set_counter("q1", name="Quầy 1 - Tư pháp")
    finally:
        db.close()
