"""Move a commune's store from SQLite to PostgreSQL (``hailong server copy-store``).

Every table of the SQLite store is copied into an empty PostgreSQL store whose schema
the same migrations made (server/ingest/pgschema.py), with COPY, in one PostgreSQL
transaction: it all arrives or nothing does. Columns are matched by name; the ratings'
implicit SQLite ``rowid`` goes into PostgreSQL's ``rowid`` column (clock.py follows a
boot's rows by it). Identity columns' sequences are set past the copied maximum (and
past SQLite's AUTOINCREMENT high-water mark, ``sqlite_sequence``), so rows added after
the copy never reuse an id.

Consistency: the copy holds SQLite's exclusive lock (``locking_mode=EXCLUSIVE`` and
``BEGIN EXCLUSIVE``) from its first read to PostgreSQL's COMMIT, so nothing can write
the file meanwhile; and a store another process has open (a running server keeps
connections open) refuses the copy before anything is read or written. On PostgreSQL
the copy holds the store's write lock (``BEGIN IMMEDIATE``, an advisory lock), and the
ratings' forwarding trigger is switched off for the copy: the outbox is copied as it
was (what the province already acked is not queued again).
"""

from __future__ import annotations

import graphlib
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from hailong.errors import HailongError

from server.ingest import engine

# Bookkeeping of each engine, never copied: the migrations each side applied are checked
# instead, and start_checks is the start check's scratch table (server/ingest/storecheck.py).
SKIP = {"_sqlite_migrations", "_hailong_migrations", "start_checks"}
CHUNK = 5000


class CopyRefused(HailongError, RuntimeError):
    """The copy cannot start (nothing was written), or failed (rolled back)."""


@dataclass
class Copied:
    tables: list[tuple[str, int]] = field(default_factory=list)  # in copy order
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(n for _, n in self.tables)


def copy_store(sqlite_path, url: str, say=lambda text: None) -> Copied:
    """Copy the SQLite store at ``sqlite_path`` into the empty PostgreSQL store ``url``.
    Raises CopyRefused (one line) when it must not or cannot."""
    from server.ingest import store

    started = time.monotonic()
    if not engine.is_postgres(url):
        raise CopyRefused(f"--to {url!r}: must be a postgresql:// URL")
    path = Path(sqlite_path)
    if not path.is_file():
        raise CopyRefused(f"no SQLite store at {path} ([store] path)")
    _exclusive(path).close()  # refuses if the server (or anything) has the file open
    db = store.connect(path)  # migrated to this release, as the server would open it
    try:
        _same_migrations(db.execute("SELECT migration_set, name FROM _sqlite_migrations"),
                         f"the SQLite store {path}")
    finally:
        db.close()
    _foreign_tables(url)
    target = store.connect(url)  # one clear line if unreachable (pg.StoreUnreachable)
    try:
        _same_migrations(target.execute(
            "SELECT migration_set, name FROM _hailong_migrations"),
            f"the PostgreSQL store {engine.describe(url)}")
        source = _exclusive(path)
        try:
            copied = _copy(source, target.conn, url, say)
        finally:
            source.rollback()
            source.close()
    finally:
        target.close()
    copied.seconds = time.monotonic() - started
    return copied


