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
from datetime import date, datetime, timezone

from psycopg_pool import ConnectionPool

from sync import contract, timerules

log = logging.getLogger(__name__)

# A rating's day is its local day in Vietnam (UTC+7, no daylight saving), as the
# commune's figures count it (server/reports/rollup.py); satisfied and low as there too.
DAY_SQL = "((occurred_at AT TIME ZONE 'UTC') + interval '7 hours')::date"
SATISFIED_SQL = "score >= scale - CASE WHEN scale = 3 THEN 0 ELSE 1 END"
LOW_SQL = "score <= CASE WHEN scale = 5 THEN 2 ELSE 1 END"

_ROLLUP_BODY = f"""
    INSERT INTO daily_commune AS d (commune, day, n, satisfied, low, suspect)
    SELECT commune, {DAY_SQL}, count(*) FILTER (WHERE NOT suspect),
           count(*) FILTER (WHERE NOT suspect AND {SATISFIED_SQL}),
           count(*) FILTER (WHERE NOT suspect AND {LOW_SQL}),
           count(*) FILTER (WHERE suspect)
    FROM {{source}} GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (commune, day) DO UPDATE SET n = d.n + excluded.n,
        satisfied = d.satisfied + excluded.satisfied, low = d.low + excluded.low,
        suspect = d.suspect + excluded.suspect;
    INSERT INTO daily_official AS d (commune, day, official, n, satisfied, low)
    SELECT commune, {DAY_SQL}, coalesce(official, ''), count(*),
           count(*) FILTER (WHERE {SATISFIED_SQL}), count(*) FILTER (WHERE {LOW_SQL})
    FROM {{source}} WHERE NOT suspect GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
    ON CONFLICT (commune, official, day) DO UPDATE SET n = d.n + excluded.n,
        satisfied = d.satisfied + excluded.satisfied, low = d.low + excluded.low;
"""
_ROLLUP_SQL = """
    CREATE TABLE daily_commune (
        commune text NOT NULL, day date NOT NULL,
        n integer NOT NULL, satisfied integer NOT NULL, low integer NOT NULL,
        suspect integer NOT NULL,
        PRIMARY KEY (commune, day));
    CREATE TABLE daily_official (
        commune text NOT NULL, day date NOT NULL, official text NOT NULL,
        n integer NOT NULL, satisfied integer NOT NULL, low integer NOT NULL,
        PRIMARY KEY (commune, official, day));
    CREATE FUNCTION province_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN""" + _ROLLUP_BODY + """
        RETURN NULL;
    END $$;
"""

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
    # Pages read only these day tables, never raw ratings (20M rows across 300 communes:
    # bench/bench_province.py). A statement trigger with the inserted rows as a
    # transition table keeps them in the inserting transaction, for ingest and seed
    # alike; ON CONFLICT DO NOTHING leaves a re-sent rating out of that table.
    ("m002_i12province_daily", _ROLLUP_SQL.replace("{source}", "inserted") + """
        CREATE TRIGGER ratings_rollup AFTER INSERT ON ratings
            REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
            EXECUTE FUNCTION province_rollup();
    """ + _ROLLUP_BODY.replace("{source}", "ratings")),  # what was stored before it
    # SIPAS answers forwarded with their rating (codes and levels only), and their day
    # table, kept the same way; only answers whose rating counts (not suspect).
    ("m003_i12province_sipas", """
        CREATE TABLE survey_answers (
            rating_id uuid NOT NULL REFERENCES ratings (id), question text NOT NULL,
            factor text NOT NULL, level smallint NOT NULL, scale smallint NOT NULL,
            PRIMARY KEY (rating_id, question));
        CREATE TABLE daily_sipas (
            commune text NOT NULL, day date NOT NULL, factor text NOT NULL,
            answers integer NOT NULL, satisfied integer NOT NULL,
            PRIMARY KEY (commune, day, factor));
        CREATE FUNCTION province_sipas_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO daily_sipas AS d (commune, day, factor, answers, satisfied)
            SELECT r.commune, """ + DAY_SQL.replace("occurred_at", "r.occurred_at") + """,
                   a.factor, count(*),
                   count(*) FILTER (WHERE a.level >= a.scale
                                    - CASE WHEN a.scale = 3 THEN 0 ELSE 1 END)
            FROM inserted a JOIN ratings r ON r.id = a.rating_id WHERE NOT r.suspect
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (commune, day, factor) DO UPDATE SET
                answers = d.answers + excluded.answers,
                satisfied = d.satisfied + excluded.satisfied;
            RETURN NULL;
        END $$;
        CREATE TRIGGER survey_answers_rollup AFTER INSERT ON survey_answers
            REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
            EXECUTE FUNCTION province_sipas_rollup();
    """),
    # Province dashboard accounts (roles in province/accounts.py): argon2 hashes, and
    # sessions kept here so logging out ends one at once; the cookie holds a random
    # token whose SHA-256 is stored.
    ("m004_i12province_accounts", """
        CREATE TABLE users (
            username text PRIMARY KEY, password_hash text NOT NULL, role text NOT NULL,
            disabled boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE web_sessions (
            token_hash text PRIMARY KEY,
            username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
            csrf text NOT NULL, expires_at timestamptz NOT NULL);
        CREATE TABLE login_failures (
            key text PRIMARY KEY, count integer NOT NULL, last_at timestamptz NOT NULL);
    """),
    # The ranking and SIPAS pages read every commune for a range of days: by day, with
    # the counts in the index, the last 30 days are read from 1/13 of a year's rows
    # (an index-only scan) instead of the whole table.
    ("m005_i12province_by_day", """
        CREATE INDEX daily_commune_by_day ON daily_commune (day)
            INCLUDE (commune, n, satisfied, low);
        CREATE INDEX daily_sipas_by_day ON daily_sipas (day)
            INCLUDE (commune, factor, answers, satisfied);
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


_RATING_COLUMNS = ("id", "commune", "kiosk", "counter", "official", "score", "scale",
                   "reasons", "occurred_at", "time_source", "suspect")
_ANSWER_COLUMNS = ("rating_id", "question", "factor", "level", "scale")


def _copy_in(cur, table: str, columns: tuple[str, ...], rows: list[tuple]) -> int:
    """COPY ``rows`` into a temp twin of ``table``, then one INSERT … ON CONFLICT DO
    NOTHING from it: one statement, so the day tables' trigger runs once per batch
    and counts only the rows that were new. Returns the rows inserted."""
    if not rows:
        return 0
    cols = ", ".join(columns)
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table}_in (LIKE {table} "
                "INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
    with cur.copy(f"COPY {table}_in ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {table}_in "
                "ON CONFLICT DO NOTHING")
    inserted = cur.rowcount
    cur.execute(f"DELETE FROM {table}_in")  # the next batch of this transaction
    return inserted


def _survey_problem(r: contract.ForwardedRating) -> str | None:
    if not r.survey:
        return None
    if len({a.q for a in r.survey}) != len(r.survey):
        return "a survey question answered twice"
    if any(a.level > a.scale for a in r.survey):
        return "a survey level above its scale"
    if any(a.factor not in contract.SIPAS_FACTORS for a in r.survey):
        return "a survey factor SIPAS does not have"
    return None


def add_ratings(conn, commune: str, records: list[contract.ForwardedRating]
                ) -> tuple[list[str], list[contract.Rejection]]:
    """Store one commune's batch (inside the caller's transaction), with the SIPAS
    answers each rating carries. A record naming another commune than its topic (the
    broker account) is refused, and so is an id the province holds for another commune
    (a conflict: acking it would tell this commune its rating is held), and a time no
    commune server places (after now + 1 h, or before the product existed)."""
    stored, rejected, rows, answers = [], [], [], []
    latest = time.time() + timerules.AHEAD_TOLERANCE
    elsewhere = {str(row[0]) for row in conn.execute(
        "SELECT id FROM ratings WHERE id = ANY(%s::uuid[]) AND commune <> %s",
        [[r.id for r in records], commune])}
    for r in records:
        if r.commune != commune:
            rejected.append(contract.Rejection(r.id, "wrong-commune"))
            continue
        if r.id.lower() in elsewhere:
            log.warning("rating %s from %s is held for another commune", r.id, commune)
            rejected.append(contract.Rejection(r.id, "conflict"))
            continue
        if r.score > r.scale or _survey_problem(r):
            rejected.append(contract.Rejection(r.id, "invalid"))
            continue
        if not timerules.PRODUCT_EPOCH <= r.occurred_at <= latest:
            # a commune places its ratings no later than their receipt (+1 h); a future
            # day would sit in every "last N days" ranking until it came
            rejected.append(contract.Rejection(r.id, timerules.TIME_FUTURE
                                               if r.occurred_at > latest
                                               else timerules.TIME_BEFORE_EPOCH))
            continue
        rows.append((r.id, r.commune, r.kiosk, r.counter, r.official, r.score, r.scale,
                     list(r.reasons), datetime.fromtimestamp(r.occurred_at, timezone.utc),
                     r.time_source, r.suspect))
        answers += [(r.id, a.q, a.factor, a.level, a.scale) for a in r.survey or ()]
        stored.append(r.id)
    with conn.cursor() as cur:
        _copy_in(cur, "ratings", _RATING_COLUMNS, rows)
        # a re-sent rating's answers are re-sent too: the key makes them no-ops
        _copy_in(cur, "survey_answers", _ANSWER_COLUMNS, answers)
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


def local_day(ts: float) -> date:
    """The local (UTC+7) day of an instant, as DAY_SQL."""
    return datetime.fromtimestamp(ts + 7 * 3600, timezone.utc).date()


def _day(x: date | float | None) -> date:
    if x is None:
        return date(2000, 1, 1)
    return x if isinstance(x, date) else local_day(x)


def _figures(n: int, satisfied: int, low: int, minimum: int) -> dict:
    """Counts, and the shares only when ``n`` reaches ``minimum`` (fewer say too
    little: the shares are None and pages show '—')."""
    enough = n >= minimum and n > 0
    return {"ratings": n, "satisfied_n": satisfied, "low_n": low, "enough": enough,
            "satisfied": round(satisfied / n, 4) if enough else None,
            "low": round(low / n, 4) if enough else None}


def ranking(pool: ConnectionPool, minimum: int = 30, since: date | float | None = None,
            until: date | float | None = None) -> tuple[list[dict], list[dict]]:
    """Communes ranked by satisfaction (share of ratings in the scale's top two levels,
    the top one on a 3-level scale: the commune dashboard's rule,
    server/reports/rollup.py) over the local days [since, until); those with at least
    ``minimum`` ratings, and apart, those with fewer (too few to rank). Suspect ratings
    do not count. Read from the day table: about 110,000 rows a year for 300 communes."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT commune, sum(n)::int, sum(satisfied)::int, sum(low)::int "
            "FROM daily_commune WHERE day >= %s AND day < %s GROUP BY commune",
            [_day(since), _day(until) if until else date(2100, 1, 1)]).fetchall()
    names = commune_names(pool)
    out = [{"commune": c, "name": names.get(c, ""), **_figures(n, s, low, minimum)}
           for c, n, s, low in rows if n]
    ranked = sorted((r for r in out if r["enough"]),
                    key=lambda r: (-r["satisfied"], -r["ratings"], r["commune"]))
    return ranked, sorted((r for r in out if not r["enough"]), key=lambda r: r["commune"])


