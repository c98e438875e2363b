"""Issue 12, item 3: the province dashboard on a real PostgreSQL — login and CSRF, what
each role may see (officials' figures: province-admin only, ids only, a minimum count),
each commune's trend from the day tables, SIPAS answers forwarded with their rating
(a contract extension old provinces refuse) and their indices, the period report."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import time
import uuid
from datetime import timedelta

import pytest

from helpers import hailong
from province_support import TempDatabase, fill_commune, province_toml
from sync import contract

pytestmark = pytest.mark.slow
ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def pg():
    with TempDatabase() as db:
        yield db


@pytest.fixture
def province(tmp_path, pg):
    """(config, pool) on a fresh database, with users an (province-admin) and binh
    (viewer)."""
    from province import accounts, store
    from province.config import load_province_config
    config = load_province_config(province_toml(tmp_path, pg.url, 1883),
                                  environ={"HAILONG_BROKER_PASSWORD": "x"})
    pool = store.connect(pg.url)
    accounts.add_user(pool, "an", "province-admin", "mat-khau-an")
    accounts.add_user(pool, "binh", "viewer", "mat-khau-binh")
    yield config, pool
    pool.close()


def client(config, pool, user: str | None = None):
    from province.web import create_app
    c = create_app(config, pool).test_client()
    if user:
        r = c.post("/login", data={"username": user, "password": f"mat-khau-{user}"},
                   headers=ORIGIN)
        assert r.status_code == 302, r.status_code
    return c


def record(commune: str, i: int, *, score: int = 4, at: float | None = None,
           official: str | None = "cb-01", suspect: bool = False,
           survey: list | None = None) -> contract.ForwardedRating:
    return contract.ForwardedRating(
        id=str(uuid.UUID(int=(hash(commune) & 0xFFFF) << 64 | i, version=4)),
        commune=commune, kiosk="k1", counter="q1", score=score, scale=4,
        occurred_at=at or time.time() - 3600, official=official, suspect=suspect,
        **({"survey": survey} if survey else {}))


def add(pool, commune: str, records) -> tuple[list, list]:
    from province import store
    with pool.connection() as conn, conn.transaction():
        return store.add_ratings(conn, commune, list(records))


# --- login, CSRF -------------------------------------------------------------------------

def test_nothing_but_the_login_page_without_a_session(province):
    config, pool = province
    c = client(config, pool)
    for path in ("/", "/commune/xa-a", "/commune/xa-a/officials", "/sipas", "/reports",
                 "/reports/2026-Q3.xlsx"):
        r = c.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), path
    assert c.post("/logout").status_code == 302          # to the login page, nothing done
    page = c.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page and "Tên đăng nhập" in page
    # wrong password, unknown user, a login posted from another site
    assert c.post("/login", data={"username": "an", "password": "sai-roi-sai"},
                  headers=ORIGIN).status_code == 401
    assert c.post("/login", data={"username": "ai-do", "password": "mat-khau-an"},
                  headers=ORIGIN).status_code == 401
    assert c.post("/login", data={"username": "an", "password": "mat-khau-an"},
                  headers={"Origin": "http://evil.example"}).status_code == 400
    # a good login, then logout needs the session's CSRF token
    c = client(config, pool, "an")
    assert c.get("/").status_code == 200
    assert c.post("/logout", headers=ORIGIN).status_code == 400
    page = c.get("/").get_data(as_text=True)
    token = page.split('name="csrf" value="')[1].split('"')[0]
    assert c.post("/logout", data={"csrf": token}, headers=ORIGIN).status_code == 302
    assert c.get("/").status_code == 302                  # the session is gone


def test_failed_logins_slow_down(province):
    config, pool = province
    c = client(config, pool)
    codes = [c.post("/login", data={"username": "binh", "password": "doan-thu-xem"},
                    headers=ORIGIN).status_code for _ in range(6)]
    assert codes[:4] == [401] * 4 and 429 in codes[4:]
    r = c.post("/login", data={"username": "binh", "password": "mat-khau-binh"},
               headers=ORIGIN)
    assert r.status_code == 429                            # even the right one waits


def test_add_user_command(tmp_path, pg):
    conf = province_toml(tmp_path, pg.url, 1883)
    out = hailong("province", "add-user", "--config", str(conf), "--role", "viewer",
                  "--password", "mot-mat-khau", "chi.lan")
    assert "user chi.lan: role viewer" in out.stdout
    bad = hailong("province", "add-user", "--config", str(conf), "--role", "leader",
                  "--password", "mot-mat-khau", "x", check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    short = hailong("province", "add-user", "--config", str(conf), "--role", "viewer",
                    "--password", "ngan", "x", check=False)
    assert short.returncode == 1 and "at least 8" in short.stderr
    from province import accounts, store
    pool = store.connect(pg.url)
    try:
        user, _ = accounts.authenticate(pool, "chi.lan", "mot-mat-khau")
        with pool.connection() as conn:
            stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    finally:
        pool.close()
    assert user.role == "viewer" and stored.startswith("$argon2id$")


# --- who sees what -----------------------------------------------------------------------

def test_officials_only_for_province_admin_by_id_with_a_minimum(province):
    config, pool = province
    recs = [record("xa-a", i, official="cb-01", score=4) for i in range(40)]
    recs += [record("xa-a", 100 + i, official="cb-02", score=1) for i in range(35)]
    recs += [record("xa-a", 200 + i, official="cb-03") for i in range(5)]  # too few
    add(pool, "xa-a", recs)
    viewer = client(config, pool, "binh")
    assert viewer.get("/commune/xa-a/officials").status_code == 403   # enforced, not hidden
    page = viewer.get("/commune/xa-a").get_data(as_text=True)
    assert "/officials" not in page and "cb-01" not in page
    for path in ("/", "/sipas", "/reports"):
        assert "cb-0" not in viewer.get(path).get_data(as_text=True)
    admin = client(config, pool, "an")
    assert "/commune/xa-a/officials" in admin.get("/commune/xa-a").get_data(as_text=True)
    page = admin.get("/commune/xa-a/officials").get_data(as_text=True)
    assert page.index("cb-01") < page.index("cb-02")        # ranked by satisfaction
    assert "cb-03" not in page and "1 công chức có ít hơn 30" in page
    assert "100,0" in page and "0,0" in page
    assert admin.get("/commune/nowhere/officials").status_code == 404


# --- trend, ranking, day tables ----------------------------------------------------------

def test_commune_trend_by_month_with_a_minimum(province):
    from province import store
    config, pool = province
    now = time.time()
    this_month = [record("xa-a", i, score=4 if i % 4 else 1, at=now - 3600)
                  for i in range(40)]
    months_ago = [record("xa-a", 1000 + i, score=3, at=now - 100 * 86400) for i in range(10)]
    suspect = [record("xa-a", 2000 + i, score=1, suspect=True, at=now - 3600)
               for i in range(7)]
    stored, _ = add(pool, "xa-a", this_month + months_ago + suspect)
    assert len(stored) == 57
    add(pool, "xa-a", this_month)                          # re-sent: counted once
    add(pool, "xa-b", [record("xa-b", i, score=3) for i in range(30)])
    with pool.connection() as conn:   # the day tables agree with the raw ratings
        assert conn.execute("SELECT sum(n), sum(suspect) FROM daily_commune WHERE commune "
                            "= 'xa-a'").fetchone() == (50, 7)
    viewer = client(config, pool, "binh")
    ranking = viewer.get("/?days=365").get_data(as_text=True)
    assert ranking.index("xa-b") < ranking.index("xa-a")    # 100 % before 75 %
    assert 'href="/commune/xa-a"' in ranking
    page = viewer.get("/commune/xa-a").get_data(as_text=True)
    today = store.local_day(now - 3600)
    row = page.split(f"{today.month:02d}/{today.year}</td>")[1].split("</tr>")[0]
    assert ">40<" in row and "75,0" in row and "25,0" in row and ">7<" in row  # low share
    old = store.local_day(now - 100 * 86400)
    row = page.split(f"{old.month:02d}/{old.year}</td>")[1].split("</tr>")[0]
    assert ">10<" in row and "—" in row and "%" not in row   # 10 < 30: no shares
    assert viewer.get("/commune/nowhere").status_code == 404


# --- SIPAS at the province ---------------------------------------------------------------

def _old_contract():
    """sync/contract.py as it was before the SIPAS extension: what an old province runs."""
    import sys
    from pathlib import Path
    text = subprocess.run(["git", "show", "47c8b4f:sync/contract.py"], capture_output=True,
                          text=True, check=True, cwd=Path(__file__).parent).stdout
    spec = importlib.util.spec_from_loader("old_contract", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_contract"] = module   # msgspec resolves annotations through it
    try:
        exec(compile(text, "old_contract.py", "exec"), module.__dict__)
    finally:
        del sys.modules["old_contract"]
    return module


def answers(levels: dict[str, int]) -> list[contract.SurveyAnswer]:
    return [contract.SurveyAnswer(q=f, factor=f, level=lv, scale=4)
            for f, lv in levels.items()]


def test_old_province_refuses_survey_records_clearly_new_one_takes_both():
    old = _old_contract()
    plain = contract.encode(record("xa-a", 1))
    with_survey = contract.encode(record("xa-a", 2, survey=answers({"access": 4})))
    assert b"survey" not in plain                 # no survey: byte-for-byte the old record
    assert old.decode_forwarded(plain).id == record("xa-a", 1).id
    with pytest.raises(old.ContractError) as refused:
        old.decode_forwarded(with_survey)
    assert refused.value.reason == "invalid" and "survey" in refused.value.detail
    assert not contract.decode_forwarded(plain).survey
    assert contract.decode_forwarded(with_survey).survey[0].factor == "access"
    text = with_survey.decode()
    for key in ("vi", "en", "text", "comment"):     # codes and levels only
        assert f'"{key}"' not in text


def test_commune_forwards_survey_answers_with_the_rating(tmp_path):
    from server.ingest import forward
    from server.ingest.store import Store, connect
    path = tmp_path / "c.db"
    fill_commune(path, "xa-a", 3, seed=5)
    raw = contract.encode(contract.Rating(
        id=str(uuid.uuid4()), v=1, kiosk="k1", commune="xa-a", counter="q1", score=4,
        scale=4, created_at=time.time(), clock_synced=True, boot_id=str(uuid.uuid4()),
        mono=5.0, survey=answers({"access": 4, "result": 2})))
    with Store(path) as s:
        from hailong.database import immediate
        with immediate(s.db):
            assert len(s.add_ratings("xa-a", "k1", [raw], time.time()).stored) == 1
    db = connect(path)
    rows = db.conn.execute(forward._SELECT, [0, 100]).fetchall()
    found = forward.survey_answers(db.conn, [r[1] for r in rows])
    key = forward.pseudonym_key(db.conn)
    records = [forward.forwarded(r, key, found.get(r[1])) for r in rows]
    batch = contract.decode_forward_batch(contract.encode_forward_batch("b", records))
    decoded = [contract.decode_forwarded(bytes(x)) for x in batch.ratings]
    with_answers = [d for d in decoded if d.survey]
    assert len(decoded) == 4 and len(with_answers) == 1
    assert {(a.factor, a.level) for a in with_answers[0].survey} == {("access", 4),
                                                                     ("result", 2)}


# A fixed data set: 40 ratings, each answering all five factors on a 4-level scale
# (satisfied = level 3 or 4). Satisfied answers per factor: access 30, procedure 20,
# official 40, result 10, feedback 36. By hand: indices 75.0, 50.0, 100.0, 25.0, 90.0;
# overall = (75 + 50 + 100 + 25 + 90) / 5 = 68.0. A suspect rating's answers (all level
# 1) and a re-sent rating change nothing.
SATISFIED = {"access": 30, "procedure": 20, "official": 40, "result": 10, "feedback": 36}
BY_HAND = {"access": 75.0, "procedure": 50.0, "official": 100.0, "result": 25.0,
           "feedback": 90.0}


def test_sipas_indices_from_forwarded_answers_equal_the_hand_computed(province):
    from province import report, store
    from province.web import quarter_key
    config, pool = province
    at = time.time() - 3600
    recs = [record("xa-s", i, at=at, survey=answers(
        {f: 4 if i < k else 2 for f, k in SATISFIED.items()})) for i in range(40)]
    recs.append(record("xa-s", 99, at=at, suspect=True,
                       survey=answers({f: 1 for f in SATISFIED})))
    stored, rejected = add(pool, "xa-s", recs)
    assert len(stored) == 41 and not rejected
    add(pool, "xa-s", recs[:5])                            # re-sent
    bad = record("xa-s", 500, at=at, survey=[contract.SurveyAnswer(
        q="access", factor="access", level=5, scale=4)])
    assert add(pool, "xa-s", [bad])[1] == [contract.Rejection(bad.id, "invalid")]
    day = store.local_day(at)
    counts = store.sipas_counts(pool, day, day + timedelta(days=1), "xa-s")
    from hailong import sipas
    got = sipas.from_counts(counts["xa-s"])
    assert {f: v["index"] for f, v in got["factors"].items()} == BY_HAND
    assert got["overall"] == 68.0 and got["answers"] == 200
    q = quarter_key(day)
    page = client(config, pool, "binh").get(f"/sipas?quarter={q}").get_data(as_text=True)
    for text in ("75,0", "50,0", "100,0", "25,0", "90,0", "<b>68,0"):
        assert text in page, text
    commune = client(config, pool, "binh").get("/commune/xa-s").get_data(as_text=True)
    assert "<b>68,0" in commune
    data = report.build(pool, report.parse_period(q), 30)
    assert data["rows"][0]["sipas"]["overall"] == 68.0


# --- the period report -------------------------------------------------------------------

def test_period_report_files(province, tmp_path):
    from openpyxl import load_workbook

    import re

    from province import report, store
    config, pool = province
    store.seed(pool, 3, 400, days=80)
    add(pool, "xa-it", [record("xa-it", i) for i in range(5)])    # too few to rank
    from province.web import quarter_key
    q = quarter_key(store.local_day(time.time()))
    c = client(config, pool, "binh")
    r = c.get(f"/reports/{q}.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.data))
    ws = wb["Xếp hạng"]
    head = [c.value for c in ws[4]]
    assert head[:4] == ["Hạng", "Mã xã", "Tên xã", "Số lượt đánh giá"]
    rates = [ws.cell(row, 6).value for row in range(5, 8)]
    assert rates == sorted(rates, reverse=True) and ws.cell(5, 6).number_format == "0.0%"
    assert [c.value for c in wb["Chưa đủ số lượt"]["A"]][1:] == ["xa-it"]
    assert "SIPAS" in wb.sheetnames
    assert c.get("/reports/2026-Q9.xlsx").status_code == 404
    docx = c.get(f"/reports/{q}.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"
    from docx import Document
    doc = Document(io.BytesIO(docx.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [cell.text for t in doc.tables for row in t.rows for cell in row.cells]
    assert "BÁO CÁO" in text and "\nSỞ NỘI VỤ\n" in cells[0]   # the issuing body, one line
    total = sum(r["ratings"] for r in store.ranking(pool, 1, since=report.parse_period(
        q).start, until=report.parse_period(q).end)[0])
    assert f"tổng cộng {total:,} lượt".replace(",", ".") in text     # 1.205, not 1,205
    assert any(re.fullmatch(r"\d{1,3},\d\u00a0%", c) for c in cells)  # 86,1 %
    assert "cb-0" not in text + "".join(cells)                      # no official in it
    out = hailong("province", "report", "--config", str(config.path), "--period", q,
                  "--out", str(tmp_path / "out"), "--no-pdf")
    assert len(out.stdout.split()) == 2
    bad = hailong("province", "report", "--config", str(config.path), "--period", "soon",
                  "--out", str(tmp_path / "out"), check=False)
    assert bad.returncode == 1 and "period" in bad.stderr and "Traceback" not in bad.stderr


def test_survey_answers_reach_the_province_through_the_real_forwarder(tmp_path, broker, pg,
                                                                      procs):
    """The fixed data set above, stored at a commune as kiosk ratings with their survey,
    forwarded by a real `hailong server run` through a locked-down province broker to a
    real `hailong province run`: the province's indices are the hand-computed ones."""
    import json

    from conftest import wait_until
    from hailong.broker import free_port
    from hailong.database import immediate
    from province_support import province_broker
    from server.ingest.store import Store
    from test_province import commune_conf, enrol

    from hailong import sipas
    pport = free_port()
    pconf = province_toml(tmp_path, pg.url, pport)
    password = enrol(pconf, "xa-s")
    conf, path = commune_conf(tmp_path, "xa-s", broker.port, pport, password, batch=7)
    now, boot = time.time(), str(uuid.uuid4())
    raws = [contract.encode(contract.Rating(
        id=str(uuid.UUID(int=i + 1, version=4)), v=1, kiosk="k1", commune="xa-s",
        counter="q1", score=4, scale=4, created_at=now - 600 + i, clock_synced=True,
        boot_id=boot, mono=10.0 + i, survey=answers(
            {f: 4 if i < k else 2 for f, k in SATISFIED.items()}))) for i in range(40)]
    with Store(path) as s, immediate(s.db):
        assert len(s.add_ratings("xa-s", "k1", raws, time.time()).stored) == 40
    pbroker = province_broker(tmp_path, pport).start()
    try:
        prov = procs(["province", "run", "--config", str(pconf)], tmp_path / "province.log")
        prov.wait_for_log("province ingest subscribed")
        procs(["server", "run", "--config", str(conf)], tmp_path / "xa-s.log")
        stats = lambda: json.loads(hailong("province", "stats", "--config", str(pconf),  # noqa: E731
                                           "--json").stdout)
        wait_until(lambda: stats()["ratings"] == 40, timeout=120, interval=1,
                   message="40 ratings at the province")
    finally:
        pbroker.stop()
    from province import store
    pool = store.connect(pg.url)
    try:
        day = store.local_day(now - 600)
        counts = store.sipas_counts(pool, day - timedelta(days=1), day + timedelta(days=2))
        with pool.connection() as conn:
            held = conn.execute("SELECT count(*) FROM survey_answers").fetchone()[0]
    finally:
        pool.close()
    got = sipas.from_counts(counts["xa-s"])
    assert held == 200 and got["overall"] == 68.0
    assert {f: v["index"] for f, v in got["factors"].items()} == BY_HAND


