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

from server.reports.rollup import day_start

# hailong.sipas.is_satisfied (= domain.is_satisfied) on an answer, in SQL (a test keeps
# them in step)
# 1 or 0, not a comparison: PostgreSQL does not sum booleans
SATISFIED_SQL = ("(CASE WHEN a.level >= a.scale - CASE WHEN a.scale = 3 THEN 0 ELSE 1 END "
                 "THEN 1 ELSE 0 END)")

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
        conn.executemany("INSERT INTO survey_answers (rating_id, question, factor, level, "
                         "scale, commune, kiosk, stored_at) VALUES (?,?,?,?,?,?,?,?) "
                         "ON CONFLICT (rating_id, question) DO NOTHING", rows)
    return len(rows)


def indices(conn: sqlite3.Connection, period, commune: str | None = None) -> dict:
    """The SIPAS indices of one period (a figures.Period), for one commune or all:
    {"period", "communes": {commune: sipas.indices(...)}, "all": sipas.indices(...)}."""
    # the period's local days as the instants they start (the rating's placed time, as
    # the rollup's days), so the ratings' occurred_at index does the range
    args: list = [day_start(period.start), day_start(period.end)]
    where = ""
    if commune:
        where, args = " AND a.commune = ?", args + [commune]
    # the rating's placed local day, and only ratings that count (rollup.COUNTED_SQL);
    # counted in SQL: 100,000 answers pulled into Python took 0.6 s (bench/bench_sipas.py)
    rows = conn.execute(
        f"SELECT a.commune, a.factor, count(*), sum({SATISFIED_SQL}) FROM ratings r "
        f"JOIN survey_answers a ON a.rating_id = r.id WHERE r.occurred_at >= ? "
        f"AND r.occurred_at < ? "
        f"AND r.suspect IS NULL AND r.flagged IS NULL{where} GROUP BY a.commune, a.factor",
        args).fetchall()
    by_commune: dict[str, dict[str, tuple[int, int]]] = {}
    overall: dict[str, list[int]] = {}
    for c, factor, n, sat in rows:
        by_commune.setdefault(c, {})[factor] = (n, sat or 0)
        total = overall.setdefault(factor, [0, 0])
        total[0] += n
        total[1] += sat or 0
    return {"period": period.key,
            "communes": {c: sipas.from_counts(f) for c, f in sorted(by_commune.items())},
            "all": sipas.from_counts({f: (n, s) for f, (n, s) in overall.items()}),
            "factor_names": {code: vi for code, vi, _ in sipas.FACTORS}}