def commune_name(pool: ConnectionPool, commune: str) -> str | None:
    """The commune's name ('' when enrolled without one); None: never heard of."""
    with pool.connection() as conn:
        row = conn.execute("SELECT name FROM communes WHERE id = %s", [commune]).fetchone()
        if row:
            return row[0]
        known = conn.execute("SELECT 1 FROM daily_commune WHERE commune = %s LIMIT 1",
                             [commune]).fetchone()
    return "" if known else None


def commune_names(pool: ConnectionPool) -> dict[str, str]:
    with pool.connection() as conn:
        return dict(conn.execute("SELECT id, name FROM communes WHERE name <> ''").fetchall())


def trend(pool: ConnectionPool, commune: str, step: str, since: date,
          minimum: int) -> list[dict]:
    """One commune by month or quarter (``step``) from ``since``: counts, satisfied
    and low-rating shares (None below ``minimum``), suspect ratings apart."""
    assert step in ("month", "quarter")
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT date_trunc('{step}', day)::date, sum(n)::int, sum(satisfied)::int, "
            "sum(low)::int, sum(suspect)::int FROM daily_commune WHERE commune = %s "
            "AND day >= %s GROUP BY 1 ORDER BY 1", [commune, since]).fetchall()
    return [{"start": start, "suspect": sus, **_figures(n, s, low, minimum)}
            for start, n, s, low, sus in rows]


