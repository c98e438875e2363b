"""The store on PostgreSQL: what server code uses of sqlite-utils' Database, on psycopg 3.

Server code is written once, in portable SQL with ``?`` placeholders (issue 12). This
module makes a PostgreSQL connection behave like the Python ``sqlite3`` connection that
code was written against:

* ``?`` becomes ``%s`` (and a literal ``%`` is doubled) before psycopg sees the SQL;
* transactions begin as ``sqlite3``'s do: implicitly before INSERT/UPDATE/DELETE, never
  for a read, so a reader never sits "idle in transaction" holding locks;
  ``BEGIN IMMEDIATE`` (hailong/database.py) takes one advisory lock per store, so
  writers queue exactly as they do on SQLite;
* ``numeric`` (what avg() and sum() of integers return) loads as a float, or an int
  when whole, as SQLite's figures do;
* text cannot hold NUL on PostgreSQL: a NUL a sender put in a string is stored as
  U+FFFD (SQLite would keep it), so hostile input cannot fail a whole ingest batch;
* a connection lost with the server (a restart) is replaced on the next statement
  outside a transaction, so a long-lived writer recovers as it does on SQLite;
* a ``PRAGMA`` (SQLite's own tuning) does nothing and returns no rows;
* psycopg's errors are raised as their ``sqlite3`` counterparts, so the code's
  ``except sqlite3.IntegrityError`` holds on both engines.

Connections come from one pool per URL per process; ``close()`` gives one back.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import secrets
import sqlite3
import threading

import psycopg
from psycopg import pq
from psycopg.adapt import Loader
from psycopg_pool import ConnectionPool, PoolTimeout

from hailong.errors import HailongError

log = logging.getLogger(__name__)

WRITE_LOCK = 7212013    # pg_advisory_xact_lock key: BEGIN IMMEDIATE
MIGRATE_LOCK = 7212014  # one migrator at a time
POOL_MAX = 40           # ingest, forwarder, watcher, mailer, pusher and 8+ web threads
_DML = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)
_PRAGMA = re.compile(r"\s*PRAGMA\b", re.I)
_IMMEDIATE = re.compile(r"\s*BEGIN\s+IMMEDIATE\s*;?\s*$", re.I)


class StoreUnreachable(HailongError, ConnectionError):
    """The PostgreSQL server named by ``[store] url`` does not answer or refuses us."""


class _NumericLoader(Loader):
    """numeric → int when whole, else float: sum(int) stays an int, avg() a float, as in
    SQLite (Decimal would leak into JSON and arithmetic with floats)."""

    def load(self, data):
        text = bytes(data)
        if text.lstrip(b"-").isdigit():
            return int(text)
        return float(text)  # also NaN and Infinity


def _configure(conn: psycopg.Connection) -> None:
    conn.adapters.register_loader("numeric", _NumericLoader)


_pools: dict[str, ConnectionPool] = {}
_pools_lock = threading.Lock()


def pool(url: str) -> ConnectionPool:
    """The process's pool for ``url``, opened on first use; one clear line if the
    server cannot be reached."""
    with _pools_lock:
        p = _pools.get(url)
        if p is None:
            p = ConnectionPool(url, min_size=1, max_size=POOL_MAX, open=False,
                               kwargs={"autocommit": True}, configure=_configure,
                               name="hailong-store", reconnect_timeout=60,
                               # a connection the server dropped (a restart) is not lent
                               check=ConnectionPool.check_connection)
            try:
                _probe(url)
                p.open(wait=True, timeout=15)
            except (psycopg.Error, PoolTimeout) as e:
                p.close()
                raise StoreUnreachable(f"[store] url: cannot use PostgreSQL at "
                                       f"{_safe(url)}: {_one_line(e)}") from None
            _pools[url] = p
        return p


def _probe(url: str) -> None:
    # the pool retries quietly for ever; one direct attempt gives the server's own reason
    psycopg.connect(url, connect_timeout=10).close()


def close_pool(url: str) -> None:
    """Close the pool for ``url`` (tests, before dropping a database)."""
    from server.ingest import pgschema
    with _pools_lock:
        p = _pools.pop(url, None)
    if p is not None:
        p.close()
    pgschema.forget(url)


def close_pools() -> None:
    with _pools_lock:
        for p in _pools.values():
            p.close()
        _pools.clear()


def _safe(url: str) -> str:
    from server.ingest.engine import describe
    return describe(url)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:300]


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """``?`` → ``%s`` outside string literals and quoted names; every ``%`` doubled
    (psycopg reads the whole text as a format)."""
    out, quote = [], None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


def _as_sqlite_error(e: psycopg.Error) -> sqlite3.Error:
    """The sqlite3 exception the server's code already catches for this failure."""
    text = _one_line(e)
    if isinstance(e, psycopg.IntegrityError):
        return sqlite3.IntegrityError(text)
    if isinstance(e, (psycopg.OperationalError, psycopg.errors.UndefinedTable,
                      psycopg.errors.UndefinedColumn, psycopg.errors.LockNotAvailable)):
        return sqlite3.OperationalError(text)
    if isinstance(e, psycopg.ProgrammingError):
        return sqlite3.ProgrammingError(text)
    return sqlite3.DatabaseError(text)