def _exclusive(path: Path) -> sqlite3.Connection:
    """A connection holding the file's exclusive lock: no other connection may read or
    write it until this one closes. Refused if one is open (a running server)."""
    conn = sqlite3.connect(path, timeout=2, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as e:
        conn.close()
        raise CopyRefused(f"{path} is in use ({e}): is `hailong server run` running on "
                          "it? Stop it first (systemctl stop hailong-server); nothing "
                          "was copied") from None
    return conn


def _same_migrations(rows, what: str) -> None:
    from server.ingest import store
    import importlib
    known = {(m.name, fn.name) for m in (store.migrations, *(
        importlib.import_module(mod).migrations for mod in store.SCHEMA_MODULES))
        for fn in m._migrations}  # noqa: SLF001 (sqlite-utils keeps them here)
    newer = {tuple(r) for r in rows} - known
    if newer:
        raise CopyRefused(f"{what} was made by a newer release ({len(newer)} migrations "
                          f"this one does not know, e.g. {sorted(newer)[0][1]}): run "
                          "copy-store from that release; nothing was copied")


def _foreign_tables(url: str) -> None:
    """A database holding tables that are not Hài Lòng's is not ours to fill."""
    import psycopg
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            names = {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()")}
    except psycopg.Error as e:
        raise CopyRefused(f"--to {engine.describe(url)}: cannot use PostgreSQL: "
                          f"{' '.join(str(e).split())[:300]}") from None
    if names and "_hailong_migrations" not in names:
        raise CopyRefused(f"--to {engine.describe(url)}: the database holds {len(names)} "
                          "tables that are not Hài Lòng's: give the store a database of "
                          "its own; nothing was copied")


def _copy(source: sqlite3.Connection, conn, url: str, say) -> Copied:
    src_tables = {r[0] for r in source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")
        if not r[0].startswith("sqlite_") and r[0] not in SKIP}
    dst_columns: dict[str, list[str]] = {}
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE "
            "table_schema = current_schema() ORDER BY table_name, ordinal_position"):
        if table not in SKIP:
            dst_columns.setdefault(table, []).append(column)
    missing = sorted(src_tables - set(dst_columns))
    if missing:
        raise CopyRefused(f"the PostgreSQL store has no table {missing[0]} (of "
                          f"{len(missing)} missing): the two schemas differ; nothing was "
                          "copied")
    held = [(t, n) for t in sorted(dst_columns)
            for n in [conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]] if n]
    if held:
        counts = dict(held)
        if "ratings" in counts:
            raise CopyRefused(f"the PostgreSQL store {engine.describe(url)} already holds "
                              f"{counts['ratings']} ratings: copy-store fills only an "
                              "empty store; nothing was copied")
        raise CopyRefused(f"the PostgreSQL store {engine.describe(url)} is not empty ("
                          + ", ".join(f"{t} {n}" for t, n in held[:5])
                          + "): give copy-store a fresh database; nothing was copied")
    order = _parents_first(conn, src_tables)
    triggered = {r[0] for r in conn.execute(
        "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal")}
    high_water = dict(source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
                      ) if "sqlite_sequence" in _names(source) else {}
    copied = Copied()
    conn.begin_immediate()  # the store's write lock: a server started on it waits
    try:
        for table in order:
            n = _copy_table(source, conn, table, dst_columns[table], table in triggered)
            copied.tables.append((table, n))
            say(f"  {table}: {n}")
        _advance_sequences(conn, high_water)
        conn.commit()
    except sqlite3.Error as e:  # the seam raises sqlite3's errors for PostgreSQL's too
        conn.rollback()
        raise CopyRefused(f"copy failed, nothing written to PostgreSQL: "
                          f"{' '.join(str(e).split())[:300]}") from None
    except BaseException:
        conn.rollback()
        raise
    return copied


def _names(source: sqlite3.Connection) -> set[str]:
    return {r[0] for r in source.execute("SELECT name FROM sqlite_master")}


def _parents_first(conn, tables: set[str]) -> list[str]:
    """Tables ordered so a referenced table is filled before the tables that refer to
    it (the foreign keys stay checked)."""
    graph: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in conn.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f'"):
        child, parent = child.strip('"'), parent.strip('"')
        if child in graph and parent in graph and child != parent:
            graph[child].add(parent)
    ts = graphlib.TopologicalSorter(graph)
    ts.prepare()
    order: list[str] = []
    while ts.is_active():  # by name within each step: the same listing every time
        ready = sorted(ts.get_ready())
        order += ready
        ts.done(*ready)
    return order


def _copy_table(source: sqlite3.Connection, conn, table: str, dst: list[str],
                triggered: bool) -> int:
    src = [r[1] for r in source.execute(f'PRAGMA table_info("{table}")')]
    lost = [c for c in src if c not in dst]
    if lost:
        raise CopyRefused(f"{table}.{lost[0]} has no column in the PostgreSQL store: the "
                          "two schemas differ; nothing was copied")
    columns = list(src)
    select = [f'"{c}"' for c in src]
    if "rowid" in dst and "rowid" not in src:  # SQLite's implicit rowid, made explicit
        columns.append("rowid")
        select.append("rowid")
    if triggered:  # the forwarding trigger would queue every copied rating again
        conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
    cur = source.execute(f'SELECT {", ".join(select)} FROM "{table}"')
    n = 0
    while rows := cur.fetchmany(CHUNK):
        n += conn.copy_rows(table, tuple(columns), rows)  # NUL → U+FFFD, as the seam
    if triggered:
        conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
    return n


def _advance_sequences(conn, high_water: dict[str, int]) -> None:
    """Each identity column's next value past every id SQLite used (the rows it holds,
    and the deleted ones AUTOINCREMENT remembers)."""
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE "
            "table_schema = current_schema() AND is_identity = 'YES'").fetchall():
        top = conn.execute(f'SELECT max("{column}") FROM "{table}"').fetchone()[0] or 0
        if column != "rowid":
            top = max(top, high_water.get(table, 0))
        conn.execute("SELECT setval(pg_get_serial_sequence(?, ?), ?, false)",
                     [f'"{table}"', column, top + 1])