def officials(pool: ConnectionPool, commune: str, since: date, until: date,
              minimum: int) -> tuple[list[dict], int]:
    """Officials of one commune by id (names never leave the commune), those with at
    least ``minimum`` ratings; and how many officials had fewer (not shown one by one).
    Only for roles that may see them (province/accounts.py)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT official, sum(n)::int, sum(satisfied)::int, sum(low)::int "
            "FROM daily_official WHERE commune = %s AND day >= %s AND day < %s "
            "GROUP BY official", [commune, since, until]).fetchall()
    shown = [{"official": o or None, **_figures(n, s, low, minimum)}
             for o, n, s, low in rows if n >= minimum]
    shown.sort(key=lambda r: (-r["satisfied"], -r["ratings"], r["official"] or ""))
    return shown, sum(1 for o, n, *_ in rows if n < minimum)


def sipas_counts(pool: ConnectionPool, since: date, until: date,
                 commune: str | None = None) -> dict[str, dict[str, tuple[int, int]]]:
    """{commune: {factor: (answers, satisfied)}} over [since, until), for
    hailong.sipas.from_counts (the one formula, shared with the commune)."""
    where, args = "", [since, until]
    if commune:
        where, args = " AND commune = %s", args + [commune]
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT commune, factor, sum(answers)::int, sum(satisfied)::int FROM daily_sipas "
            f"WHERE day >= %s AND day < %s{where} GROUP BY 1, 2", args).fetchall()
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for c, factor, n, sat in rows:
        out.setdefault(c, {})[factor] = (n, sat)
    return out


def sipas_by_quarter(pool: ConnectionPool, commune: str, since: date
                     ) -> dict[date, dict[str, tuple[int, int]]]:
    """One commune's {quarter start: {factor: (answers, satisfied)}} from ``since``."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT date_trunc('quarter', day)::date, factor, sum(answers)::int, "
            "sum(satisfied)::int FROM daily_sipas WHERE commune = %s AND day >= %s "
            "GROUP BY 1, 2", [commune, since]).fetchall()
    out: dict[date, dict[str, tuple[int, int]]] = {}
    for q, factor, n, sat in rows:
        out.setdefault(q, {})[factor] = (n, sat)
    return out


