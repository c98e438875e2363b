"""The transaction feed (issue 9): who may start a rating at a kiosk, and the sessions
started.

A session tells the kiosk at a counter "the citizen now being served is this dossier,
served by this official": the next rating there is for it. Two ways in on the server,
one path out:

* ``POST /api/v1/sessions`` for the province's one-stop software or a queue-number
  system, authorised by an integration token (``hailong server add-token``);
* the official's counter page (dashboard role ``official``).

Both call :func:`open_session`, which validates everything (the caller is "someone
else's code", DOMAIN.md), stamps ``expires_at`` with the server's own clock, publishes
the :class:`sync.contract.Session` to that kiosk's ``session`` topic (QoS 1, not
retained: an old session must not reach a kiosk that reconnects tomorrow) and records
it. Nothing is published unless every check passed.

Tables (migrations ``hailong-server-feed``):

``feed_tokens``
    ``name`` (pk), ``token_hash`` (SHA-256 of the token: the token is random and long,
    so a slow hash buys nothing), ``counters`` (JSON list; empty = every counter),
    ``created_at``, ``last_used_at``.
``feed_sessions``
    one row per session published: ``id`` (uuid), ``source`` (``token:NAME`` or
    ``official:USERNAME``), ``kiosk``, ``counter``, ``transaction_id``, ``dossier``,
    ``procedure``, ``field``, ``official``, ``created_at``, ``expires_at``,
    ``published_at``.

It also indexes ``ratings.transaction_id`` (one rating per transaction is checked on
every stored rating). An account of role ``official`` is the roster official named in
``users.official`` (the column :mod:`server.accounts` keeps, issue 8).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import msgspec
import sqlite_utils
from sqlite_utils import Migrations

from hailong.errors import HailongError
from sync import contract

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server-feed")

MAX_BODY_BYTES = 4096          # a session request is a few hundred bytes
TOKEN_PREFIX = "hlt_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@migrations()
def m001_i9feed_tokens(db: sqlite_utils.Database) -> None:
    db["feed_tokens"].create({"name": str, "token_hash": str, "counters": str,
                              "created_at": float, "last_used_at": float},
                             pk="name", not_null={"token_hash", "counters", "created_at"})
    db["feed_tokens"].create_index(["token_hash"], unique=True)
    db["feed_sessions"].create({
        "id": str, "source": str, "kiosk": str, "counter": str, "transaction_id": str,
        "dossier": str, "procedure": str, "field": str, "official": str,
        "created_at": float, "expires_at": float, "published_at": float,
    }, pk="id", not_null={"source", "kiosk", "counter", "transaction_id", "created_at",
                          "expires_at"})
    db["feed_sessions"].create_index(["created_at"])
    # one rating per transaction: ingest looks a transaction up for every new rating
    db["ratings"].create_index(["transaction_id"], if_not_exists=True)


# --- errors: each carries the HTTP status the API answers ----------------------------

class FeedError(HailongError, ValueError):
    """A session request that is refused; ``status`` is the HTTP answer."""
    status = 422

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))  # one line, whatever msgspec said


class BadRequest(FeedError):
    status = 400


class Unauthorized(FeedError):
    status = 401


class Forbidden(FeedError):
    status = 403


class NotPublished(FeedError, RuntimeError):
    """The broker did not take the session (not connected, or no PUBACK in time)."""
    status = 503


# --- integration tokens ---------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    name: str
    counters: tuple[str, ...]   # empty: every counter

    def may_use(self, counter: str) -> bool:
        return not self.counters or counter in self.counters


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_token(conn, name: str, counters: list[str] | tuple[str, ...] = ()) -> str:
    """Make a token called ``name`` (replacing one of that name); returns the token,
    which is stored only as its hash."""
    if not NAME.match(name):
        raise FeedError(f"token name {name!r}: use 1-64 letters, digits, '.', '_', '-', '@'")
    for c in counters:
        if not contract.valid_id(c):
            raise FeedError(f"counter id {c!r} must be lower-case letters, digits, '-' or '_'")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with conn:
        conn.execute("INSERT INTO feed_tokens (name, token_hash, counters, created_at) "
                     "VALUES (?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
                     "token_hash = excluded.token_hash, counters = excluded.counters, "
                     "created_at = excluded.created_at, last_used_at = NULL",
                     [name, _digest(token), json.dumps(sorted(set(counters))), time.time()])
    log.info("integration token %s made (counters: %s)", name, ", ".join(counters) or "all")
    return token


def remove_token(conn, name: str) -> None:
    with conn:
        cur = conn.execute("DELETE FROM feed_tokens WHERE name = ?", [name])
    if cur.rowcount == 0:
        raise FeedError(f"no integration token named {name!r}")
    log.info("integration token %s removed", name)


def list_tokens(conn) -> list[dict]:
    return [{"name": n, "counters": json.loads(c), "created_at": at, "last_used_at": used}
            for n, c, at, used in conn.execute(
                "SELECT name, counters, created_at, last_used_at FROM feed_tokens "
                "ORDER BY name")]


def token_for(conn, header: str | None) -> Token:
    """The token an ``Authorization: Bearer ...`` header names, or :class:`Unauthorized`."""
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("an integration token is required: Authorization: Bearer TOKEN")
    row = conn.execute("SELECT name, counters FROM feed_tokens WHERE token_hash = ?",
                       [_digest(given.strip())]).fetchone()
    if row is None:
        raise Unauthorized("unknown integration token")
    return Token(row[0], tuple(json.loads(row[1])))


# --- the request --------------------------------------------------------------------

Field = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class SessionRequest(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The JSON body of ``POST /api/v1/sessions``."""
    kiosk: contract.Id | None = None
    counter: contract.Id | None = None
    transaction: Field | None = None
    dossier: Field | None = None
    procedure: Field | None = None
    field: Field | None = None
    official: contract.Id | None = None
    expires_in: Annotated[float, msgspec.Meta(ge=1, le=86400)] | None = None


