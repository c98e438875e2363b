"""The commune server's store: every rating exactly once, keyed by its id.

One SQLite file (WAL). Ingest writes from one thread; the web and the CLI read
through their own connections. Schema changes are migrations recorded in the file.
"""

from __future__ import annotations

import importlib
import logging
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import sqlite_utils
from sqlite_utils import Migrations

from hailong import database
from sync import contract

from server.ingest import clock, door, engine, sipas

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server")


@migrations()
def m001_ratings(db: sqlite_utils.Database) -> None:
    db["ratings"].create({
        "id": str, "kiosk": str, "commune": str, "counter": str, "official": str,
        "score": int, "scale": int, "reasons": str, "dossier": str, "procedure": str,
        "field": str, "transaction_id": str, "suspect": str, "lang": str,
        "created_at": float, "clock_synced": int, "boot_id": str, "mono": float,
        "occurred_at": float, "time_source": str, "received_at": float, "fingerprint": str,
    }, pk="id", not_null={"kiosk", "score", "scale", "occurred_at", "fingerprint"})
    db["ratings"].create_index(["occurred_at"])
    db["ratings"].create_index(["official", "occurred_at"])
    db["ratings"].create_index(["kiosk", "boot_id"])
    db["contacts"].create({
        "rating_id": str, "phone": str, "consent_text": str, "stored_at": float,
    }, pk="rating_id", foreign_keys=[("rating_id", "ratings", "id")])
    db["rejections"].create({
        "id": int, "at": float, "kiosk": str, "rating_id": str, "reason": str, "detail": str,
    }, pk="id")
    db["rejections"].create_index(["reason"])
    db["kiosks"].create({
        "id": str, "commune": str, "online": int, "last_seen": float, "status": str,
        "clock_skew": float,
    }, pk="id")
    if engine.name(db) == "postgresql":  # clock.py follows one boot's rows by rowid
        db.execute("CREATE INDEX ratings_boot_rowid ON ratings (kiosk, boot_id, rowid)")
    db["boot_anchors"].create({
        "kiosk": str, "boot_id": str, "synced_offset": float, "bound_offset": float,
    }, pk=("kiosk", "boot_id"))


def connect(where) -> sqlite_utils.Database:
    """Open the store (creating or upgrading it): ``where`` is the ``[store]`` section,
    a SQLite path or a PostgreSQL URL (server/ingest/engine.py). SQLite: WAL and FULL
    sync on every connection."""
    path = engine.target(where)
    sets = (migrations, *(importlib.import_module(m).migrations for m in SCHEMA_MODULES))
    if engine.is_postgres(path):
        return engine.connect_postgres(path, sets)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    db = sqlite_utils.Database(conn)
    database.migrate(db, path, *sets)
    return db


# Modules that keep their own tables in this store, each with a ``migrations`` set of
# its own name, applied in this order after the core tables above.
SCHEMA_MODULES: tuple[str, ...] = ("server.fleet.kiosks", "server.fleet.roster", "server.accounts",
                                   "server.reports.rollup", "server.followup.cases", "server.followup.alerts",
                                   "server.reports.addressee", "server.ingest.feed", "server.ingest.door",
                                   "server.ingest.identity", "server.ingest.clock",
                                   "server.ingest.sipas", "server.ingest.forward")  # issue 12


@dataclass
class BatchResult:
    stored: list[str] = field(default_factory=list)
    rejected: list[contract.Rejection] = field(default_factory=list)
    new: list[contract.Rating] = field(default_factory=list)  # stored for the first time
    batch: str | None = None  # a whole-message rejection: the sender's batch id
    batch_reason: str | None = None  # and why


