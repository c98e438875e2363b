"""The province store on PostgreSQL (psycopg 3, a connection pool).

One table of forwarded ratings keyed by the rating id (a re-send is a no-op), and the
enrolled communes with their broker password hashes. Schema changes are migrations
recorded in ``schema_migrations``, applied under an advisory lock so two processes
starting at once do not race. The schema has no column for a contact or free text:
:func:`stats` still counts rows holding anything phone-like, so the claim is checked,
not assumed.
"""

from __future__ import annotations

import io
import logging
import time
import uuid

from psycopg_pool import ConnectionPool

from sync import contract

log = logging.getLogger(__name__)

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("m001_i12province_ratings", """
        CREATE TABLE ratings (
            id uuid PRIMARY KEY,
            commune text NOT NULL,
            kiosk text NOT NULL,
            counter text NOT NULL,
            official text,
            score smallint NOT NULL,
            scale smallint NOT NULL,
            reasons text[] NOT NULL DEFAULT '{}',
            occurred_at timestamptz NOT NULL,
            time_source text,
            suspect boolean NOT NULL DEFAULT false,
            received_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ratings_commune_time ON ratings (commune, occurred_at);
        CREATE TABLE communes (
            id text PRIMARY KEY,
            name text NOT NULL DEFAULT '',
            password_hash text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE rejections (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT now(),
            commune text, rating_id text, reason text NOT NULL, detail text
        );
    """),
)

# Text columns a contact or free text could hide in, were a bug to put one there.
TEXT_COLUMNS = ("commune", "kiosk", "counter", "official", "time_source")
PHONE_LIKE = r"\+?[0-9][0-9 .-]{7,}"


def connect(url: str, size: int = 4) -> ConnectionPool:
    pool = ConnectionPool(url, min_size=1, max_size=size, open=True,
                          kwargs={"autocommit": False},
                          check=lambda conn: _check(pool, conn))
    pool.wait(timeout=30)
    migrate(pool)
    return pool


def _check(pool: ConnectionPool, conn) -> None:
    """Checked on checkout: after PostgreSQL restarts every idle connection is dead, and
    unchecked each was handed out once more and failed (an ingest batch, a dashboard
    page). One found dead: replace them all now, not one per backoff round (the pool
    waits 1, 2, 4 s between failed checks)."""
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        pool.check()
        raise


def migrate(pool: ConnectionPool) -> list[str]:
    applied: list[str] = []
    with pool.connection() as conn:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(7212012)")  # one migrator at a time
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY "
                         "KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            for name, sql in MIGRATIONS:
                if name not in done:
                    conn.execute(sql)
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", [name])
                    applied.append(name)
    for name in applied:
        log.info("province store: applied %s", name)
    return applied


_INSERT = ("INSERT INTO ratings (id, commune, kiosk, counter, official, score, scale, "
           "reasons, occurred_at, time_source, suspect) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,"
           "to_timestamp(%s),%s,%s) ON CONFLICT (id) DO NOTHING")


def add_ratings(conn, commune: str, records: list[contract.ForwardedRating]
                ) -> tuple[list[str], list[contract.Rejection]]:
    """Store one commune's batch (inside the caller's transaction). A record naming
    another commune than its topic (the broker account) is refused."""
    stored, rejected, rows = [], [], []
    for r in records:
        if r.commune != commune:
            rejected.append(contract.Rejection(r.id, "wrong-commune"))
            continue
        if r.score > r.scale:
            rejected.append(contract.Rejection(r.id, "invalid"))
            continue
        rows.append((r.id, r.commune, r.kiosk, r.counter, r.official, r.score, r.scale,
                     list(r.reasons), r.occurred_at, r.time_source, r.suspect))
        stored.append(r.id)
    with conn.cursor() as cur:
        cur.executemany(_INSERT, rows)
        for rej in rejected:
            cur.execute("INSERT INTO rejections (commune, rating_id, reason) VALUES "
                        "(%s,%s,%s)", [commune, rej.id, rej.reason])
    return stored, rejected


def reject(conn, commune: str | None, reason: str, detail: str = "") -> None:
    conn.execute("INSERT INTO rejections (commune, reason, detail) VALUES (%s,%s,%s)",
                 [commune, reason, detail[:300]])


