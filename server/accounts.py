"""Dashboard accounts: users and roles, argon2 passwords, sessions with CSRF tokens,
slow-down after failed logins, and the audit log.

Roles (DOMAIN.md "Who uses it"): a *leader* sees everything; the *office* does
follow-up and reports; a *technician* looks after kiosks and never sees ratings of
people. An *official* (issue 9) may only open the counter page that starts a rating at
their kiosk; they see no rating and no figure.

Sessions live in the store, not in a signed cookie, so logging out (or deleting a
user) ends them at once; the cookie holds only a random token whose SHA-256 is kept.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
import sqlite3
import time
from dataclasses import dataclass

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Migrations

from hailong.errors import HailongError

log = logging.getLogger(__name__)

migrations = Migrations("hailong-server-accounts")

ROLES = ("leader", "office", "technician", "official")

# What each role may do; pages and API routes ask for one of these.
PERMISSIONS: dict[str, frozenset[str]] = {
    "leader": frozenset({"overview", "people", "followup", "contact", "reports", "fleet",
                         "alerts", "audit"}),
    "office": frozenset({"overview", "followup", "contact", "reports", "alerts"}),
    "technician": frozenset({"fleet", "alerts"}),
    # issue 9: the official at a counter only starts ratings for their own citizens;
    # no figures, no ratings, no cases
    "official": frozenset({"counter_page"}),
}

# Failed logins for one username (or from one address) before each further try has to
# wait; the wait doubles with every failure, up to MAX_WAIT seconds.
FREE_FAILURES = 4
MAX_WAIT = 300.0
FAILURE_WINDOW = 3600.0

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class AccountError(HailongError, ValueError):
    """A bad username, role or password given to ``add-user``."""


@migrations()
def m001_accounts(db: sqlite_utils.Database) -> None:
    db["users"].create({"username": str, "password_hash": str, "role": str,
                        "created_at": float, "disabled": int}, pk="username")
    db["web_sessions"].create({"token_hash": str, "username": str, "csrf": str,
                               "created_at": float, "expires_at": float}, pk="token_hash")
    db["web_sessions"].create_index(["username"])
    db["login_failures"].create({"key": str, "count": int, "last_at": float}, pk="key")
    db["audit"].create({"id": int, "at": float, "username": str, "action": str,
                        "target": str, "detail": str}, pk="id")
    db["audit"].create_index(["target"])


@dataclass(frozen=True)
class User:
    username: str
    role: str

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, ())


@dataclass(frozen=True)
class WebSession:
    user: User
    csrf: str
    token_hash: str


def _check_username(username: str) -> str:
    username = username.strip()
    if not username or len(username) > 64 or not all(
            c.isalnum() or c in "._-@" for c in username):
        raise AccountError(f"username {username!r}: use 1-64 letters, digits, '.', '_', '-', '@'")
    return username


def add_user(conn: sqlite3.Connection, username: str, role: str, password: str) -> User:
    """Create an account, or reset the password and role of an existing one."""
    username = _check_username(username)
    if role not in ROLES:
        raise AccountError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AccountError("the password must be at least 8 characters")
    with conn:
        conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at, disabled) "
            "VALUES (?,?,?,?,0) ON CONFLICT(username) DO UPDATE SET "
            "password_hash = excluded.password_hash, role = excluded.role, disabled = 0",
            [username, _hasher.hash(password), role, time.time()])
        conn.execute("DELETE FROM web_sessions WHERE username = ?", [username])
    audit(conn, "cli", "user.set", username, {"role": role})
    return User(username, role)


def wait_before_login(conn: sqlite3.Connection, keys: list[str],
                      now: float | None = None) -> float:
    """Seconds the caller must still wait before a login try for these keys is heard."""
    now = time.time() if now is None else now
    wait = 0.0
    for key in keys:
        row = conn.execute("SELECT count, last_at FROM login_failures WHERE key = ?",
                           [key]).fetchone()
        if not row or now - row[1] > FAILURE_WINDOW or row[0] < FREE_FAILURES:
            continue
        delay = min(MAX_WAIT, 2.0 ** (row[0] - FREE_FAILURES + 1))
        wait = max(wait, row[1] + delay - now)
    return max(0.0, wait)


def _failed(conn: sqlite3.Connection, keys: list[str], now: float) -> None:
    with conn:
        for key in keys:
            conn.execute(
                "INSERT INTO login_failures (key, count, last_at) VALUES (?, 1, ?) "
                "ON CONFLICT(key) DO UPDATE SET last_at = excluded.last_at, count = CASE "
                "WHEN excluded.last_at - login_failures.last_at > ? THEN 1 "
                "ELSE login_failures.count + 1 END", [key, now, FAILURE_WINDOW])


def authenticate(conn: sqlite3.Connection, username: str, password: str,
                 address: str = "") -> User | None:
    """The user if the password is right; counts failures (callers check
    :func:`wait_before_login` first)."""
    now = time.time()
    keys = [f"user:{username.strip().lower()}"] + ([f"addr:{address}"] if address else [])
    row = conn.execute("SELECT password_hash, role, disabled FROM users WHERE username = ?",
                       [username.strip()]).fetchone()
    ok = False
    if row and not row[2]:
        try:
            ok = _hasher.verify(row[0], password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        # Spend the same time as a real check, so timing does not tell who has an account.
        try:
            _hasher.verify(_dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            pass
    if not ok:
        _failed(conn, keys, now)
        audit(conn, username.strip()[:64], "login.failed", "", {"address": address})
        return None
    with conn:
        conn.execute("DELETE FROM login_failures WHERE key = ?", [keys[0]])
    return User(username.strip(), row[1])


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password")


def start_session(conn: sqlite3.Connection, user: User, hours: float) -> tuple[str, str]:
    """A new session; returns (cookie token, CSRF token)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = time.time()
    with conn:
        conn.execute("DELETE FROM web_sessions WHERE expires_at < ?", [now])
        conn.execute("INSERT INTO web_sessions (token_hash, username, csrf, created_at, "
                     "expires_at) VALUES (?,?,?,?,?)",
                     [_digest(token), user.username, csrf, now, now + hours * 3600])
    audit(conn, user.username, "login", "", {})
    return token, csrf