_K = ("k1", "k2", "k3")
_Q = ("q1", "q2", "q3")
_OFFICIALS = tuple(f"cb-{i:02d}" for i in range(1, 9))


def seed(pool: ConnectionPool, communes: int, ratings: int, *, seed_value: int = 12,
         days: int = 400, survey_share: float = 0.05) -> int:
    """Demo and benchmark data: ``ratings`` per commune over the last ``days``, for
    ``communes`` made-up communes, loaded with COPY (the day tables are kept by the
    same trigger as ingest's). About ``survey_share`` of ratings carry SIPAS answers
    (one per factor, near the rating's score). Returns the ratings written."""
    import random
    rnd = random.Random(seed_value)
    r, gauss = rnd.random, rnd.gauss
    now = time.time()
    span = days * 86400
    factors = contract.SIPAS_FACTORS
    total = 0
    with pool.connection() as conn:
        with conn.cursor() as cur:
            # temp tables, so a seed re-run over the same ids is a no-op too; the time
            # goes in as epoch seconds (formatting 20M timestamps in Python is slow)
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS seed_in (id uuid, commune text, "
                        "kiosk text, counter text, official text, score smallint, "
                        "reasons text[], at double precision) ON COMMIT DELETE ROWS")
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS seed_answers (LIKE survey_answers)"
                        " ON COMMIT DELETE ROWS")
        for c in range(communes):
            commune = f"xa-demo-{c + 1:03d}"
            bias = rnd.uniform(-0.8, 0.8)  # some communes serve better than others
            buf, answers = io.StringIO(), io.StringIO()
            write, answer = buf.write, answers.write
            for _ in range(ratings):
                score = max(1, min(4, round(gauss(3.0 + bias, 0.9))))
                reasons = "{cho-doi-lau}" if score <= 2 and r() < 0.5 else "{}"
                rid = uuid.UUID(int=rnd.getrandbits(128), version=4)
                write(f"{rid}\t{commune}\t{_K[int(r() * 3)]}\t{_Q[int(r() * 3)]}\t"
                      f"{_OFFICIALS[int(r() * 8)]}\t{score}\t{reasons}\t"
                      f"{now - r() * span:.0f}\n")
                if r() < survey_share:
                    for f in factors:
                        level = max(1, min(4, score + int(r() * 3) - 1))
                        answer(f"{rid}\t{f}\t{f}\t{level}\t4\n")
            with conn.cursor() as cur:
                with cur.copy("COPY seed_in FROM STDIN") as copy:
                    copy.write(buf.getvalue())
                cur.execute("INSERT INTO ratings (id, commune, kiosk, counter, official, "
                            "score, scale, reasons, occurred_at, time_source, suspect) "
                            "SELECT id, commune, kiosk, counter, official, score, 4, "
                            "reasons, to_timestamp(at), 'kiosk-clock', false FROM seed_in "
                            "ON CONFLICT (id) DO NOTHING")
                total += cur.rowcount
                with cur.copy("COPY seed_answers FROM STDIN") as copy:
                    copy.write(answers.getvalue())
                cur.execute("INSERT INTO survey_answers SELECT * FROM seed_answers "
                            "ON CONFLICT DO NOTHING")
            conn.commit()
        # as autovacuum would leave a store that has been running: the day tables'
        # visibility map set (index-only scans) and their statistics fresh
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) daily_commune, daily_official, daily_sipas")
        conn.autocommit = False
    return total