def stats(pool: ConnectionPool) -> dict:
    """What ``hailong province stats --json`` prints (an outside check reads it)."""
    with pool.connection() as conn:
        q = conn.execute
        contacts_sql = " OR ".join(f"{c} ~ %s" for c in TEXT_COLUMNS)
        contacts = q(f"SELECT count(*) FROM ratings WHERE {contacts_sql} OR "
                     "array_to_string(reasons, ' ') ~ %s",
                     [PHONE_LIKE] * (len(TEXT_COLUMNS) + 1)).fetchone()[0]
        # and any column that could only hold personal data, should one ever be added
        extra = [r[0] for r in q(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'ratings' AND table_schema = current_schema() AND column_name ~* "
            "'phone|contact|consent|comment|note|text|dossier|name'")]
        for column in extra:
            contacts += q(f'SELECT count(*) FROM ratings WHERE "{column}" IS NOT NULL'
                          ).fetchone()[0]
        return {
            "ratings": q("SELECT count(*) FROM ratings").fetchone()[0],
            "distinct_ids": q("SELECT count(DISTINCT id) FROM ratings").fetchone()[0],
            "by_commune": dict(q("SELECT commune, count(*) FROM ratings GROUP BY commune "
                                 "ORDER BY commune").fetchall()),
            "contacts": contacts,
            "communes_enrolled": q("SELECT count(*) FROM communes").fetchone()[0],
            "rejected": q("SELECT count(*) FROM rejections").fetchone()[0],
            "rejected_by_reason": dict(q("SELECT reason, count(*) FROM rejections GROUP BY "
                                         "reason ORDER BY reason").fetchall()),
        }


SATISFIED_SQL = "score >= scale - CASE WHEN scale = 3 THEN 0 ELSE 1 END"  # as server/reports/rollup.py


def ranking(pool: ConnectionPool, minimum: int = 30, since: float | None = None
            ) -> tuple[list[dict], list[dict]]:
    """Communes ranked by satisfaction (share of ratings in the scale's top two levels,
    the top one on a 3-level scale: the commune dashboard's rule, server/reports/rollup.py), those with at least ``minimum`` ratings since ``since``;
    and, apart, those with fewer (too few to rank). Suspect ratings do not count."""
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT commune, count(*), avg(({SATISFIED_SQL})::int) FROM ratings "
            "WHERE NOT suspect AND occurred_at >= to_timestamp(%s) "
            "GROUP BY commune ORDER BY 3 DESC, 2 DESC, 1", [since or 0]).fetchall()
    out = [{"commune": c, "ratings": n, "satisfied": round(float(s), 4)} for c, n, s in rows]
    return ([r for r in out if r["ratings"] >= minimum],
            sorted((r for r in out if r["ratings"] < minimum), key=lambda r: r["commune"]))


def seed(pool: ConnectionPool, communes: int, ratings: int, *, seed_value: int = 12) -> int:
    """Demo and benchmark data: ``ratings`` per commune, for ``communes`` made-up
    communes, loaded with COPY. Returns the rows written."""
    import random
    rnd = random.Random(seed_value)
    now = time.time()
    total = 0
    with pool.connection() as conn:
        for c in range(communes):
            commune = f"xa-demo-{c + 1:03d}"
            bias = rnd.uniform(-0.8, 0.8)  # some communes serve better than others
            buf = io.StringIO()
            for _ in range(ratings):
                score = max(1, min(4, round(rnd.gauss(3.0 + bias, 0.9))))
                reasons = "{cho-doi-lau}" if score <= 2 and rnd.random() < 0.5 else "{}"
                at = now - rnd.uniform(0, 365 * 86400)
                buf.write(f"{uuid.UUID(int=rnd.getrandbits(128), version=4)}\t{commune}\t"
                          f"k{rnd.randint(1, 3)}\tq{rnd.randint(1, 3)}\t"
                          f"cb-{rnd.randint(1, 8):02d}\t{score}\t4\t{reasons}\t"
                          f"{time.strftime('%Y-%m-%d %H:%M:%S+00', time.gmtime(at))}\t"
                          "kiosk-clock\tf\n")
            with conn.cursor() as cur:
                # a temp table, so a seed re-run over the same ids is a no-op too
                cur.execute("CREATE TEMP TABLE IF NOT EXISTS seed_in (LIKE ratings "
                            "INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
                with cur.copy("COPY seed_in (id, commune, kiosk, counter, official, score, "
                              "scale, reasons, occurred_at, time_source, suspect) FROM STDIN"
                              ) as copy:
                    copy.write(buf.getvalue())
                cur.execute("INSERT INTO ratings SELECT * FROM seed_in "
                            "ON CONFLICT (id) DO NOTHING")
                total += cur.rowcount
            conn.commit()
    return total
