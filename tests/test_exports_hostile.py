"""Issue 8, item 5: every text a kiosk, the queue system or a roster edit can fill,
written with every hostile pattern, through every export (XLSX, CSV, DOCX report,
letters) and the pages: no live formula, no control character, never a 500."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile

import docx
import openpyxl
import pytest

from server.reports import figures, letters, files as report_files, report as reports
from server.followup import cases as followup
from server.ingest import textsafe
from server.fleet.roster import Roster
from server.ingest.store import connect
from server.followup.watch import Watcher
from server.web import create_app

from dashboard_support import add_users, load, login, rating, store_ratings

FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "＝1+1", "＋1",
            "－1", "＠SUM(A1)", " =1+1", '=HYPERLINK("http://evil.example","Bấm")',
            "=cmd|' /C calc'!A0", "−1+1"]
CONTROLS = ["ab\x00cd", "x\x01\x02\x1b[31my", "a\x0bb\x0cc", "x\x7f\x85y", "a\u202eb",
            "trễ\x08hẹn", "\x1f=1+1", "ok\ufffe"]
PATTERNS = FORMULAS + CONTROLS
CODES = ["-cmd", "-1", "attitude"]  # reason codes the contract lets through


@pytest.fixture(params=["sqlite", "postgresql"])
def store_engine(request) -> str:
    """Every test here that opens the server store runs on both engines (issue 12)."""
    return request.param


def _bad_char(text: str) -> str | None:
    for ch in text:
        if unicodedata.category(ch) == "Cc" or ch in "\u202a\u202b\u202c\u202d\u202e" \
                "\u2066\u2067\u2068\u2069\ufffe\uffff":
            return repr(ch)
    return None


@pytest.fixture
def hostile(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    add_users(config)
    raws = []
    for i, text in enumerate(PATTERNS):
        raws.append(rating(1, official=f"cb-{i}", counter=f"q{i}", reasons=tuple(CODES),
                           dossier=text[:200], procedure=text, field=text,
                           phone="0912345678"))
    raws.append(rating(4, official="cb-0", procedure=PATTERNS[0], reasons=("smiled",)))
    # consent text as the kiosk sends it (in no export, but shown on the case page)
    raws = [json.dumps({**json.loads(r), **({"contact": {
        "phone": "0912345678", "consent": True, "consent_text": "=1+1\x00\u202e đồng ý"}}
        if b"contact" in r else {})}).encode() for r in raws]
    new = store_ratings(config, raws)
    assert len(new) == len(PATTERNS) + 1
    db = connect(config.store)
    roster = Roster(db)
    for i, text in enumerate(PATTERNS):
        roster.add_official(f"cb-{i}", text)
        roster.ensure_counter(f"q{i}", text)
    db.close()
    with Watcher(config) as w:
        w.on_new_ratings(new)
        w.round()
    db = connect(config.store)
    n_cases = db.conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    for case_id in range(1, n_cases + 1):
        followup.add_note(db.conn, case_id, PATTERNS[case_id % len(PATTERNS)], "leader")
    db.close()
    assert n_cases == len(PATTERNS)
    return config, create_app(config), n_cases


def _check_xlsx(body: bytes, where: str, has_data: bool = True) -> None:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode(), (where, name, "formula")
    wb = openpyxl.load_workbook(io.BytesIO(body))
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (where, ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not _bad_char(cell.value), (where, cell.coordinate, cell.value)
                    if textsafe.is_formula(cell.value):
                        seen += 1
                        assert cell.quotePrefix, (where, cell.coordinate, cell.value)
    assert seen or not has_data, f"{where}: the hostile text did not reach the export at all"


def _check_csv(body: bytes, where: str, has_data: bool = True) -> None:
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=report_files.CSV_SEPARATOR))
    assert len(rows) > 5
    for row in rows:
        for field in row:
            assert not _bad_char(field), (where, field)
            assert not field or field[0] not in textsafe.FORMULA_START, (where, field)
            assert not field.lstrip() or field.lstrip()[0] not in textsafe.FORMULA_START, \
                (where, field)
    assert not has_data or "'=1+1" in text and "'＝1+1" in text and "'@SUM(A1)" in text


def _docx_text(body: bytes) -> str:
    d = docx.Document(io.BytesIO(body))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def _check_docx(body: bytes, where: str) -> str:
    text = _docx_text(body)
    for line in text.split("\n"):
        assert not _bad_char(line), (where, line)
    return text


def test_every_export_of_hostile_text(hostile):
    config, app, n_cases = hostile
    client = app.test_client()
    login(client, "leader")
    periods = [figures.parse_period(k).key for k in ("month", "quarter", "year")]
    year = periods[-1]
    periods += [f"{year}-6M", f"{year}-9M"]
    today = figures.parse_period("today").start
    for key in periods:
        has_data = figures.parse_period(key).start <= today < figures.parse_period(key).end
        r = client.get(f"/reports/{key}.xlsx")
        assert r.status_code == 200, (key, "xlsx", r.status_code)
        _check_xlsx(r.data, f"{key}.xlsx", has_data)
        r = client.get(f"/reports/{key}.csv")
        assert r.status_code == 200, (key, "csv", r.status_code)
        _check_csv(r.data, f"{key}.csv", has_data)
        r = client.get(f"/reports/{key}.docx")
        assert r.status_code == 200, (key, "docx", r.status_code)
        text = _check_docx(r.data, f"{key}.docx")
        # the text is kept, only the control character goes (PostgreSQL text holds no
        # NUL: the store's seam keeps U+FFFD in its place, server/ingest/pg.py)
        assert "abcd" in text or "ab\ufffdcd" in text or not has_data
    db = connect(config.store)
    for case_id in range(1, n_cases + 1):
        # close them as valid or not, so every kind of letter is made (issue 10: an
        # apology only for a valid complaint, a reply only with its result)
        for outcome, kinds in (("reminded", ("apology", "thanks")),
                               ("unfounded", ("reply",))):
            if followup.get(db.conn, case_id)["state"] == "closed":
                followup.reopen(db.conn, case_id, "leader")
            followup.close(db.conn, case_id, outcome, "leader")
            for kind in kinds:
                r = client.get(f"/cases/{case_id}/letter-{kind}.docx")
                assert r.status_code == 200, (case_id, kind, r.status_code)
                _check_docx(r.data, f"case {case_id} {kind}")
    db.close()
    pages = ["/", "/officials", "/counters", "/fields", "/cases", "/cases?state=all",
             "/reports", "/alerts", "/audit", "/api/v1/report", "/api/v1/cases"]
    pages += [f"/cases/{i}" for i in range(1, n_cases + 1)]
    pages += [f"/officials/cb-{i}" for i in range(len(PATTERNS))]
    for page in pages:
        r = client.get(page)
        assert r.status_code == 200, (page, r.status_code)


def test_letters_and_reports_directly(hostile):
    """The library calls too (the CLI and any future caller), not only the routes."""
    config, _, _ = hostile
    db = connect(config.store)
    data = reports.build(db.conn, figures.parse_period("quarter"),
                         {f"cb-{i}": t for i, t in enumerate(PATTERNS)})
    _check_xlsx(reports.to_xlsx(data, "UBND xã\x00 =Tân Lập"), "to_xlsx")
    _check_csv(reports.to_csv(data).encode(), "to_csv")
    _check_docx(reports.to_docx(data, "UBND xã\x00 Tân Lập"), "to_docx")
    case = followup.get(db.conn, 1)
    db.close()
    for kind, outcome in (("apology", "reminded"), ("reply", "unfounded"),
                          ("thanks", None)):
        closed = {**case, "state": "closed" if outcome else case["state"], "outcome": outcome}
        _check_docx(letters.render(kind, closed, commune_name="UBND xã\x07 Tân Lập",
                                   official_name="=1+1\x00\u202e",
                                   addressee={"name": "=1+1\x00", "address": "\u202eabc"}),
                    kind)


@pytest.mark.parametrize("text,out", [
    ("a\tb\r\nc", "a b  c"), ("x\x00y", "xy"), ("\u202eabc", "abc"), ("ok", "ok"),
    ("\ud800z", "z"), ("Nguyễn Văn An", "Nguyễn Văn An")])
def test_clean_text(text, out):
    assert textsafe.clean_text(text) == out


def test_csv_cell_rules():
    assert textsafe.csv_cell("=1+1") == "'=1+1"
    assert textsafe.csv_cell(" @x") == "' @x"
    assert textsafe.csv_cell("\t=1") == "' =1"
    assert textsafe.csv_cell("Đăng ký khai sinh") == "Đăng ký khai sinh"
    assert textsafe.csv_cell(-3) == -3 and textsafe.csv_cell(None) is None
    assert re.fullmatch(r"'＋1", textsafe.csv_cell("＋1"))
