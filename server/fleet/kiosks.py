"""The kiosk fleet: enrolment with per-kiosk broker credentials, revocation, health.

Each kiosk gets its own broker account whose username is the kiosk id, so the
broker's ACL patterns (``%u``, see :mod:`server.fleet.broker_config`) let it publish only on
its own topics and read only its own acks, config and session. Only a PBKDF2 hash of
the password is kept here; the password itself is written once, into the kiosk's
config bundle, and never logged. Losing the bundle means enrolling again (a new
password).

Tables in the server store (migrations ``hailong-server-fleet``), read by the
dashboard's fleet pages:

``enrolled_kiosks``
    ``id`` (text, pk: kiosk id and its broker username), ``commune``, ``counter``
    (the counter id it stands at), ``password_hash`` (mosquitto ``$7$`` PBKDF2-SHA512
    line part), ``enrolled_at`` (Unix s), ``revoked_at`` (Unix s, null while active),
    ``note`` (free text from the technician).
``fleet_meta``
    ``key`` (text pk), ``value`` (text): ``broker_dir`` is where
    ``hailong server broker-config`` last wrote the broker files, so enrolment can
    rewrite the password file there.

Health comes from the core ``kiosks`` table (filled by ingest from each kiosk's
retained status); :func:`fleet_view` joins both into one row per kiosk.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time

import sqlite_utils
from sqlite_utils import Migrations

from hailong.database import immediate
from hailong.errors import HailongError
from sync.contract import valid_id

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server-fleet")

PBKDF2_ITERATIONS = 101  # what mosquitto_passwd 2.0 writes; mosquitto reads the count per line


@migrations()
def m001_enrolment(db: sqlite_utils.Database) -> None:
    db["enrolled_kiosks"].create({
        "id": str, "commune": str, "counter": str, "password_hash": str,
        "enrolled_at": float, "revoked_at": float, "note": str,
    }, pk="id", not_null={"commune", "counter", "password_hash", "enrolled_at"})
    db["fleet_meta"].create({"key": str, "value": str}, pk="key")


class FleetError(HailongError, ValueError):
    """An enrolment request that cannot be done (bad id, unknown kiosk, ...)."""


def new_password() -> str:
    return secrets.token_urlsafe(24)


def hash_password(password: str, *, salt: bytes | None = None,
                  iterations: int = PBKDF2_ITERATIONS) -> str:
    """The ``$7$`` hash mosquitto 2.0 keeps in its password file (PBKDF2-SHA512,
    12-byte salt, 64-byte key, both base64), as ``mosquitto_passwd`` writes it."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def check_password(password: str, hashed: str) -> bool:
    _, _, iterations, salt, key = hashed.split("$")
    expected = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt),
                                   int(iterations))
    return secrets.compare_digest(base64.b64encode(expected).decode(), key)


def check_server_username(username: str) -> None:
    """The server's account must not be a possible kiosk id: the ACL patterns give
    every username the topics of the kiosk of that name."""
    if not username:
        raise FleetError("[broker] username is empty: the server needs its own broker "
                         "account, e.g. username = \"hailong.server\"")
    if valid_id(username):
        raise FleetError(f"[broker] username {username!r} could also be a kiosk id; use a "
                         "name with a dot, e.g. \"hailong.server\"")


