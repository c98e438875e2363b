"""Province dashboard accounts on PostgreSQL: users with roles, argon2 passwords (as the
commune's server/accounts.py), sessions kept in the store with a CSRF token each, and
a slow-down after failed logins.

Roles (docs/province-guide.md, "Who sees what"):

* ``viewer`` — the province ranks communes: the ranking, each commune's trend, the
  SIPAS indices and the period report. Commune-level figures only.
* ``province-admin`` — the same, and figures per official of a commune, by official id
  only (names never leave the commune), for officials with at least
  ``[web] min_official_ratings`` ratings in the period.

Sessions live in the store, not in a signed cookie, so logging out ends one at once;
the cookie holds a random token whose SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hailong.errors import HailongError
from server.accounts import FREE_FAILURES, MAX_WAIT, _check_password, _check_username

ROLES = ("province-admin", "viewer")
PERMISSIONS: dict[str, frozenset[str]] = {
    "province-admin": frozenset({"communes", "sipas", "reports", "officials"}),
    "viewer": frozenset({"communes", "sipas", "reports"}),
}

_hasher = PasswordHasher()  # argon2id, the library's recommended parameters
_DUMMY = _hasher.hash("not-a-real-password")


class AccountError(HailongError, ValueError):
    """A bad username, role or password given to ``add-user``."""


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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def add_user(pool, username: str, role: str, password: str) -> User:
    """Create an account, or set a new password and role (ending its sessions)."""
    try:
        username = _check_username(username)
        _check_password(password)
    except ValueError as e:
        raise AccountError(str(e)) from None
    if role not in ROLES:
        raise AccountError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    with pool.connection() as conn, conn.transaction():
        conn.execute("INSERT INTO users (username, password_hash, role) VALUES (%s,%s,%s) "
                     "ON CONFLICT (username) DO UPDATE SET password_hash = "
                     "excluded.password_hash, role = excluded.role, disabled = false",
                     [username, _hasher.hash(password), role])
        conn.execute("DELETE FROM web_sessions WHERE username = %s", [username])
    return User(username, role)


def _wait(conn, keys: list[str]) -> float:
    """Seconds to wait before another try: doubling after FREE_FAILURES failures."""
    rows = conn.execute("SELECT count, last_at FROM login_failures WHERE key = ANY(%s) "
                        "AND last_at > now() - interval '1 hour'", [keys]).fetchall()
    wait = 0.0
    for count, last in rows:
        if count >= FREE_FAILURES:
            due = last + timedelta(seconds=min(MAX_WAIT, 2.0 ** (count - FREE_FAILURES)))
            wait = max(wait, (due - _now()).total_seconds())
    return wait


def authenticate(pool, username: str, password: str, address: str = ""
                 ) -> tuple[User | None, float]:
    """(the user, 0) if the password is right; (None, 0) if wrong; (None, seconds)
    when too many failures from this account or address ask for a wait first."""
    username = username.strip()[:64]
    keys = [f"user:{username}", f"addr:{address}"]
    with pool.connection() as conn, conn.transaction():
        wait = _wait(conn, keys)
        if wait > 0:
            return None, wait
        row = conn.execute("SELECT password_hash, role, disabled FROM users WHERE "
                           "username = %s", [username]).fetchone()
        ok = False
        try:  # the same work for unknown users: timing tells nobody who exists
            ok = _hasher.verify(row[0] if row and not row[2] else _DUMMY, password) \
                and bool(row and not row[2])
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            for key in keys:
                conn.execute("INSERT INTO login_failures (key, count, last_at) VALUES "
                             "(%s, 1, now()) ON CONFLICT (key) DO UPDATE SET count = "
                             "CASE WHEN login_failures.last_at > now() - interval '1 hour' "
                             "THEN login_failures.count + 1 ELSE 1 END, last_at = now()",
                             [key])
            return None, 0.0
        conn.execute("DELETE FROM login_failures WHERE key = %s", [keys[0]])
        return User(username, row[1]), 0.0


def start_session(pool, user: User, hours: float) -> tuple[str, str]:
    """A new session; returns (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with pool.connection() as conn, conn.transaction():
        conn.execute("DELETE FROM web_sessions WHERE expires_at < now()")
        conn.execute("INSERT INTO web_sessions (token_hash, username, csrf, expires_at) "
                     "VALUES (%s,%s,%s,%s)",
                     [_digest(token), user.username, csrf, _now() + timedelta(hours=hours)])
    return token, csrf


def session_for(pool, token: str | None) -> WebSession | None:
    if not token or len(token) > 100:
        return None
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT s.username, u.role, s.csrf, s.token_hash FROM web_sessions s JOIN users "
            "u ON u.username = s.username WHERE s.token_hash = %s AND s.expires_at > now() "
            "AND NOT u.disabled", [_digest(token)]).fetchone()
    if not row:
        return None
    return WebSession(User(row[0], row[1]), row[2], row[3])


def end_session(pool, session: WebSession) -> None:
    with pool.connection() as conn, conn.transaction():
        conn.execute("DELETE FROM web_sessions WHERE token_hash = %s", [session.token_hash])


def csrf_ok(session: WebSession, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(session.csrf, given)