_request_decoder = msgspec.json.Decoder(SessionRequest)


def parse_request(body: bytes) -> SessionRequest:
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"body too large ({len(body)} bytes; at most {MAX_BODY_BYTES})")
    try:
        return _request_decoder.decode(body)
    except msgspec.ValidationError as e:
        raise FeedError(str(e)) from None
    except msgspec.DecodeError as e:
        raise BadRequest(f"body is not a JSON object: {e}") from None


# --- publishing -----------------------------------------------------------------------

Publish = Callable[[str, str, bytes], None]   # (commune, kiosk, payload); raises NotPublished


class MqttPublisher:
    """Publishes sessions through the server's MQTT client (ingest's: the broker names
    sessions by username, so a second client with the server's account would throw
    ingest off). Returns once the broker acknowledged (QoS 1 PUBACK)."""

    def __init__(self, client, connected: threading.Event, timeout: float = 5.0):
        self.client, self.connected, self.timeout = client, connected, timeout

    def __call__(self, commune: str, kiosk: str, payload: bytes) -> None:
        if not self.connected.is_set():
            raise NotPublished("the server is not connected to the MQTT broker; try again")
        info = self.client.publish(contract.topic(commune, kiosk, "session"), payload,
                                   qos=1, retain=False)
        try:
            info.wait_for_publish(timeout=self.timeout)
        except (RuntimeError, ValueError) as e:
            raise NotPublished(f"the session was not handed to the broker: {e}") from None
        if not info.is_published():
            raise NotPublished(f"the broker did not confirm the session within "
                               f"{self.timeout:g} s (it may still arrive)")


# --- opening a session --------------------------------------------------------------

def _kiosks_at(conn, counter: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT id FROM enrolled_kiosks WHERE counter = ? AND revoked_at IS NULL ORDER BY id",
        [counter])]


def _resolve(conn, req: SessionRequest) -> tuple[str, str]:
    """(kiosk, counter) the request is for, from the enrolled kiosks."""
    if req.kiosk is None and req.counter is None:
        raise FeedError("give 'kiosk' or 'counter'")
    if req.kiosk is not None:
        row = conn.execute("SELECT counter FROM enrolled_kiosks WHERE id = ? AND "
                           "revoked_at IS NULL", [req.kiosk]).fetchone()
        if row is None:
            raise FeedError(f"unknown kiosk {req.kiosk!r}")
        if req.counter is not None and req.counter != row[0]:
            raise FeedError(f"kiosk {req.kiosk!r} stands at counter {row[0]!r}, "
                            f"not {req.counter!r}")
        return req.kiosk, row[0]
    kiosks = _kiosks_at(conn, req.counter)
    if not kiosks:
        raise FeedError(f"unknown counter {req.counter!r} (no kiosk stands there)")
    if len(kiosks) > 1:
        raise FeedError(f"counter {req.counter!r} has {len(kiosks)} kiosks "
                        f"({', '.join(kiosks)}): give 'kiosk'")
    return kiosks[0], req.counter