class Fleet:
    """Enrolment records in the server store (``db`` from :func:`server.ingest.store.connect`)."""

    def __init__(self, db: sqlite_utils.Database, commune: str):
        self.db = db
        self.commune = commune

    def enrol(self, kiosk: str, counter: str, *, note: str = "") -> str:
        """Enrol ``kiosk`` (or give an enrolled one a new password); returns the
        password, which is not stored anywhere else."""
        for what, value in (("kiosk", kiosk), ("counter", counter)):
            if not valid_id(value):
                raise FleetError(f"{what} id {value!r} must be lower-case letters, digits, "
                                 "'-' or '_' (it is part of MQTT topics)")
        password = new_password()
        with immediate(self.db):
            self.db.execute(
                "INSERT INTO enrolled_kiosks (id, commune, counter, password_hash, enrolled_at,"
                " revoked_at, note) VALUES (?,?,?,?,?,NULL,?) ON CONFLICT(id) DO UPDATE SET "
                "commune=excluded.commune, counter=excluded.counter, "
                "password_hash=excluded.password_hash, enrolled_at=excluded.enrolled_at, "
                "revoked_at=NULL, note=excluded.note",
                [kiosk, self.commune, counter, hash_password(password), time.time(), note])
        log.info("enrolled kiosk %s at counter %s", kiosk, counter)
        return password

    def revoke(self, kiosk: str) -> None:
        with immediate(self.db):
            cur = self.db.execute("UPDATE enrolled_kiosks SET revoked_at = ? "
                                  "WHERE id = ? AND revoked_at IS NULL", [time.time(), kiosk])
        if cur.rowcount == 0:
            raise FleetError(f"kiosk {kiosk!r} is not enrolled (or already removed)")
        log.info("revoked kiosk %s", kiosk)

    def active(self) -> list[dict]:
        rows = self.db.query("SELECT * FROM enrolled_kiosks WHERE revoked_at IS NULL")
        return sorted(rows, key=lambda r: r["id"])  # by code point, on either engine

    def get(self, kiosk: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM enrolled_kiosks WHERE id = ?", [kiosk]))
        return rows[0] if rows else None

    # --- where the broker files live ------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM fleet_meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with immediate(self.db):
            self.db.execute("INSERT INTO fleet_meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                            [key, value])


def fleet_view(db, now: float | None = None) -> list[dict]:
    """One row per kiosk, enrolled or merely heard from: identity, enrolment, health.
    ``db``: the store (server/ingest/store.py ``connect``) or one of its connections.

    Keys: ``id, counter, enrolled, revoked, online, last_seen, age_s, backlog,
    rejected, version, clock_skew, clock_synced, disk_free_mb, last_error,
    ack_clock_skew, config_revision`` (the roster revision the kiosk holds),
    ``rejected_reason`` (why the server last refused one of the kiosk's ratings, as the
    kiosk reports it), ``server_rejected`` and ``server_rejected_reason`` (the server's
    own count of what it refused from that kiosk, and the last reason). ``clock_skew`` is the kiosk's clock minus the server's when the
    status arrived; ``ack_clock_skew`` the same from the server time carried in the
    last ack (kiosk clock at receipt minus server clock at sending: it includes the
    network delay, and does not depend on when the status was queued).
    """
    now = time.time() if now is None else now
    conn = getattr(db, "conn", db)
    rows: dict[str, dict] = {}
    for r in conn.execute("SELECT id, counter, enrolled_at, revoked_at FROM enrolled_kiosks"):
        rows[r[0]] = {"id": r[0], "counter": r[1], "enrolled": r[2] is not None,
                      "revoked": r[3] is not None}
    for kid, online, last_seen, status, skew in conn.execute(
            "SELECT id, online, last_seen, status, clock_skew FROM kiosks"):
        row = rows.setdefault(kid, {"id": kid, "counter": None, "enrolled": False,
                                    "revoked": False})
        s = json.loads(status) if status else {}
        row.update(online=bool(online), last_seen=last_seen,
                   age_s=round(now - last_seen, 1) if last_seen else None,
                   backlog=s.get("backlog"), rejected=s.get("rejected"),
                   version=s.get("version"), clock_skew=skew,
                   clock_synced=s.get("clock_synced"), disk_free_mb=s.get("disk_free_mb"),
                   last_error=s.get("last_error"), ack_clock_skew=_ack_skew(s),
                   config_revision=s.get("config_revision"),
                   pin_failures=s.get("pin_failures"))
        row["rejected_reason"] = s.get("last_rejected_reason")
    # What the server itself refused from each kiosk (issue 8): a count and the last
    # reason, also for messages that named no rating.
    for kid, n, reason in conn.execute(
            "SELECT kiosk, count(*), (SELECT reason FROM rejections r2 WHERE r2.kiosk = "
            "r.kiosk ORDER BY id DESC LIMIT 1) FROM rejections r WHERE kiosk IS NOT NULL "
            "GROUP BY kiosk"):
        if kid in rows:
            rows[kid]["server_rejected"] = n
            rows[kid]["server_rejected_reason"] = reason
    empty = dict(online=False, last_seen=None, age_s=None, backlog=None, rejected=None,
                 version=None, clock_skew=None, clock_synced=None, disk_free_mb=None,
                 last_error=None, ack_clock_skew=None, config_revision=None,
                 rejected_reason=None, server_rejected=0, server_rejected_reason=None,
                 pin_failures=None)
    out = [{**empty, **rows[k]} for k in sorted(rows)]
    from server.ingest.identity import duplicates
    dup = duplicates(conn, now)
    for row in out:
        row["duplicate"] = dup.get(row["id"])
    for row in out:
        if row["revoked"]:
            # a removed kiosk cannot say goodbye (the broker drops it at the reload), so
            # its last retained status may still say online
            row["online"] = False
    return out


def _ack_skew(status: dict) -> float | None:
    at, server_time = status.get("last_ack_at"), status.get("last_ack_server_time")
    return round(at - server_time, 3) if at and server_time else None
