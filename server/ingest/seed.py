"""Realistic demo data: ratings written straight into a server store.

For demos and benchmarks only (``hailong server seed``); real ratings always come
through ingest. The spread follows a commune's working week: office hours on weekdays
and Saturday mornings, four counters each with its officials, the usual procedures,
a small share of low ratings with the plans' reasons, a few suspect presses and a few
ratings from kiosks whose clock was not synchronised. Low ratings get their cases
(and a few a consented call-back number), as ingest would give them.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from hailong import domain, sipas

from server.followup import cases as followup, workdays
from server.reports import rollup
from server.reports.rollup import LOCAL

log = logging.getLogger(__name__)

# (kiosk, counter, officials at that counter, their names for the roster if there is one)
COUNTERS = (
    ("k01", "q1", (("cb-nguyen-van-an", "Nguyễn Văn An"), ("cb-tran-thi-binh", "Trần Thị Bình"))),
    ("k02", "q2", (("cb-le-van-cuong", "Lê Văn Cường"), ("cb-pham-thi-dung", "Phạm Thị Dung"))),
    ("k03", "q3", (("cb-hoang-van-em", "Hoàng Văn Em"), ("cb-vu-thi-giang", "Vũ Thị Giang"))),
    ("k04", "q4", (("cb-dang-van-hung", "Đặng Văn Hùng"), ("cb-bui-thi-lan", "Bùi Thị Lan"))),
)
PROCEDURES = (
    ("Đăng ký khai sinh", "Hộ tịch"), ("Đăng ký kết hôn", "Hộ tịch"),
    ("Xác nhận tình trạng hôn nhân", "Hộ tịch"), ("Chứng thực bản sao từ bản chính", "Chứng thực"),
    ("Chứng thực chữ ký", "Chứng thực"), ("Đăng ký thường trú", "Cư trú"),
    ("Cấp giấy chứng nhận quyền sử dụng đất", "Đất đai"),
    ("Trợ cấp xã hội hằng tháng", "Bảo trợ xã hội"),
)
# Satisfaction differs by official, so the per-official page has something to show.
LOW_WEIGHT = {"cb-le-van-cuong": 3.0, "cb-bui-thi-lan": 2.0, "cb-vu-thi-giang": 0.5}
SCALE = 4
# A commune counter's usual spread, best level first (as kiosk/simulate.py's).
WEIGHTS = (0.58, 0.30, 0.08, 0.04)
# How likely each SIPAS factor's answer is satisfied when the rating was (the procedure
# and the handling of feedback lag, as in the published indices); after a low rating
# half as likely.
SURVEY_LEAN = {"access": 0.9, "procedure": 0.75, "official": 0.9, "result": 0.85,
               "feedback": 0.7}


def _times(rng: random.Random, n: int, days: int, now: float) -> list[float]:
    """``n`` press times in office hours over the last ``days`` days, sorted."""
    end = datetime.fromtimestamp(now, LOCAL)
    start = end - timedelta(days=days)
    out = []
    while len(out) < n:
        d = start + timedelta(days=rng.random() * days)
        if d.weekday() == 6 or (d.weekday() == 5 and d.hour >= 11.5):
            continue
        hour = rng.choice((7.5, 8, 9, 10, 13.5, 14, 15, 16)) + rng.random()
        t = d.replace(hour=int(hour), minute=int(hour % 1 * 60), second=rng.randrange(60))
        if t.timestamp() < now:
            out.append(t.timestamp())
    out.sort()
    return out


def seed(db, count: int, *, days: int = 365, seed_value: int = 1,
         now: float | None = None, commune: str = "xa-demo",
         low_at_or_below: int = 0, deadline_days: float = 3.0,
         weights: Sequence[float] = WEIGHTS, low_weight: Mapping[str, float] = LOW_WEIGHT,
         survey_share: float = 0.0, survey_lean: Mapping[str, float] = SURVEY_LEAN,
         progress=None) -> int:
    """Add ``count`` ratings to the store ``db`` (sqlite_utils.Database); returns count.
    ``progress(text)`` hears how far it is (10,000,000 ratings take minutes).

    A commune's character (the province demo gives each its own, so its ranking shows
    something): ``weights`` the levels' spread, best first; ``low_weight`` how much
    more often an official's citizens rate low; ``survey_share`` of the ratings come
    with SIPAS answers, each factor satisfied as ``survey_lean`` says."""
    say = progress or (lambda text: None)
    started = time.monotonic()
    step = max(10_000, count // 20)
    rng = random.Random(seed_value)
    now = time.time() if now is None else now
    conn = db.conn
    levels = [lv.score for lv in domain.LEVELS[SCALE]]
    low_codes = [r.code for r in domain.LOW_REASONS]
    high_codes = [r.code for r in domain.HIGH_REASONS]
    boot = str(uuid.UUID(int=rng.getrandbits(128)))
    survey_rng = random.Random(seed_value + 1_000_003)
    chunk: list[tuple] = []
    contacts: list[tuple] = []
    answers: list[tuple] = []

    def flush() -> None:
        conn.executemany(
            "INSERT INTO ratings (id, kiosk, commune, counter, official, score, "
            "scale, reasons, dossier, procedure, field, transaction_id, suspect, lang, "
            "created_at, clock_synced, boot_id, mono, occurred_at, time_source, received_at, "
            "fingerprint) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (id) DO NOTHING", chunk)
        conn.executemany("INSERT INTO contacts (rating_id, phone, consent_text, stored_at) "
                         "VALUES (?,?,?,?) ON CONFLICT (rating_id) DO NOTHING", contacts)
        if answers:
            conn.executemany("INSERT INTO survey_answers (rating_id, question, factor, level, "
                             "scale, commune, kiosk, stored_at) VALUES (?,?,?,?,?,?,?,?) "
                             "ON CONFLICT DO NOTHING", answers)
        chunk.clear()
        contacts.clear()
        answers.clear()

    with conn:
        for n, t in enumerate(_times(rng, count, days, now)):
            kiosk, counter, officials = rng.choice(COUNTERS)
            official = rng.choice(officials)[0]
            spread = list(weights)
            w = low_weight.get(official, 1.0)
            spread[3] *= w
            spread[2] *= (1 + w) / 2
            score = rng.choices(levels, spread)[0]
            procedure, field = rng.choice(PROCEDURES)
            if domain.is_low(score, SCALE):
                reasons = rng.sample(low_codes, k=rng.randint(1, 2))
            elif score == SCALE and rng.random() < 0.4:
                reasons = rng.sample(high_codes, k=rng.randint(1, 2))
            else:
                reasons = []
            suspect = "burst" if rng.random() < 0.004 else None
            synced = rng.random() > 0.02
            rid = str(uuid.UUID(int=(int(t * 1000) << 80) | (0x7 << 76) | rng.getrandbits(62)
                                | (0b10 << 62)))
            chunk.append((rid, kiosk, commune, counter, official, score, SCALE,
                           json.dumps(reasons), f"H{rng.randrange(10**9):09d}", procedure,
                           field, None, suspect, "vi", t, int(synced), boot, t - now + days * 86400 + 100,
                           t, "kiosk-clock" if synced else "boot-anchor", t + rng.random() * 3,
                           f"seed{n:027d}"))
            if domain.is_low(score, SCALE) and rng.random() < 0.3 and now - t < 20 * 86400:
                contacts.append((rid, f"09{rng.randrange(10**8):08d}",
                                 "Tôi đồng ý để UBND xã gọi lại về đánh giá này.", t))
            if survey_share and survey_rng.random() < survey_share:
                # a generator of its own: the same seed gives the same ratings, answers or not
                odds = 1.0 if domain.is_satisfied(score, SCALE) else 0.5
                for q in sipas.DEFAULT_QUESTIONS:
                    good = survey_rng.random() < survey_lean[q.factor] * odds
                    answers.append((rid, q.code, q.factor,
                                    survey_rng.choice((3, 4) if good else (1, 2)), SCALE,
                                    commune, kiosk, t))
            if len(chunk) >= 5000:
                flush()
            if n and n % step == 0:
                rate = n / max(time.monotonic() - started, 1e-3)
                say(f"  {n:,} of {count:,} ratings ({100 * n // count} %), "
                    f"about {(count - n) / rate:.0f} s to go")
        flush()
    say(f"  {count:,} ratings written; opening follow-up cases")
    followup.open_cases(conn, low_at_or_below=low_at_or_below, deadline_days=deadline_days,
                        now=now)
    # Seeded cases open when the rating was made, and most of the old ones are done.
    with conn:
        # Deadlines in working days, as real cases get them (server/followup/workdays.py).
        # (computed here, not by a SQL function: PostgreSQL cannot call into Python)
        seeded = conn.execute("SELECT c.id, c.occurred_at FROM cases c JOIN ratings r ON "
                              "r.id = c.rating_id WHERE r.fingerprint LIKE 'seed%'").fetchall()
        conn.executemany("UPDATE cases SET opened_at = ?, deadline = ? WHERE id = ?",
                         [(t, workdays.deadline(t, deadline_days), i) for i, t in seeded])
        outcomes = followup.OUTCOME_CODES
        # Most cases are closed within their deadline; a few older ones stay overdue.
        rows = [r for r in conn.execute(
            "SELECT id, occurred_at FROM cases WHERE state = 'open' AND occurred_at < ?",
            [now - deadline_days * 86400]) if rng.random() < 0.995]
        conn.executemany(
            "UPDATE cases SET state = 'closed', outcome = ?, closed_at = ?, "
            "closed_by = 'seed', assignee = 'seed', alerted = 1 WHERE id = ?",
            [(rng.choice(outcomes), t + rng.random() * deadline_days * 86400, i)
             for i, t in rows])
        conn.execute("UPDATE cases SET alerted = 1 WHERE occurred_at < ?", [now - 86400])
    _roster(conn)
    say("  rebuilding the daily figures")
    rollup.rebuild(conn)
    return count


def _roster(conn) -> None:
    """Names for the seeded officials, if the roster table (issue 5's) is there."""
    try:
        with conn:
            for _, _, officials in COUNTERS:
                conn.executemany("INSERT INTO officials (id, name) VALUES (?, ?) "
                                 "ON CONFLICT (id) DO NOTHING", officials)
    except sqlite3.Error as e:  # their table may need more than a name; ids then show
        log.info("seed: roster not filled: %s", e)


DEMO_USER, DEMO_PASSWORD = "chutich", "hailong-demo"


def demo_kiosks(n: int) -> list[tuple[str, str, list[str]]]:
    """(kiosk, counter, officials) of the demo's ``n`` kiosks: the seeded counters and
    officials, so the fleet shows them enrolled and they rate people on the roster."""
    return [(f"k{i:02d}", COUNTERS[(i - 1) % len(COUNTERS)][1],
             [o for o, _ in COUNTERS[(i - 1) % len(COUNTERS)][2]]) for i in range(1, n + 1)]


def enrol_demo(config_path, kiosks: int) -> None:
    """For ``hailong demo``: its kiosks enrolled, each counter's officials in the roster
    (on duty: the first), so nothing shows "(chưa đăng ký)"."""
    from server.config import load_server_config
    from server.fleet.kiosks import Fleet
    from server.fleet.roster import Roster
    from server.ingest.store import connect

    config = load_server_config(config_path)
    db = connect(config.store)
    try:
        fleet, roster = Fleet(db, config.server.commune), Roster(db)
        names = {o: name for _, _, officials in COUNTERS for o, name in officials}
        for kiosk, counter, officials in demo_kiosks(kiosks):
            if not fleet.get(kiosk):
                fleet.enrol(kiosk, counter, note="demo")  # the password is not needed here
            for o in officials:
                roster.add_official(o, names[o])
            roster.set_counter(counter, officials=officials)
            roster.set_on_duty(counter, officials[0])
    finally:
        db.close()


def prepare_demo(config_path, ratings: int = 50_000) -> tuple[str, str]:
    """For ``hailong demo``: a year of seeded ratings (once) and a leader account;
    returns (username, password) to print."""
    from server import accounts
    from server.config import load_server_config
    from server.ingest.store import connect

    config = load_server_config(config_path)
    db = connect(config.store)
    try:
        if not db.execute("SELECT 1 FROM ratings LIMIT 1").fetchone():
            seed(db, ratings, commune=config.server.commune,
                 low_at_or_below=config.followup.low_at_or_below,
                 deadline_days=config.followup.deadline_days)
        accounts.add_user(db.conn, DEMO_USER, "leader", DEMO_PASSWORD)
    finally:
        db.close()
    return DEMO_USER, DEMO_PASSWORD