def open_session(conn, config, req: SessionRequest, *, source: str, publish: Publish,
                 token: Token | None = None, now: float | None = None) -> dict:
    """Check ``req``, publish the session to its kiosk, record it; returns
    ``{id, transaction, kiosk, counter, expires_at}``. Raises a :class:`FeedError`
    (nothing published) for anything wrong."""
    kiosk, counter = _resolve(conn, req)
    if token is not None and not token.may_use(counter):
        raise Forbidden(f"token {token.name!r} may not start sessions at counter {counter!r}")
    if req.dossier is not None and not re.fullmatch(config.feed.dossier_pattern, req.dossier):
        raise FeedError(f"dossier {req.dossier!r} does not match [feed] dossier_pattern")
    if req.official is not None and not conn.execute(
            "SELECT 1 FROM officials WHERE id = ? AND active = 1", [req.official]).fetchone():
        raise FeedError(f"official {req.official!r} is not on the roster")
    now = time.time() if now is None else now
    session_id = str(uuid.uuid4())
    expires_at = round(now + (req.expires_in or config.feed.expires_in), 3)
    session = contract.Session(
        v=1, id=session_id, transaction=req.transaction or session_id,
        official=req.official, dossier=req.dossier, procedure=req.procedure,
        field=req.field, at=round(now, 3), expires_at=expires_at)
    payload = contract.encode(session)
    contract.decode_session(payload)  # exactly the kiosk's check: never send what it refuses
    with conn:
        conn.execute(
            "INSERT INTO feed_sessions (id, source, kiosk, counter, transaction_id, dossier, "
            "procedure, field, official, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [session_id, source, kiosk, counter, session.transaction, req.dossier,
             req.procedure, req.field, req.official, now, expires_at])
        if token is not None:
            conn.execute("UPDATE feed_tokens SET last_used_at = ? WHERE name = ?",
                         [now, token.name])
    publish(config.server.commune, kiosk, payload)
    with conn:
        conn.execute("UPDATE feed_sessions SET published_at = ? WHERE id = ?",
                     [time.time(), session_id])
    log.info("session %s (%s) for kiosk %s, dossier %s, from %s", session_id,
             session.transaction, kiosk, req.dossier or "-", source)
    return {"id": session_id, "transaction": session.transaction, "kiosk": kiosk,
            "counter": counter, "expires_at": expires_at}


# --- the official's counter page ---------------------------------------------------------

def official_of(conn, username: str) -> str | None:
    """The roster official a dashboard account of role ``official`` stands for."""
    row = conn.execute("SELECT official FROM users WHERE username = ?", [username]).fetchone()
    return row[0] if row else None


def link_official(conn, username: str, official: str) -> None:
    if not conn.execute("SELECT 1 FROM officials WHERE id = ? AND active = 1",
                        [official]).fetchone():
        raise FeedError(f"no active official {official!r} on the roster (add it with "
                        "`hailong server roster add-official`)")
    with conn:
        conn.execute("UPDATE users SET official = ? WHERE username = ?", [official, username])


def counters_for(conn, official: str) -> list[dict]:
    """Counters with a kiosk where ``official`` may serve: on duty there, listed there,
    or the counter lists nobody (every official). ``{id, name, kiosk, on_duty}``."""
    out = []
    for counter, kiosk in conn.execute(
            "SELECT counter, min(id) FROM enrolled_kiosks WHERE revoked_at IS NULL "
            "GROUP BY counter ORDER BY counter"):
        row = conn.execute("SELECT name, on_duty, officials FROM counters WHERE id = ?",
                           [counter]).fetchone()
        name, on_duty, serving = row or ("", None, "[]")
        serving = json.loads(serving or "[]")
        if serving and official not in serving and on_duty != official:
            continue
        out.append({"id": counter, "name": name or "", "kiosk": kiosk,
                    "on_duty": on_duty == official})
    out.sort(key=lambda c: (not c["on_duty"], c["id"]))
    return out
