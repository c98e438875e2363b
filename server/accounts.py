"""Dashboard accounts: users and roles, argon2 passwords, sessions with CSRF tokens,
slow-down after failed logins, disabling / removing / resetting accounts, and the
audit log.

Roles (DOMAIN.md "Who uses it"): a *leader* sees everything; the *office* does
follow-up and reports; a *technician* looks after kiosks and never sees ratings of
people. An *official* account (role ``official``, issue 9) is one rated official on
the roster (``users.official``) and may only open the counter page that starts a rating
at their kiosk: it sees no rating and no figure. An office user who also serves at a
counter is linked to their official the same way and cannot act on their own cases
(issue 8).

Login throttle (issue 8): each try is claimed in one write transaction before the
password is checked, so simultaneous guesses cannot slip past the count; failures
count per account and per client address, except from a browser that logged in as
that user before (a "device cookie", OWASP), which is counted on its own so a
stranger can never keep the owner out.

Sessions live in the store, not in a signed cookie, so logging out (or deleting a
user) ends them at once; the cookie holds only a random token whose SHA-256 is kept.
"""

from __future__ import annotations

import contextlib
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
                         "alerts", "audit", "accounts"}),
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


@migrations()
def m002_i8web_devices_and_officials(db: sqlite_utils.Database) -> None:
    # issue 8: a dashboard user may also be a rated official (an office clerk who serves
    # at a counter): linked here, they cannot act on their own cases.
    db["users"].add_column("official", str)
    # browsers that logged in before ("device cookies", OWASP): a stranger's failures
    # against an account never slow its owner's known browser down.
    db["login_devices"].create({"token_hash": str, "username": str, "created_at": float,
                                "last_at": float}, pk="token_hash")
    db["login_devices"].create_index(["username"])


@dataclass(frozen=True)
class User:
    username: str
    role: str
    official: str | None = None  # the roster official this person is, if rated too

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


def add_user(conn: sqlite3.Connection, username: str, role: str, password: str,
             official: str | None = None) -> User:
    """Create an account, or reset the password and role of an existing one.
    ``official``: the roster official this user also is (kept when not given)."""
    username = _check_username(username)
    if role not in ROLES:
        raise AccountError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    _check_password(password)
    if official is not None:
        _check_official(conn, official)
    with conn:
        conn.execute(
            "INSERT INTO users (username, password_hash, role, created_at, disabled, "
            "official) VALUES (?,?,?,?,0,?) ON CONFLICT(username) DO UPDATE SET "
            "password_hash = excluded.password_hash, role = excluded.role, disabled = 0, "
            "official = coalesce(excluded.official, users.official)",
            [username, _hasher.hash(password), role, time.time(), official or None])
        conn.execute("DELETE FROM web_sessions WHERE username = ?", [username])
    audit(conn, "cli", "user.set", username,
          {"role": role, **({"official": official} if official else {})})
    return User(username, role, official or None)


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise AccountError("the password must be at least 8 characters")


def _check_official(conn: sqlite3.Connection, official: str) -> None:
    if not conn.execute("SELECT 1 FROM officials WHERE id = ?", [official]).fetchone():
        raise AccountError(f"no official {official!r} in the roster (add it with "
                           "`hailong server roster add-official`)")


def login_keys(username: str, address: str = "", device: str | None = None) -> list[str]:
    """What one login try is counted against. A browser that logged in as this user
    before (its device key) is counted on its own: strangers' failures against the
    account or from a shared address never slow it down, so nobody can lock the owner
    out (OWASP "device cookies"). Anyone else: the account and the address."""
    if device:
        return [device]
    return [f"user:{username.strip().lower()}"] + ([f"addr:{address}"] if address else [])


def _wait(conn: sqlite3.Connection, keys: list[str], now: float) -> float:
    wait = 0.0
    for key in keys:
        row = conn.execute("SELECT count, last_at FROM login_failures WHERE key = ?",
                           [key]).fetchone()
        if not row or now - row[1] > FAILURE_WINDOW or row[0] < FREE_FAILURES:
            continue
        delay = min(MAX_WAIT, 2.0 ** (row[0] - FREE_FAILURES + 1))
        wait = max(wait, row[1] + delay - now)
    return max(0.0, wait)


