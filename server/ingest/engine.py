"""The store's engine, behind one seam: SQLite (the default) or PostgreSQL (issue 12).

``[store] url = "postgresql://…"`` selects PostgreSQL; without it ``[store] path`` is
the SQLite file, as before. Everything else in the server opens the store through
:func:`server.ingest.store.connect`, which asks :func:`target` which engine to use.

On PostgreSQL the connection is ``server/ingest/pg.py``'s (it behaves as the sqlite3
connection the code was written against) and the schema is made by the same migration
functions through ``server/ingest/pgschema.py``. SQL in the server is written once, to
run on both (the rules: docs/postgresql.md); a migration or a hot path branches on
:func:`name` only where the engines cannot share one statement (a trigger's body, COPY).
"""

from __future__ import annotations

import os
from pathlib import Path

PG_SCHEMES = ("postgresql://", "postgres://")


def target(where) -> str | Path:
    """What a ``[store]`` section (or a bare path or URL) names: a PostgreSQL URL, or
    the SQLite file's path."""
    url = getattr(where, "url", None)
    if url is not None or hasattr(where, "path"):
        return url or where.path
    return where


def is_postgres(where) -> bool:
    t = target(where)
    return isinstance(t, str) and t.startswith(PG_SCHEMES)


def name(db) -> str:
    """``"postgresql"`` or ``"sqlite"``: the engine of an open store (a migration
    branches on it only where the two cannot share one statement)."""
    return getattr(db, "engine", "sqlite")


def insert_rows(conn, table: str, columns: tuple[str, ...], rows: list) -> None:
    """Bulk-insert new rows (no conflict expected): COPY on PostgreSQL, executemany on
    SQLite (there the fastest way already)."""
    if not rows:
        return
    copy = getattr(conn, "copy_rows", None)
    if copy is not None:
        copy(table, columns, rows)
        return
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                     f"({','.join('?' * len(columns))})", rows)


def connect_postgres(url: str, migration_sets):
    """Open a PostgreSQL store (a pooled connection), creating or upgrading its schema."""
    from server.ingest import pg, pgschema
    db = pg.Database(url)
    try:
        pgschema.migrate(db, *migration_sets)
    except BaseException:
        db.close()
        raise
    return db


def describe(where) -> str:
    """The store named for a log line or message: a URL without its password."""
    t = target(where)
    if not is_postgres(t):
        return os.fspath(t)
    from psycopg.conninfo import conninfo_to_dict
    try:
        parts = conninfo_to_dict(t)
    except Exception:  # a malformed URL: say so, not what it holds
        return "postgresql://(malformed url)"
    host = parts.get("host", "localhost")
    return (f"postgresql://{parts.get('user', '') + '@' if parts.get('user') else ''}"
            f"{host}:{parts.get('port', 5432)}/{parts.get('dbname', '')}")
