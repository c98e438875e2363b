"""Ingest: MQTT -> store, then ack.

paho's network thread only queues what arrives. One writer thread takes up to
``max_batch_messages`` messages at a time, validates and stores them in one
transaction, commits, and only then publishes each kiosk's ack. A crash before the
commit leaves no ack, so the kiosk sends again; a duplicate is a no-op. Bad input is
rejected with a reason and counted; nothing a kiosk sends can stop the writer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from sync import contract, timerules
from sync.faults import LinkWatch
from sync.mqtt import make_client

from hailong.database import immediate

from server.ingest import clock
from server.ingest.door import Door
from server.ingest.store import BatchResult, Store

log = logging.getLogger(__name__)

Listener = Callable[[list[contract.Rating]], None]


class Ingest:
    def __init__(self, config, *, on_new_ratings: Listener | None = None):
        self.config = config
        self.commune = config.server.commune
        self.store = Store(config.store)
        self.store.door = Door.from_config(config)  # the server decides what it can know
        self.on_new_ratings = on_new_ratings
        self._inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker holds our QoS 1 subscriptions
        self.last_error: str | None = None
        self.client = make_client(config.broker, f"hailong-server-{self.commune}")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda c, u, m: self._inbox.put((m.topic, m.payload, time.time()))
        # a failed connect or a lost connection: its cause and host:port, once a minute
        # while it lasts (issue 11)
        self.watch = LinkWatch(self.client, config.broker, name="ingest")

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self.watch.refused(reason_code)
            self.last_error = self.watch.fault
            return
        self.watch.connected()
        client.subscribe([(contract.subscription(self.commune, "ratings"), 1),
                          (contract.subscription(self.commune, "status"), 1)])
        self.last_error = None
        self.connected.set()
        log.info("ingest connected to %s:%s", self.config.broker.host, self.config.broker.port)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.subscribed.set()
        log.info("ingest subscribed: %s", ", ".join(str(c) for c in reason_codes))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        if reason_code.is_failure:
            self.watch.lost(reason_code)
            self.last_error = self.watch.fault

    def start(self) -> None:
        broker = self.config.broker
        self.client.connect_async(broker.host, broker.port, keepalive=broker.keepalive)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._write_loop, name="ingest-writer",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()
        self.store.close()

    def __enter__(self) -> Ingest:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- the writer thread ----------------------------------------------------------------

    def _write_loop(self) -> None:
        limit = self.config.ingest.max_batch_messages
        more_to_place, placed_at = True, 0.0
        while not self._stop.is_set():
            try:  # a short gap between a kiosk's batches is not idleness: wait a little
                first = self._inbox.get(timeout=0.02 if more_to_place else 0.2)
            except queue.Empty:  # idle: time to re-place rows in time, a chunk at a time
                more_to_place, placed_at = self._place(), time.monotonic()
                continue
            messages = [first]
            while len(messages) < limit:
                try:
                    messages.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            try:
                self.handle(messages)
            except Exception:  # never let one bad moment stop ingest; kiosks re-send
                self.store.anchors.clear()  # it may hold evidence from the rolled-back batch
                log.exception("ingest failed on %d message(s); they will be re-sent",
                              len(messages))
                time.sleep(1)
            if time.monotonic() - placed_at >= clock.PLACE_EVERY:  # busy: a chunk now and then
                more_to_place, placed_at = self._place(), time.monotonic()

    def _place(self) -> bool:
        """One bounded chunk of re-placement (server/ingest/clock.py), in its own short
        transaction so no ack waits behind a whole boot's rows. True if more is due."""
        try:
            if not clock.placement_due(self.store.db.conn, any_=True):  # a read, no lock
                return False
            with immediate(self.store.db):
                return bool(self.store.place_some())
        except Exception:
            self.store.anchors.clear()
            log.exception("re-placing ratings in time failed; will try again")
            return False

    def handle(self, messages: list[tuple[str, bytes, float]]) -> list[BatchResult]:
        """Store a group of messages in one transaction, then ack each ratings batch."""
        acks: list[tuple[str, BatchResult]] = []
        if not timerules.server_clock_ok(time.time()):
            # Every time rule is judged against this clock: with it wrong, a valid record
            # would be refused for good. Ack nothing; the kiosks send again later.
            log.error("the server's clock is not plausible (%s): %d message(s) left unacked;"
                      " fix the clock (NTP)", time.time(), len(messages))
            return []
        with immediate(self.store.db):
            for topic_name, payload, received_at in messages:
                result = self._one(topic_name, payload, received_at)
                if result is not None:
                    acks.append((topic_name, result))
        now = time.time()
        for topic_name, result in acks:  # only after the commit above
            commune, kiosk, _ = contract.parse_topic(topic_name)
            ack = contract.Ack(v=1, stored=result.stored, rejected=result.rejected,
                               server_time=now, batch=result.batch,
                               batch_reason=result.batch_reason)
            self.client.publish(contract.topic(commune, kiosk, "acks"),
                                contract.encode(ack), qos=1)
        new = [r for _, result in acks for r in result.new]
        if new and self.on_new_ratings:
            try:
                self.on_new_ratings(new)
            except Exception:
                log.exception("a listener failed on new ratings")
        return [result for _, result in acks]

    def _one(self, topic_name: str, payload: bytes, received_at: float) -> BatchResult | None:
        try:
            commune, kiosk, kind = contract.parse_topic(topic_name)
        except contract.ContractError as e:
            self.store.reject(None, e.reason, e.detail)
            return None
        if commune != self.commune or not contract.valid_id(kiosk):
            self.store.reject(kiosk[:64], "bad-topic", topic_name[:200])
            return None
        if kind == "status":
            try:
                status = contract.decode_status(payload)
            except contract.ContractError as e:
                self.store.reject(kiosk, e.reason, e.detail)
                return None
            if status.kiosk != kiosk:
                self.store.reject(kiosk, "wrong-kiosk", f"status says {status.kiosk}")
                return None
            self.store.record_status(commune, kiosk, status, received_at)
            return None
        try:
            raws = contract.decode_batch(payload)
        except contract.ContractError as e:
            self.store.reject(kiosk, e.reason, e.detail)
            log.warning("rejected a message from %s: %s", kiosk, e)
            # Ack it all the same, naming what it covered (issue 8): a sender told
            # nothing re-sends the same message for ever.
            batch, ids = contract.message_ids(payload)
            if not batch and not ids:
                return None
            return BatchResult(rejected=[contract.Rejection(i, e.reason) for i in ids],
                               batch=batch, batch_reason=e.reason)
        return self.store.add_ratings(commune, kiosk, raws, received_at)