def wait_before_login(conn: sqlite3.Connection, keys: list[str],
                      now: float | None = None) -> float:
    """Seconds the caller must still wait before a login try for these keys is heard."""
    return _wait(conn, keys, time.time() if now is None else now)


def claim_login_try(conn: sqlite3.Connection, keys: list[str],
                    now: float | None = None) -> float:
    """Take one login try for ``keys``: 0 when it may go ahead (and it is already
    counted as a failure, :func:`authenticate` takes it back on success), otherwise the
    seconds still to wait. Look and count are one write transaction, so a concurrent
    burst gets the same FREE_FAILURES tries as a slow one (issue 8: a burst got ~11)."""
    now = time.time() if now is None else now
    with _immediate(conn):
        wait = _wait(conn, keys, now)
        if wait <= 0:
            _count(conn, keys, now)
    return wait


@contextlib.contextmanager
def _immediate(conn: sqlite3.Connection):
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def _count(conn: sqlite3.Connection, keys: list[str], now: float) -> None:
    for key in keys:
        conn.execute(
            "INSERT INTO login_failures (key, count, last_at) VALUES (?, 1, ?) "
            "ON CONFLICT(key) DO UPDATE SET last_at = excluded.last_at, count = CASE "
            "WHEN excluded.last_at - login_failures.last_at > ? THEN 1 "
            "ELSE login_failures.count + 1 END", [key, now, FAILURE_WINDOW])


def _failed(conn: sqlite3.Connection, keys: list[str], now: float) -> None:
    with conn:
        _count(conn, keys, now)


def authenticate(conn: sqlite3.Connection, username: str, password: str,
                 address: str = "", *, claimed: list[str] | None = None) -> User | None:
    """The user if the password is right. Counts failures, unless the try was already
    counted with :func:`claim_login_try` (pass its keys as ``claimed``: a success then
    takes the count back)."""
    now = time.time()
    keys = claimed if claimed is not None else login_keys(username, address)
    row = conn.execute("SELECT password_hash, role, disabled, official FROM users "
                       "WHERE username = ?", [username.strip()]).fetchone()
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
        if claimed is None:
            _failed(conn, keys, now)
        audit(conn, username.strip()[:64], "login.failed", "", {"address": address})
        return None
    with conn:
        for key in keys:
            if key.startswith(("user:", "device:")):
                conn.execute("DELETE FROM login_failures WHERE key = ?", [key])
            elif claimed is not None:  # the address: take back this try's count
                conn.execute("UPDATE login_failures SET count = CASE WHEN count > 1 "
                             "THEN count - 1 ELSE 0 END WHERE key = ?", [key])
    return User(username.strip(), row[1], row[3])


def device_key(conn: sqlite3.Connection, token: str | None, username: str) -> str | None:
    """The login-throttle key of a browser that logged in as ``username`` before."""
    if not token or len(token) > 100:
        return None
    digest = _digest(token)
    row = conn.execute("SELECT 1 FROM login_devices WHERE token_hash = ? AND username = ?",
                       [digest, username.strip()]).fetchone()
    return f"device:{digest}" if row else None


def remember_device(conn: sqlite3.Connection, username: str, token: str | None = None,
                    keep: int = 20) -> str:
    """After a good login: the browser's device token (``token`` kept if it is already
    this user's), remembered for the throttle; a user's oldest devices beyond ``keep``
    are forgotten."""
    now = time.time()
    if token and device_key(conn, token, username):
        with conn:
            conn.execute("UPDATE login_devices SET last_at = ? WHERE token_hash = ?",
                         [now, _digest(token)])
        return token
    token = secrets.token_urlsafe(32)
    with conn:
        conn.execute("INSERT INTO login_devices (token_hash, username, created_at, last_at) "
                     "VALUES (?,?,?,?)", [_digest(token), username, now, now])
        conn.execute("DELETE FROM login_devices WHERE username = ? AND token_hash NOT IN "
                     "(SELECT token_hash FROM login_devices WHERE username = ? "
                     "ORDER BY last_at DESC LIMIT ?)", [username, username, keep])
    return token


