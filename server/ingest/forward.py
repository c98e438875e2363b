"""Forwarding to the province (issue 12): every stored rating, exactly once, without
personal data.

* **Outbox in the same transaction.** A trigger on ``ratings`` puts each newly stored
  rating's id into ``forward_outbox`` inside ingest's own insert transaction, so there is
  no moment where a rating is committed but not queued (a listener called after the
  commit could be lost to a crash in between). The migration also queues every rating
  stored before it ran.
* **A direct connection** from the commune server to the province broker, with the
  commune's own account (username = commune id), not a mosquitto bridge: a bridge
  forwards whatever the commune broker carries, so the stripping would need a second
  local publish anyway, and the province's acks would need a second bridge rule back;
  one client here sends, hears the acks and owns the backlog.
* **Only an allow-list leaves**: :class:`sync.contract.ForwardedRating` is built field
  by field from the stored row. The contact table is never read here, and no free text
  (dossier code, procedure, field, transaction) is put in.
* **Re-send until acked**, like ``sync/uplink.py``: up to ``window`` batches in flight;
  an id leaves the outbox only when the province's ack (sent after its commit) names it.
  A batch not acked within ``ack_timeout`` (doubling per silent round, capped at
  ``backoff_max``) is sent again, and everything unacked is sent again after each
  reconnect. The province stores by rating id, so a duplicate is a no-op there. The
  outbox is in the commune's own store (SQLite or PostgreSQL), so a province unreachable for days is a
  backlog, drained when it comes back.
* **Officials under a pseudonym.** A roster id is often a name (``cb-nguyen-van-an``), so
  the official is forwarded as ``p-`` and 12 letters of an HMAC keyed by a secret
  kept in this store: the same official always has the same id at the province (its
  figures by official still work), another commune's same id gives another, and only
  the commune can say who it is (``hailong server province-ids``).
* **A refusal is kept, not dropped.** A rating the province refuses (an older province
  that does not know a field yet, a record it finds invalid) stays in the outbox marked
  ``refused`` with the reason: not re-sent in a loop, shown on the fleet page, and sent
  again by ``hailong server forward-retry`` once the province is upgraded or fixed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import secrets
import threading
import time
from types import SimpleNamespace

import sqlite_utils
from sqlite_utils import Migrations

from hailong.database import immediate
from hailong.settings import Setting
from sync import contract
from sync.faults import LinkWatch
from sync.mqtt import make_client

from server.ingest import engine

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server-i12forward")

PROVINCE_SETTINGS: tuple[Setting, ...] = (
    Setting("province", "enabled", bool, False, "forward every stored rating (without "
            "contact or free text) to the province broker"),
    Setting("province", "host", str, "", "the province broker's host name or address"),
    Setting("province", "port", int, 8883, "the province broker's port", minimum=1,
            maximum=65535),
    Setting("province", "username", str, "", "this commune's account on the province "
            "broker (made by `hailong province add-commune`); empty: [server] commune"),
    Setting("province", "password", str, "", "that account's password (or password_file, "
            "or HAILONG_PROVINCE_PASSWORD)", secret=True),
    Setting("province", "tls", str, "", "the province's CA certificate file: set it to "
            "connect with TLS (needed across any network you do not own)"),
    Setting("province", "batch_size", int, 500, "ratings per forwarded message",
            minimum=1, maximum=contract.MAX_BATCH_RECORDS),
    Setting("province", "window", int, 4, "forwarded messages awaiting the province's ack "
            "at once", minimum=1, maximum=64),
    Setting("province", "ack_timeout", float, 15.0, "seconds without an ack before a "
            "message is sent again (doubles per silent round)", minimum=0.5),
    Setting("province", "backoff_max", float, 600.0, "the longest wait between re-sends",
            minimum=1),
)


@migrations()
def m001_i12province_forward_outbox(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE forward_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
               "rating_id TEXT NOT NULL UNIQUE, queued_at REAL NOT NULL)")
    if engine.name(db) == "postgresql":  # the same trigger in plpgsql (a fresh store)
        db.execute("CREATE FUNCTION forward_on_new_rating() RETURNS trigger LANGUAGE "
                   "plpgsql AS $$ BEGIN INSERT INTO forward_outbox (rating_id, queued_at) "
                   "VALUES (NEW.id, extract(epoch FROM clock_timestamp())) ON CONFLICT "
                   "(rating_id) DO NOTHING; RETURN NULL; END $$")
        db.execute("CREATE TRIGGER forward_on_new_rating AFTER INSERT ON ratings "
                   "FOR EACH ROW EXECUTE FUNCTION forward_on_new_rating()")
        return
    # inside the insert's own transaction: stored means queued
    db.execute("CREATE TRIGGER forward_on_new_rating AFTER INSERT ON ratings BEGIN "
               "INSERT OR IGNORE INTO forward_outbox (rating_id, queued_at) "
               "VALUES (NEW.id, (julianday('now') - 2440587.5) * 86400.0); END")
    db.execute("INSERT OR IGNORE INTO forward_outbox (rating_id, queued_at) "
               "SELECT id, received_at FROM ratings ORDER BY received_at, id")


@migrations()
def m002_i12province_forget_deleted(db: sqlite_utils.Database) -> None:
    # a rating deleted here (a tool, a future retention rule) is not waited for
    if engine.name(db) == "postgresql":
        db.execute("CREATE FUNCTION forward_forget_deleted() RETURNS trigger LANGUAGE "
                   "plpgsql AS $$ BEGIN DELETE FROM forward_outbox WHERE rating_id = OLD.id;"
                   " RETURN NULL; END $$")
        db.execute("CREATE TRIGGER forward_forget_deleted AFTER DELETE ON ratings "
                   "FOR EACH ROW EXECUTE FUNCTION forward_forget_deleted()")
        return
    db.execute("CREATE TRIGGER forward_forget_deleted AFTER DELETE ON ratings BEGIN "
               "DELETE FROM forward_outbox WHERE rating_id = OLD.id; END")


@migrations()
def m003_i12province_keep_refused(db: sqlite_utils.Database) -> None:
    # the province's reason, for a rating it refused: kept until forward-retry
    db.execute("ALTER TABLE forward_outbox ADD COLUMN refused TEXT")


@migrations()
def m004_i12province_pseudonym_key(db: sqlite_utils.Database) -> None:
    # the secret behind the officials' pseudonyms (one row, made on first use)
    db.execute("CREATE TABLE forward_key (id INTEGER PRIMARY KEY, secret TEXT NOT NULL)")


def pseudonym_key(conn) -> bytes:
    """This store's pseudonym secret, made once (inside any transaction or none)."""
    ours = not conn.in_transaction  # then the insert's implicit transaction is ours
    conn.execute("INSERT INTO forward_key (id, secret) VALUES (1, ?) ON CONFLICT (id) "
                 "DO NOTHING", [secrets.token_hex(32)])
    if ours:
        conn.commit()
    return bytes.fromhex(conn.execute("SELECT secret FROM forward_key WHERE id = 1"
                                      ).fetchone()[0])


