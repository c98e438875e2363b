"""The kiosk's uplink daemon: outbox -> MQTT, marking only what the server acks.

It sends pending, sealed ratings in batches, keeps up to ``window`` batches in
flight, and marks a rating acked or rejected only when the server's ack names it.
Anything unacked is due again after ``ack_timeout`` (doubling per try, capped at
``backoff_max``) and at once after every reconnect. The outbox is the only queue
that counts: paho's in-memory queue and the broker's session are a bonus, because
mosquitto drops QoS 1 messages past ``max_queued_messages`` and keeps nothing
across a restart unless persistence is on.

One thread (``run``) owns the outbox connection; paho's network thread only hands
acks and connection changes over through a queue and an event.
"""

from __future__ import annotations

import collections
import logging
import queue
import secrets
import shutil
import threading
import time

import hailong
from hailong.systemd import notify
from kiosk.clock import Clock
from sync.outbox import Outbox, OutboxError

from sync import contract
from sync.faults import LinkWatch
from sync.instance import device_instance
from sync.mqtt import make_client

log = logging.getLogger(__name__)


class Uplink:
    poll = 0.25  # seconds between looks at the outbox when nothing wakes us

    def __init__(self, config):
        self.config = config
        k = config.kiosk
        self.kiosk, self.commune = k.id, k.commune
        self.clock = Clock(config.clock.assume)
        self.outbox = Outbox(config.store.path)
        self.instance = device_instance(config.store.path)
        self._inbox: queue.Queue = queue.Queue()  # (kind, decoded message) from paho
        self._wake = threading.Event()
        self._connected = threading.Event()
        self._reconnected = False
        self._link: tuple[bool, str | None] | None = None  # as last written to the outbox
        self._inflight: dict[int, tuple[set[str], float]] = {}
        self._batch_no = 0
        # batch ids name this run, so an ack for an earlier run's batch matches nothing
        self._run = secrets.token_hex(4)
        self._split: collections.deque[list[str]] = collections.deque()  # halves to send
        self._next_status = 0.0
        self._next_housekeeping = 0.0
        self.last_error: str | None = None
        self.last_ack: contract.Ack | None = None
        self.last_ack_at: float | None = None
        self.sent_batches = 0
        self.client_id = f"hailong-kiosk-{self.commune}-{self.kiosk}"
        self.client = make_client(
            config.broker, self.client_id,
            will=(self._topic("status"), contract.encode(self._status(online=False))))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        # each failed connect or lost connection: its cause and host:port, in the log at
        # a bounded rate and in the outbox for the technician (issue 11)
        self.watch = LinkWatch(self.client, config.broker, name="uplink",
                               repeat=config.sync.fault_log_every,
                               identity=f"kiosk {self.kiosk} (client id {self.client_id})")

    def _topic(self, kind: str) -> str:
        return contract.topic(self.commune, self.kiosk, kind)

    # --- paho's thread: hand over, never touch the outbox ------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self.watch.refused(reason_code)
            return
        client.subscribe([(self._topic(kind), 1) for kind in ("acks", "config", "session")])
        self.watch.connected()
        self._reconnected = True
        self._connected.set()
        self._wake.set()
        log.info("connected to broker %s:%s", self.config.broker.host, self.config.broker.port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self._connected.clear()
        if reason_code.is_failure:
            self.watch.lost(reason_code)

    def _on_message(self, client, userdata, message):
        kind = message.topic.rsplit("/", 1)[-1]
        decode = {"acks": contract.decode_ack, "config": contract.decode_config,
                  "session": contract.decode_session}.get(kind)
        if decode is None:
            return
        try:
            self._inbox.put((kind, decode(message.payload)))
        except contract.ContractError as e:
            self._inbox.put(("refused", f"{kind} refused: {e}"))
        self._wake.set()

    # --- the loop ------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Run until ``stop`` is set (or for ever)."""
        stop = stop or threading.Event()
        broker = self.config.broker
        self.client.connect_async(broker.host, broker.port, keepalive=broker.keepalive)
        self.client.loop_start()
        notify("READY=1")
        try:
            while not stop.is_set():
                notify("WATCHDOG=1")
                try:
                    self.step()
                except OutboxError as e:
                    self.last_error = str(e)
                    log.error("%s", e)
                    stop.wait(5)
                self._wake.wait(self.poll)
                self._wake.clear()
        finally:
            self.close()

    def step(self) -> None:
        """One pass: take acks, re-send what timed out, send what is due, report."""
        if self.outbox.was_replaced():
            log.warning("outbox file was replaced; reopening")
            self.outbox.close()
            self.outbox = Outbox(self.config.store.path)
            self._link = None
        self._take_inbox()
        link = (self._connected.is_set(), self.watch.current() or self.last_error)
        if link != self._link:
            self.outbox.set_link(*link)
            self._link = link
        now = time.monotonic()
        if self._reconnected:
            self._reconnected = False
            self.outbox.resend_now()
            self._inflight.clear()
            self._next_status = 0.0
        for no, (ids, deadline) in list(self._inflight.items()):
            if now >= deadline:
                del self._inflight[no]  # its rows are due again in the outbox
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + 5
            self.outbox.seal_stale(self.config.sync.seal_after)
            self.outbox.prune(self.config.sync.keep_acked_days)
        if self._connected.is_set():
            # Status first: its receipt bounds this boot's start tightly, so the server
            # places an unsynchronised backlog right at once instead of re-placing it as
            # each batch's looser bound arrives (issue 8).
            if now >= self._next_status:
                self._next_status = now + self.config.sync.status_interval
                self._publish_status()
            self._send_due()

    def _send_due(self) -> None:
        sync = self.config.sync
        while len(self._inflight) < sync.window and self._connected.is_set():
            rows = self._next_rows(sync.batch_size)
            if not rows:
                return
            ids = [r[0] for r in rows]
            attempts = max(r[2] for r in rows)
            retry_after = min(sync.ack_timeout * 2 ** min(attempts, 16), sync.backoff_max)
            payload = contract.encode_batch([r[1].encode() for r in rows],
                                            f"{self._run}-{self._batch_no + 1}")
            info = self.client.publish(self._topic("ratings"), payload, qos=1)
            if info.rc != 0:
                log.warning("publish failed (rc=%s); will retry", info.rc)
                return
            self.outbox.mark_sent(ids, retry_after)
            self._batch_no += 1
            self._inflight[self._batch_no] = (set(ids), time.monotonic() + retry_after)
            self.sent_batches += 1

    def _next_rows(self, limit: int) -> list[tuple[str, str, int]]:
        """The next batch: halves of a refused message first, then due rows, as many
        as ``batch_size`` allows and the server's byte limit takes (issue 8: ratings
        with long text fields at 250, or ordinary ones at 1,000, did not fit)."""
        while self._split:
            rows = self.outbox.pending_rows(self._split.popleft())
            if rows:
                return rows
        rows = self.outbox.due(limit)
        sizes: list[int] = []
        for n, row in enumerate(rows):
            sizes.append(len(row[1].encode()))
            if n and not contract.batch_fits(sizes):
                return rows[:n]  # the rest stay due: the next batch takes them
        return rows

    def _take_inbox(self) -> None:
        while True:
            try:
                kind, message = self._inbox.get_nowait()
            except queue.Empty:
                return
            if kind == "acks":
                self._apply_ack(message)
            elif kind == "config":
                if self.outbox.save_config(message):
                    log.info("new config from the server: revision %d", message.revision)
            elif kind == "session":
                self.outbox.add_session(message)
            else:  # a message that failed validation: keep the last good state, say why
                log.error("%s", message)
                self.outbox.log_event("message-refused", message)

    def _apply_ack(self, ack: contract.Ack) -> None:
        self.outbox.mark_acked(ack.stored)
        if ack.batch is not None or any(r.reason in contract.WHOLE_MESSAGE_REASONS
                                        for r in ack.rejected):
            ack = self._whole_message_refused(ack)
        if ack.rejected:
            self.outbox.mark_rejected([(r.id, r.reason) for r in ack.rejected])
            log.error("server rejected %d rating(s), e.g. %s: %s", len(ack.rejected),
                      ack.rejected[0].id, ack.rejected[0].reason)
        done = set(ack.stored) | {r.id for r in ack.rejected}
        for no, (ids, _) in list(self._inflight.items()):
            ids -= done
            if not ids:
                del self._inflight[no]
        self.last_ack, self.last_ack_at = ack, time.time()

    def _whole_message_refused(self, ack: contract.Ack) -> contract.Ack:
        """A message refused whole (too big, unreadable): its records may each be fine.
        Split it and send the halves; only a single record refused whole is itself
        invalid and marked rejected. Returns the ack with what is left to mark."""
        whole = {r.id: r.reason for r in ack.rejected
                 if r.reason in contract.WHOLE_MESSAGE_REASONS}
        ids: set[str] = set()
        if ack.batch and ack.batch.startswith(self._run + "-"):
            no = ack.batch[len(self._run) + 1:]
            entry = self._inflight.pop(int(no), None) if no.isdigit() else None
            ids = set(entry[0]) if entry else set()
        if not ids:  # another run's batch, or no batch id: the ids it names
            ids = set(whole)
        keep = [r for r in ack.rejected if r.id not in ids or r.id not in whole]
        reason = ack.batch_reason or next(iter(whole.values()), "bad-batch")
        if len(ids) == 1:
            keep += [contract.Rejection(i, whole.get(i, reason)) for i in ids]
        elif ids:
            order = [r[0] for r in self.outbox.pending_rows(sorted(ids))]
            half = (len(order) + 1) // 2
            self._split.extend(part for part in (order[:half], order[half:]) if part)
            log.warning("server refused a message of %d rating(s) whole (%s); sending it "
                        "again in two halves", len(ids), reason)
            self._wake.set()
        for no, (inflight_ids, _) in list(self._inflight.items()):
            inflight_ids -= ids
            if not inflight_ids:
                del self._inflight[no]
        return contract.Ack(v=ack.v, stored=ack.stored, rejected=keep,
                            server_time=ack.server_time, batch=ack.batch,
                            batch_reason=ack.batch_reason)

    # --- status -----------------------------------------------------------------------

    def _status(self, *, online: bool) -> contract.Status:
        reading = self.clock.read()
        status = contract.Status(v=1, online=online, kiosk=self.kiosk,
                                 version=hailong.__version__, at=reading.wall,
                                 clock_synced=reading.synced, boot_id=reading.boot_id,
                                 mono=reading.mono, instance=self.instance)
        if not online:
            return status
        counts = self.outbox.counts()
        event = self.outbox.last_event()
        disk = shutil.disk_usage(self.outbox.path.parent)
        from kiosk.pinguard import failures_today
        status.pin_failures = failures_today(self.outbox)
        status.backlog = counts["pending"]
        status.rejected = counts["rejected"]
        status.last_rejected_reason = (self.outbox.last_rejected_reason() or "")[:200] or None
        status.disk_free_mb = round(disk.free / 2**20, 1)
        status.config_revision = self.outbox.db.execute(
            "SELECT max(revision) FROM remote_config").fetchone()[0]
        error = self.watch.current() or self.last_error or (
            f"{event['kind']}: {event['detail']}" if event else "")
        status.last_error = error[:contract.MAX_STATUS_TEXT] or None  # the contract's bound
        if self.last_ack:
            status.last_ack_server_time = self.last_ack.server_time
            status.last_ack_at = self.last_ack_at
        return status

    def _publish_status(self) -> None:
        self.client.publish(self._topic("status"),
                            contract.encode(self._status(online=True)), qos=1, retain=True)

    def close(self) -> None:
        """Say goodbye (a clean stop is not a failure: no last will), then disconnect."""
        if self._connected.is_set():
            info = self.client.publish(self._topic("status"),
                                       contract.encode(self._status(online=False)),
                                       qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=2)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()
        self.outbox.set_link(False, "uplink stopped")
        self.outbox.close()