class Store:
    """Writes ratings and kiosk status; call inside ``database.immediate(store.db)``
    to group several messages in one transaction (``ingest`` does)."""

    def __init__(self, where):
        self.target = engine.target(where)  # a SQLite path or a PostgreSQL URL
        self.db = connect(where)
        self.anchors = clock.Anchors()  # boot anchors cache; cleared on rollback
        self.door: door.Door | None = None  # the server's plausibility rules (ingest sets it)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def add_ratings(self, commune: str, kiosk: str, raws: Iterable[bytes],
                    received_at: float) -> BatchResult:
        """Validate and store one batch (inside the caller's transaction). A stored id
        with the same content is a re-send and acked again; with other content it is
        rejected as a conflict and logged."""
        result = BatchResult()
        conn = self.db.conn
        valid: list[tuple[contract.Rating, str]] = []
        for raw in raws:
            try:
                rating = contract.decode_rating(raw, commune, kiosk)
            except contract.ContractError as e:
                rid = contract.record_id_of(raw)
                self.reject(kiosk, e.reason, e.detail, rid)
                if rid:
                    result.rejected.append(contract.Rejection(rid, e.reason))
                continue
            valid.append((rating, contract.fingerprint(rating)))
        known = self._fingerprints([r.id for r, _ in valid])
        new: list[tuple[contract.Rating, str]] = []
        for rating, fp in valid:
            if rating.id in known:  # stored before (or earlier in this batch)
                if known[rating.id] == fp:
                    result.stored.append(rating.id)
                else:
                    self.reject(kiosk, "conflict", "same id, different content", rating.id)
                    log.error("rating %s from %s: same id, different content", rating.id, kiosk)
                    result.rejected.append(contract.Rejection(rating.id, "conflict"))
                continue
            try:  # time fields that cannot be true are refused (sync/timerules.py)
                clock.admit(conn, self.anchors, rating, received_at)
            except contract.ContractError as e:
                self.reject(kiosk, e.reason, e.detail, rating.id)
                result.rejected.append(contract.Rejection(rating.id, e.reason))
                continue
            known[rating.id] = fp
            new.append((rating, fp))
            clock.learn(conn, self.anchors, rating, received_at)
        new = one_per_transaction(self, kiosk, new, result)
        rows, contacts = [], []
        placed = [clock.estimate(conn, self.anchors, rating, received_at) for rating, _ in new]
        # the server's own judgement (server/ingest/door.py), when ingest set one
        verdicts = (self.door.judge(conn, kiosk, [(r, p[0]) for (r, _), p in zip(new, placed)],
                                    received_at) if self.door else [None] * len(new))
        for (rating, fp), (occurred_at, source), verdict in zip(new, placed, verdicts):
            rows.append((rating.id, rating.kiosk, rating.commune,
                         verdict.counter if verdict else rating.counter,
                         rating.official, rating.score, rating.scale,
                         _json(verdict.reasons if verdict else rating.reasons),
                         rating.dossier, rating.procedure, rating.field, rating.transaction,
                         rating.suspect, rating.lang, rating.created_at,
                         int(rating.clock_synced), rating.boot_id, rating.mono, occurred_at,
                         source, received_at, fp, verdict.flagged if verdict else None))
            if rating.contact:
                contacts.append((rating.id, rating.contact.phone, rating.contact.consent_text,
                                 received_at))
            result.stored.append(rating.id)
            result.new.append(rating)
        clock.flush(conn, self.anchors)  # each changed boot written once per batch
        conn.executemany(
            "INSERT INTO ratings (id, kiosk, commune, counter, official, score, scale, reasons, "
            "dossier, procedure, field, transaction_id, suspect, lang, created_at, clock_synced,"
            " boot_id, mono, occurred_at, time_source, received_at, fingerprint, flagged) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        if self.door:
            door.store_flags(conn, [(r.id, v) for (r, _), v in zip(new, verdicts)],
                             received_at)
        conn.executemany("INSERT INTO contacts (rating_id, phone, consent_text, stored_at) "
                         "VALUES (?,?,?,?)", contacts)
        sipas.store_answers(conn, (r for r, _ in new), received_at)  # issue 12
        return result

    def _fingerprints(self, ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for i in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            chunk = ids[i:i + 500]
            found.update(self.db.conn.execute(
                f"SELECT id, fingerprint FROM ratings WHERE id IN ({','.join('?' * len(chunk))})",
                chunk).fetchall())
        return found

    def place_some(self, limit: int = clock.PLACE_CHUNK) -> int:
        """Re-place one bounded chunk of rows whose boot evidence improved (inside the
        caller's transaction); 0 when nothing is due."""
        return clock.place_some(self.db.conn, self.anchors, limit)

    def place_all(self) -> None:
        """Every due re-placement, now, each chunk in its own transaction (tests, tools)."""
        while True:
            with self.db.conn:  # commits each chunk (and whatever the caller left open)
                if not self.place_some():
                    return

    def reject(self, kiosk: str | None, reason: str, detail: str = "",
               rating_id: str | None = None) -> None:
        self.db.conn.execute(
            "INSERT INTO rejections (at, kiosk, rating_id, reason, detail) VALUES (?,?,?,?,?)",
            [time.time(), kiosk, rating_id, reason, detail[:300]])

    def record_status(self, commune: str, kiosk: str, status: contract.Status,
                      received_at: float, *, replayed: bool = False) -> None:
        """Keep a kiosk's latest status. A ``replayed`` (retained) one was sent at some
        time in the past: it says nothing of when the kiosk was last seen nor of its
        clock skew, but its receipt is still an upper bound for the boot's start."""
        skew = None
        if status.online and status.at and not replayed:
            skew = round(status.at - received_at, 3)
        seen = status.at if replayed else received_at
        last_seen = ("coalesce(kiosks.last_seen, excluded.last_seen)" if replayed
                     else "excluded.last_seen")
        try:  # a status whose clock facts cannot be true is refused whole, and counted
            clock.anchor_from_status(self.db.conn, self.anchors, kiosk, status, received_at)
        except contract.ContractError as e:
            self.reject(kiosk, e.reason, f"status: {e.detail}")
            log.warning("status from %s refused: %s", kiosk, e)
            return
        self.db.conn.execute(
            "INSERT INTO kiosks (id, commune, online, last_seen, status, clock_skew) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET commune=excluded.commune, "
            "online=excluded.online, status=excluded.status, "
            f"last_seen = {last_seen}, "
            "clock_skew=coalesce(excluded.clock_skew, kiosks.clock_skew)",
            [kiosk, commune, int(status.online), seen, contract.encode(status).decode(), skew])
        if not replayed:  # which device sent it: two with one identity are named
            from server.ingest import identity
            identity.note_status(self.db.conn, kiosk, status.instance, status.online,
                                 received_at)


def _json(value) -> str:
    return msgspec.json.encode(value).decode()


def one_per_transaction(store: Store, kiosk: str, new: list[tuple[contract.Rating, str]],
                        result: BatchResult) -> list[tuple[contract.Rating, str]]:
    """One rating per transaction (issue 9): of the new ratings, drop (reject as
    ``duplicate-transaction``) each whose transaction was already rated, in the store or
    earlier in this batch; a plain re-send never gets here (its id is known)."""
    transactions = [r.transaction for r, _ in new if r.transaction is not None]
    if not transactions:
        return new
    rated: dict[str, str] = {}  # transaction -> the rating stored for it
    for i in range(0, len(transactions), 500):  # SQLite's bound-parameter limit
        chunk = transactions[i:i + 500]
        rated.update(store.db.conn.execute(
            "SELECT transaction_id, min(id) FROM ratings WHERE transaction_id IN "
            f"({','.join('?' * len(chunk))}) GROUP BY transaction_id", chunk).fetchall())
    kept = []
    for rating, fp in new:
        tx = rating.transaction
        if tx is not None and tx in rated:
            store.reject(kiosk, "duplicate-transaction",
                         f"transaction {tx[:100]} already rated by {rated[tx]}", rating.id)
            log.warning("rating %s from %s: transaction %s already rated", rating.id, kiosk, tx)
            result.rejected.append(contract.Rejection(rating.id, "duplicate-transaction"))
            continue
        if tx is not None:
            rated[tx] = rating.id
        kept.append((rating, fp))
    return kept


def stats(db: sqlite_utils.Database) -> dict:
    """The figures ``hailong server stats --json`` prints (an outside check reads them)."""
    q = db.execute
    return {
        "ratings": q("SELECT count(*) FROM ratings").fetchone()[0],
        "distinct_ids": q("SELECT count(DISTINCT id) FROM ratings").fetchone()[0],
        "by_kiosk": dict(q("SELECT kiosk, count(*) FROM ratings GROUP BY kiosk ORDER BY kiosk")),
        "by_score": {str(s): n for s, n in q(
            "SELECT score, count(*) FROM ratings GROUP BY score ORDER BY score")},
        # flagged by any rule: the kiosk's own, or the server's (server/ingest/door.py)
        "suspect": q("SELECT count(*) FROM ratings WHERE suspect IS NOT NULL "
                     "OR flagged IS NOT NULL").fetchone()[0],
        "flagged_by_rule": dict(q(
            "SELECT rule, count(*) FROM rating_flags WHERE confirmed_at IS NULL "
            "GROUP BY rule ORDER BY rule")),
        "unsynced_clock": q("SELECT count(*) FROM ratings WHERE clock_synced = 0").fetchone()[0],
        "with_dossier": q("SELECT count(*) FROM ratings WHERE dossier IS NOT NULL "
                          "AND dossier != ''").fetchone()[0],  # issue 9
        "rejected": q("SELECT count(*) FROM rejections").fetchone()[0],
        "rejected_by_reason": dict(q(
            "SELECT reason, count(*) FROM rejections GROUP BY reason ORDER BY reason")),
        "quarantined": q("SELECT count(*) FROM quarantine").fetchone()[0],
        "placement_due": clock.placement_due(db.conn),
        "forward_backlog": _forward_backlog(db.conn),  # issue 12: not yet acked by the province
        "kiosks": {row[0]: {"online": bool(row[1]), "last_seen": row[2]} for row in q(
            "SELECT id, online, last_seen FROM kiosks ORDER BY id")},
    }


def _forward_backlog(conn) -> int:
    from server.ingest.forward import backlog
    return backlog(conn)
