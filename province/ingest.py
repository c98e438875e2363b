"""Province ingest: every commune's forwarded ratings -> PostgreSQL, then ack.

Like the commune's ingest (server/ingest/worker.py): paho's thread only queues; one writer
thread stores up to ``max_batch_messages`` messages in one transaction
(``INSERT … ON CONFLICT (id) DO NOTHING``), commits, and only then acks each batch on
``hailong/v1/province/{commune}/acks``. A crash before the commit leaves no ack, so
the commune sends again. The commune is the one the topic names; the broker's ACL
lets each commune's account write only its own topic.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from sync import contract
from sync.faults import LinkWatch
from sync.mqtt import make_client

from province import store

log = logging.getLogger(__name__)


class ProvinceIngest:
    def __init__(self, config, pool):
        self.config = config
        self.pool = pool
        self._inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.subscribed = threading.Event()
        self.client = make_client(config.broker, "hailong-province")
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: (self.subscribed.set(),
                                               log.info("province ingest subscribed"))
        self.client.on_message = lambda c, u, m: self._inbox.put((m.topic, m.payload))
        self.watch = LinkWatch(self.client, config.broker, name="province-ingest")

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self.watch.refused(reason_code)
            return
        self.watch.connected()
        client.subscribe(f"{contract.PROVINCE_PREFIX}/+/ratings", qos=1)

    def start(self) -> ProvinceIngest:
        b = self.config.broker
        self.client.connect_async(b.host, b.port, keepalive=b.keepalive)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._loop, name="province-writer",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> ProvinceIngest:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _loop(self) -> None:
        limit = self.config.ingest.max_batch_messages
        while not self._stop.is_set():
            try:
                messages = [self._inbox.get(timeout=0.2)]
            except queue.Empty:
                continue
            while len(messages) < limit:
                try:
                    messages.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            try:
                self.handle(messages)
            except Exception:  # the database may be restarting: the communes re-send
                log.exception("province ingest failed on %d message(s); they will be "
                              "re-sent", len(messages))
                time.sleep(1)

    def handle(self, messages: list[tuple[str, bytes]]) -> int:
        acks: list[tuple[str, contract.ForwardAck]] = []
        stored_total = 0
        with self.pool.connection() as conn:
            with conn.transaction():
                for topic_name, payload in messages:
                    try:
                        commune, _ = contract.parse_province_topic(topic_name)
                    except contract.ContractError as e:
                        store.reject(conn, None, e.reason, topic_name[:200])
                        continue
                    try:
                        batch = contract.decode_forward_batch(payload)
                    except contract.ContractError as e:
                        # ack it all the same, naming what it covered: a commune told
                        # nothing would re-send the same message for ever
                        store.reject(conn, commune, e.reason, e.detail)
                        log.warning("refused a message from %s: %s", commune, e)
                        name, ids = contract.message_ids(payload)
                        if name:
                            acks.append((commune, contract.ForwardAck(
                                v=1, batch=name, stored=[], rejected=[
                                    contract.Rejection(i, e.reason) for i in ids])))
                        continue
                    records, bad = [], []
                    for raw in batch.ratings:  # one bad record spoils no other
                        try:
                            records.append(contract.decode_forwarded(bytes(raw)))
                        except contract.ContractError as e:
                            rid = contract.record_id_of(bytes(raw))
                            store.reject(conn, commune, e.reason, e.detail)
                            if rid:
                                bad.append(contract.Rejection(rid, e.reason))
                    stored, rejected = store.add_ratings(conn, commune, records)
                    stored_total += len(stored)
                    acks.append((commune, contract.ForwardAck(
                        v=1, batch=batch.batch, stored=stored, rejected=bad + rejected)))
        for commune, ack in acks:  # only after the commit above
            self.client.publish(contract.province_topic(commune, "acks"),
                                contract.encode(ack), qos=1)
        return stored_total