def session_for(conn: sqlite3.Connection, token: str | None) -> WebSession | None:
    if not token:
        return None
    row = conn.execute(
        "SELECT s.username, u.role, s.csrf, s.token_hash FROM web_sessions s "
        "JOIN users u ON u.username = s.username "
        "WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
        [_digest(token), time.time()]).fetchone()
    if not row:
        return None
    return WebSession(User(row[0], row[1]), row[2], row[3])


def end_session(conn: sqlite3.Connection, session: WebSession) -> None:
    with conn:
        conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", [session.token_hash])
    audit(conn, session.user.username, "logout", "", {})


def csrf_ok(session: WebSession, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(session.csrf, given)


def audit(conn: sqlite3.Connection, username: str, action: str, target: str,
          detail: dict) -> None:
    """Append to the audit log (follow-up actions, exports, logins)."""
    with conn:
        conn.execute("INSERT INTO audit (at, username, action, target, detail) "
                     "VALUES (?,?,?,?,?)",
                     [time.time(), username, action, target,
                      json.dumps(detail, ensure_ascii=False)])


def audit_trail(conn: sqlite3.Connection, target: str | None = None,
                limit: int = 200) -> list[dict]:
    where, args = ("WHERE target = ?", [target]) if target is not None else ("", [])
    rows = conn.execute(f"SELECT at, username, action, target, detail FROM audit {where} "
                        "ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
    return [{"at": r[0], "username": r[1], "action": r[2], "target": r[3],
             "detail": json.loads(r[4] or "{}")} for r in rows]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