def pseudonym(key: bytes, official: str | None) -> str | None:
    """The official's id at the province: stable, and meaningless without the key."""
    if not official:
        return None
    digest = hmac.new(key, official.encode(), hashlib.sha256).digest()
    # letters only: a run of hex digits can look like a phone number to the province's
    # contact check (and to a person)
    return "p-" + "".join(chr(ord("a") + b % 26) for b in digest[:12])


def backlog(conn) -> int:
    """Ratings stored here and not yet acked by the province (and not refused by it)."""
    return conn.execute("SELECT count(*) FROM forward_outbox "
                        "WHERE refused IS NULL").fetchone()[0]


def oldest_waiting(conn) -> float | None:
    return conn.execute("SELECT min(queued_at) FROM forward_outbox "
                        "WHERE refused IS NULL").fetchone()[0]


def refused(conn) -> dict[str, int]:
    """Ratings the province refused, by its reason (kept here until forward-retry)."""
    rows = conn.execute("SELECT refused, count(*) FROM forward_outbox WHERE refused "
                        "IS NOT NULL GROUP BY refused").fetchall()
    return {reason: n for reason, n in sorted(rows)}


def retry_refused(conn) -> int:
    """Queue every refused rating again, behind the backlog (new sequence numbers, so a
    running forwarder picks them up where it is). Inside the caller's transaction."""
    ids = [r[0] for r in conn.execute("SELECT rating_id FROM forward_outbox WHERE refused "
                                      "IS NOT NULL ORDER BY seq").fetchall()]
    conn.executemany("DELETE FROM forward_outbox WHERE rating_id = ?", [(i,) for i in ids])
    now = time.time()
    conn.executemany("INSERT INTO forward_outbox (rating_id, queued_at) VALUES (?, ?)",
                     [(i, now) for i in ids])
    return len(ids)