def test_ratings_stored_before_the_day_tables_are_counted_into_them(pg):
    """A province store from before the dashboard: the migration fills the day tables
    from the ratings it already holds; ingest then adds to them."""
    from province import store
    saved = store.MIGRATIONS
    store.MIGRATIONS = saved[:1]
    try:
        pool = store.connect(pg.url)
        with pool.connection() as conn:
            conn.execute("INSERT INTO ratings (id, commune, kiosk, counter, official, score, "
                         "scale, occurred_at, suspect) SELECT gen_random_uuid(), 'xa-cu', "
                         "'k1', 'q1', 'cb-01', 1 + i % 4, 4, now() - interval '1 hour', "
                         "i % 10 = 0 FROM generate_series(1, 50) i")
            conn.commit()
        pool.close()
    finally:
        store.MIGRATIONS = saved
    pool = store.connect(pg.url)
    try:
        add(pool, "xa-cu", [record("xa-cu", i, score=4) for i in range(10)])
        with pool.connection() as conn:
            assert conn.execute("SELECT sum(n), sum(satisfied), sum(low), sum(suspect) FROM "
                                "daily_commune").fetchone() == (55, 32, 10, 5)
            assert conn.execute("SELECT sum(n) FROM daily_official").fetchone() == (55,)
    finally:
        pool.close()