def _clean(params):
    """The parameters with any NUL in a string replaced (see the module's docstring)."""
    if isinstance(params, dict):
        return params
    if any(type(p) is str and "\x00" in p for p in params):
        return [p.replace("\x00", "\ufffd") if type(p) is str else p for p in params]
    return params


class Cursor:
    """A psycopg cursor answering as a sqlite3 one (fetchone() after a write is None)."""

    __slots__ = ("_cur",)

    def __init__(self, cur: psycopg.Cursor):
        self._cur = cur

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def description(self):
        return self._cur.description

    def fetchone(self):
        return self._cur.fetchone() if self._cur.description is not None else None

    def fetchall(self) -> list:
        return self._cur.fetchall() if self._cur.description is not None else []

    def fetchmany(self, size: int = 1) -> list:
        return self._cur.fetchmany(size) if self._cur.description is not None else []

    def __iter__(self):
        if self._cur.description is None:
            return iter(())
        return iter(self._cur)

    def close(self) -> None:
        self._cur.close()


class Connection:
    """One pooled PostgreSQL connection with sqlite3's transaction behaviour."""

    def __init__(self, url: str):
        self.url = url
        self._changes = 0
        self._pool = pool(url)
        try:
            self._raw = self._pool.getconn(timeout=60)
        except PoolTimeout:
            raise StoreUnreachable(f"[store] url: no free connection to {_safe(url)} "
                                   f"in 60 s (more than {POOL_MAX} in use)") from None

    @property
    def total_changes(self) -> int:
        """Rows changed by INSERT/UPDATE/DELETE on this connection (sqlite3's name)."""
        return self._changes

    @property
    def raw(self) -> psycopg.Connection:
        return self._raw

    @property
    def in_transaction(self) -> bool:
        status = self._raw.info.transaction_status
        return status not in (pq.TransactionStatus.IDLE, pq.TransactionStatus.UNKNOWN)

    def _usable(self) -> None:
        if self._raw.closed and not self.in_transaction:
            self._pool.putconn(self._raw)  # the pool discards a broken connection
            self._raw = self._pool.getconn(timeout=60)
            log.warning("store: connection to %s lost; using a new one", _safe(self.url))

    def execute(self, sql: str, params=()) -> Cursor:
        self._usable()
        if params:
            params = _clean(params)
        if _IMMEDIATE.match(sql):
            self.begin_immediate()
            return Cursor(self._raw.cursor())
        if _PRAGMA.match(sql):  # SQLite's tuning (sync, WAL): PostgreSQL's is the server's
            return Cursor(self._raw.cursor())
        dml = _DML.match(sql)
        if dml and not self.in_transaction:
            self._run("BEGIN")
        # without parameters psycopg reads no placeholders: the text goes as written
        cur = self._run(translate(sql) if params else sql, params)
        if dml and cur.rowcount > 0:
            self._changes += cur.rowcount
        return Cursor(cur)

    def executemany(self, sql: str, seq) -> Cursor:
        self._usable()
        rows = [_clean(row) for row in seq]
        cur = self._raw.cursor()
        if not rows:
            return Cursor(cur)
        if not self.in_transaction:
            self._run("BEGIN")
        try:
            cur.executemany(translate(sql), rows)  # pipelined by psycopg
        except psycopg.Error as e:
            raise _as_sqlite_error(e) from e
        if cur.rowcount > 0:
            self._changes += cur.rowcount
        return Cursor(cur)

    def copy_rows(self, table: str, columns: tuple[str, ...], rows) -> int:
        """Plain rows into ``table`` with COPY (a fraction of executemany's round trips
        and per-row work); inside the current transaction, begun if none is."""
        self._usable()
        rows = [_clean(row) for row in rows]
        if not rows:
            return 0
        if not self.in_transaction:
            self._run("BEGIN")
        names = ", ".join(f'"{c}"' for c in columns)
        try:
            with self._raw.cursor() as cur:
                with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
        except psycopg.Error as e:
            raise _as_sqlite_error(e) from e
        self._changes += len(rows)
        return len(rows)

    def executescript(self, script: str) -> None:
        self._run(script)

    def begin_immediate(self) -> None:
        """BEGIN, then the store's one write lock, held to COMMIT/ROLLBACK: writers queue
        as they do behind SQLite's BEGIN IMMEDIATE (readers never wait)."""
        if self.in_transaction:
            raise sqlite3.OperationalError("cannot start a transaction within a transaction")
        self._run("BEGIN")
        self._run(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")

    def _run(self, sql: str, params=()):
        try:
            return self._raw.execute(sql, params or None)
        except psycopg.Error as e:
            raise _as_sqlite_error(e) from e

    def commit(self) -> None:
        if self._raw.closed:  # never a silent "committed" after the server went away
            raise sqlite3.OperationalError(f"connection to {_safe(self.url)} lost: "
                                           "not committed")
        if self.in_transaction:
            self._run("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self._run("ROLLBACK")

    def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is None:
            return
        try:
            if raw.info.transaction_status != pq.TransactionStatus.IDLE:
                raw.execute("ROLLBACK")  # as sqlite3: closing drops what was not committed
        except psycopg.Error:
            pass
        self._pool.putconn(raw)

    def __del__(self) -> None:
        # a store dropped without close() (a sqlite3 connection closes itself then)
        # must not keep its connection out of the pool for good
        try:
            if getattr(self, "_raw", None) is not None:
                self.close()
        except Exception:  # noqa: BLE001 (interpreter shutdown: nothing to give back)
            pass

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()


class Table:
    """A read-only view of one table with sqlite-utils' names (``rows``, ``rows_where``,
    ``get``, ``count``), for tests and tools; server code uses plain SQL."""

    def __init__(self, db: Database, name: str):
        self.db, self.name = db, name

    @property
    def count(self) -> int:
        return self.db.execute(f'SELECT count(*) FROM "{self.name}"').fetchone()[0]

    @property
    def rows(self):
        return self.rows_where()

    def rows_where(self, where: str | None = None, where_args=(), order_by: str | None = None):
        sql = f'SELECT * FROM "{self.name}"'
        if where:
            sql += f" WHERE {where}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        return self.db.query(sql, where_args)

    def get(self, key):
        from sqlite_utils.db import NotFoundError
        keys = [r[0] for r in self.db.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = ?::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey, a.attnum)", [self.name])]
        values = key if isinstance(key, (list, tuple)) else [key]
        found = list(self.rows_where(" AND ".join(f'"{k}" = ?' for k in keys), values))
        if not found:
            raise NotFoundError
        return found[0]


class Database:
    """What server code uses of ``sqlite_utils.Database``, on PostgreSQL."""

    engine = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self.conn = Connection(url)

    def __getitem__(self, name: str) -> Table:
        return Table(self, name)

    def execute(self, sql: str, params=()) -> Cursor:
        return self.conn.execute(sql, params)

    @contextlib.contextmanager
    def atomic(self):
        """sqlite-utils' ``atomic()``: a transaction, or a savepoint inside one."""
        if self.conn.in_transaction:
            name = f"hl_{secrets.token_hex(8)}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self.conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        self.conn.execute("BEGIN")
        try:
            yield self
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    def query(self, sql: str, params=()):
        cur = self.conn.execute(sql, params)
        names = [d.name for d in cur.description or ()]
        for row in cur:
            yield dict(zip(names, row))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