_SELECT = ("SELECT o.seq, r.id, r.commune, r.kiosk, r.counter, r.score, r.scale, "
           "r.occurred_at, r.official, r.reasons, r.time_source, r.suspect, r.flagged "
           "FROM forward_outbox o JOIN ratings r ON r.id = o.rating_id "
           "WHERE o.seq > ? AND o.refused IS NULL ORDER BY o.seq LIMIT ?")


def survey_answers(conn, ids: list[str]) -> dict[str, list[contract.SurveyAnswer]]:
    """The SIPAS answers of these ratings: codes and levels only (no text is stored
    with them anyway)."""
    out: dict[str, list[contract.SurveyAnswer]] = {}
    if not ids:
        return out
    marks = ",".join("?" * len(ids))
    for rid, q, factor, level, scale in conn.execute(
            "SELECT rating_id, question, factor, level, scale FROM survey_answers "
            f"WHERE rating_id IN ({marks}) ORDER BY rating_id, question", ids):
        out.setdefault(rid, []).append(contract.SurveyAnswer(q=q, factor=factor,
                                                             level=level, scale=scale))
    return out


def forwarded(row, key: bytes, answers: list[contract.SurveyAnswer] | None = None
              ) -> contract.ForwardedRating:
    """The allow-list, field by field (never the row as a whole), the official under
    its pseudonym (``key``: :func:`pseudonym_key`). ``answers``: the rating's SIPAS
    answers; none leaves the field out, so an old province accepts it."""
    _, rid, commune, kiosk, counter, score, scale, occurred_at, official, reasons, \
        source, suspect, flagged = row
    return contract.ForwardedRating(
        id=rid, commune=commune, kiosk=kiosk, counter=counter, score=score, scale=scale,
        occurred_at=occurred_at, official=pseudonym(key, official),
        reasons=[r for r in json.loads(reasons or "[]") if isinstance(r, str)],
        time_source=source, suspect=bool(suspect or flagged),
        **({"survey": answers} if answers else {}))


