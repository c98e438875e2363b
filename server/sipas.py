"""SIPAS survey answers on the commune server: their table, and the factor indices
per commune and period (issue 12; the method is in hailong/sipas.py and
docs/leader-guide.md).

Answers travel inside their rating (``Rating.survey``), so they are stored in the
same transaction as the rating, exactly once: a re-sent rating is a no-op before it
gets here, and the table's key (rating id, question) makes a second insert one too.
Indices count only answers whose rating counts (not suspect, not flagged), on the
rating's placed day, so they agree with every other figure of the period.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import sqlite_utils
from sqlite_utils import Migrations

from hailong import sipas
from sync import contract

from .rollup import UTC_OFFSET

migrations = Migrations("hailong-server-sipas")


@migrations()
def m001_i12sipas_answers(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE IF NOT EXISTS survey_answers (
        rating_id TEXT NOT NULL REFERENCES ratings(id), question TEXT NOT NULL,
        factor TEXT NOT NULL, level INTEGER NOT NULL, scale INTEGER NOT NULL,
        commune TEXT NOT NULL, kiosk TEXT NOT NULL, stored_at REAL NOT NULL,
        PRIMARY KEY (rating_id, question))""")
    db.execute("CREATE INDEX IF NOT EXISTS survey_answers_factor ON survey_answers "
               "(commune, factor)")


def store_answers(conn: sqlite3.Connection, ratings: Iterable[contract.Rating],
                  received_at: float) -> int:
    """Store the answers of newly stored ratings (inside the ingest transaction)."""
    rows = [(r.id, a.q, a.factor, a.level, a.scale, r.commune, r.kiosk, received_at)
            for r in ratings if r.survey for a in r.survey]
    if rows:
        conn.executemany("INSERT OR IGNORE INTO survey_answers (rating_id, question, factor, "
                         "level, scale, commune, kiosk, stored_at) VALUES (?,?,?,?,?,?,?,?)",
                         rows)
    return len(rows)


def indices(conn: sqlite3.Connection, period, commune: str | None = None) -> dict:
    """The SIPAS indices of one period (a figures.Period), for one commune or all:
    {"period", "communes": {commune: sipas.indices(...)}, "all": sipas.indices(...)}."""
    args: list = [period.start.isoformat(), period.end.isoformat()]
    where = ""
    if commune:
        where, args = " AND a.commune = ?", args + [commune]
    # the rating's placed local day, and only ratings that count (rollup.COUNTED_SQL)
    day = f"date(r.occurred_at + {UTC_OFFSET}, 'unixepoch')"
    rows = conn.execute(
        f"SELECT a.commune, a.factor, a.level, a.scale FROM survey_answers a "
        f"JOIN ratings r ON r.id = a.rating_id WHERE {day} >= ? AND {day} < ? "
        f"AND r.suspect IS NULL AND r.flagged IS NULL{where} ORDER BY a.commune",
        args).fetchall()
    by_commune: dict[str, list[tuple[str, int, int]]] = {}
    for c, factor, level, scale in rows:
        by_commune.setdefault(c, []).append((factor, level, scale))
    return {"period": period.key,
            "communes": {c: sipas.indices(a) for c, a in by_commune.items()},
            "all": sipas.indices((f, lv, s) for _, f, lv, s in rows),
            "factor_names": {code: vi for code, vi, _ in sipas.FACTORS}}