# --- managing accounts (CLI and the leader's users page) -----------------------------

def users(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("SELECT username, role, disabled, official, created_at FROM users"
                        ).fetchall()
    return [{"username": r[0], "role": r[1], "disabled": bool(r[2]), "official": r[3],
             "created_at": r[4]} for r in sorted(rows)]  # code point order on either engine


def _need_user(conn: sqlite3.Connection, username: str) -> tuple:
    row = conn.execute("SELECT username, role, disabled FROM users WHERE username = ?",
                       [username.strip()]).fetchone()
    if not row:
        raise AccountError(f"no user {username!r}")
    return row


def _keep_a_leader(conn: sqlite3.Connection, username: str) -> None:
    others = conn.execute("SELECT count(*) FROM users WHERE role = 'leader' AND disabled = 0 "
                          "AND username != ?", [username]).fetchone()[0]
    if not others:
        raise AccountError(f"{username!r} is the last active leader; add another leader "
                           "first (nobody could manage accounts or see everything)")


def _end_sessions(conn: sqlite3.Connection, username: str) -> None:
    conn.execute("DELETE FROM web_sessions WHERE username = ?", [username])


def set_disabled(conn: sqlite3.Connection, username: str, disabled: bool, by: str) -> None:
    """Disable (every session ends at once, no login) or enable an account."""
    name, role, _ = _need_user(conn, username)
    if disabled and role == "leader":
        _keep_a_leader(conn, name)
    with conn:
        conn.execute("UPDATE users SET disabled = ? WHERE username = ?", [int(disabled), name])
        if disabled:
            _end_sessions(conn, name)
    audit(conn, by, "user.disabled" if disabled else "user.enabled", name, {})


def remove_user(conn: sqlite3.Connection, username: str, by: str) -> None:
    """Delete an account, its sessions and its remembered browsers (the audit log keeps
    what it did)."""
    name, role, disabled = _need_user(conn, username)
    if role == "leader" and not disabled:
        _keep_a_leader(conn, name)
    with conn:
        _end_sessions(conn, name)
        conn.execute("DELETE FROM login_devices WHERE username = ?", [name])
        conn.execute("DELETE FROM users WHERE username = ?", [name])
    audit(conn, by, "user.removed", name, {"role": role})


def reset_password(conn: sqlite3.Connection, username: str, password: str, by: str) -> None:
    """A new password; the user's sessions and remembered browsers end (a reset often
    follows a leaked password)."""
    name, _, _ = _need_user(conn, username)
    _check_password(password)
    with conn:
        conn.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                     [_hasher.hash(password), name])
        _end_sessions(conn, name)
        conn.execute("DELETE FROM login_devices WHERE username = ?", [name])
        conn.execute("DELETE FROM login_failures WHERE key = ?", [f"user:{name.lower()}"])
    audit(conn, by, "user.password-reset", name, {})


def set_official(conn: sqlite3.Connection, username: str, official: str | None,
                 by: str) -> None:
    """Link a user to the roster official they also are (None: unlink)."""
    name, _, _ = _need_user(conn, username)
    if official:
        _check_official(conn, official)
    with conn:
        conn.execute("UPDATE users SET official = ? WHERE username = ?",
                     [official or None, name])
    audit(conn, by, "user.official", name, {"official": official or None})


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
        "SELECT s.username, u.role, s.csrf, s.token_hash, u.official FROM web_sessions s "
        "JOIN users u ON u.username = s.username "
        "WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
        [_digest(token), time.time()]).fetchone()
    if not row:
        return None
    return WebSession(User(row[0], row[1], row[4]), row[2], row[3])


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