class Forwarder:
    """``with Forwarder(config): ...`` sends the outbox to the province until stopped."""
    poll = 0.25

    def __init__(self, config):
        from server.ingest.store import connect
        self.config = config
        p = config.province
        self.commune = config.server.commune
        self.db = connect(config.store)
        self.key = pseudonym_key(self.db.conn)  # officials leave under a pseudonym
        self.username = p.username or self.commune
        broker = SimpleNamespace(username=self.username, password=p.password,
                                 tls_ca=p.tls, keepalive=30, host=p.host, port=p.port)
        self.broker = broker
        self.client = make_client(broker, f"hailong-forward-{self.commune}")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.watch = LinkWatch(self.client, broker, name="forward")
        self._acks: queue.Queue = queue.Queue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._reconnected = False
        self._thread: threading.Thread | None = None
        self._inflight: dict[str, tuple[set[str], float]] = {}  # batch -> ids, deadline
        self._cursor = 0            # the outbox seq sent up to (go-back to 0 on a resend)
        self._timeout = p.ack_timeout
        self._run = secrets.token_hex(3)  # batch ids name this run
        self._batch_no = 0
        self.sent = self.acked = 0
        self.last_error: str | None = None

    # --- paho's thread ------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self.watch.refused(reason_code)
            self.last_error = self.watch.fault
            return
        self.watch.connected()
        client.subscribe(contract.province_topic(self.username, "acks"), qos=1)
        self.last_error = None
        self._reconnected = True
        self._connected.set()
        self._wake.set()
        log.info("forwarding to the province at %s:%s", self.broker.host, self.broker.port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self._connected.clear()
        if reason_code.is_failure:
            self.watch.lost(reason_code)
            self.last_error = self.watch.fault

    def _on_message(self, client, userdata, msg):
        try:
            self._acks.put(contract.decode_forward_ack(msg.payload))
        except contract.ContractError as e:
            log.warning("a bad ack from the province: %s", e)
        self._wake.set()

    # --- the forwarder thread (owns its store connection) -------------------------------
    def start(self) -> Forwarder:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._loop, name="forwarder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()
        self.db.close()

    def __enter__(self) -> Forwarder:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # never stop forwarding for good; the outbox keeps all
                log.exception("forwarding failed; trying again")
                self._stop.wait(2)
            self._wake.wait(self.poll)
            self._wake.clear()

    def step(self) -> None:
        self._take_acks()
        now = time.monotonic()
        if self._reconnected:  # what the broker held for us may be gone: all again
            self._reconnected = False
            self._go_back()
        elif any(deadline < now for _, deadline in self._inflight.values()):
            self._timeout = min(self._timeout * 2, self.config.province.backoff_max)
            log.info("the province did not ack in time; sending again (next wait %.0f s)",
                     self._timeout)
            self._go_back()
        while self._connected.is_set() and len(self._inflight) < self.config.province.window:
            if not self._send_one():
                break

    def _go_back(self) -> None:
        self._inflight.clear()
        self._cursor = 0

    def _send_one(self) -> bool:
        rows = self.db.conn.execute(_SELECT, [self._cursor,
                                              self.config.province.batch_size]).fetchall()
        if not rows:
            return False
        self._batch_no += 1
        batch = f"f{self._run}-{self._batch_no}"
        answers = survey_answers(self.db.conn, [r[1] for r in rows])
        records = [forwarded(r, self.key, answers.get(r[1])) for r in rows]
        payload = contract.encode_forward_batch(batch, records)
        while len(payload) > contract.MAX_BATCH_BYTES and len(records) > 1:
            # survey answers make records longer: fewer per message, never refused
            rows, records = rows[:len(rows) // 2], records[:len(records) // 2]
            payload = contract.encode_forward_batch(batch, records)
        self.client.publish(contract.province_topic(self.username, "ratings"), payload, qos=1)
        self._cursor = rows[-1][0]
        self._inflight[batch] = ({r.id for r in records},
                                 time.monotonic() + self._timeout)
        self.sent += len(records)
        return True

    def _take_acks(self) -> None:
        done: list[str] = []
        refusals: list[tuple[str, str]] = []
        while True:
            try:
                ack = self._acks.get_nowait()
            except queue.Empty:
                break
            done += ack.stored
            for rej in ack.rejected:  # kept, marked: not re-sent until forward-retry
                log.warning("the province refused rating %s: %s", rej.id, rej.reason)
                refusals.append((rej.reason, rej.id))
            self._inflight.pop(ack.batch, None)
        if not done and not refusals:
            return
        with immediate(self.db):
            self.db.conn.executemany("DELETE FROM forward_outbox WHERE rating_id = ?",
                                     [(i,) for i in done])
            self.db.conn.executemany("UPDATE forward_outbox SET refused = ? "
                                     "WHERE rating_id = ?", refusals)
        self.acked += len(done) + len(refusals)
        self._timeout = self.config.province.ack_timeout  # it answers again
