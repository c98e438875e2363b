"""Reports and letters: periods, figures cut by the server's time, XLSX / CSV / DOCX
contents, the Decree 30/2020 letter layout, and the seed / add-user commands."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date

import docx
import openpyxl
import pytest

from server.reports import figures, letters, report as reports, rollup
from server.followup import cases as followup
from server.reports.rollup import day_start
from server.ingest.store import connect

from helpers import both_stores
from dashboard_support import load, rating, store_ratings, write_config


@pytest.mark.parametrize("key,start,end", [
    ("2026-02", date(2026, 2, 1), date(2026, 3, 1)),
    ("2026-Q1", date(2026, 1, 1), date(2026, 4, 1)),
    ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
    ("2026-6M", date(2026, 1, 1), date(2026, 7, 1)),
    ("2026-9M", date(2026, 1, 1), date(2026, 10, 1)),
    ("2026", date(2026, 1, 1), date(2027, 1, 1)),
])
def test_periods(key, start, end):
    p = figures.parse_period(key)
    assert (p.start, p.end) == (start, end)
    assert figures.parse_period("quarter", today=date(2026, 11, 23)).key == "2026-Q4"
    with pytest.raises(figures.PeriodError):
        figures.parse_period("2026-Q5")


def _seed_quarter(config):
    q3 = day_start(date(2026, 8, 10)) + 9 * 3600
    q2 = day_start(date(2026, 6, 30)) + 23.5 * 3600  # 30 June 23:30 local = Q2
    store_ratings(config, [
        rating(4, official="cb-an", at=q3, reasons=("smiled",)),
        rating(3, official="cb-an", at=q3),
        rating(1, official="cb-binh", counter="q2", at=q3, reasons=("long-wait", "attitude"),
               field="Chứng thực"),
        rating(1, official="cb-binh", counter="q2", at=q3, suspect="burst"),
        rating(4, official="cb-binh", counter="q2", at=q2),
    ])
    db = connect(config.store)
    rollup.rebuild(db.conn)
    followup.open_cases(db.conn, low_at_or_below=0, deadline_days=3)
    followup.close(db.conn, 1, "apologised", "leader")
    return db


@both_stores
def test_quarter_figures_and_exports(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    db = _seed_quarter(config)
    data = reports.build(db.conn, figures.parse_period("2026-Q3"), {"cb-an": "Nguyễn Văn An"})
    s = data["summary"]
    assert (s["count"], s["satisfied"], s["low"], s["suspect"]) == (3, 2, 1, 1)
    assert data["followup"]["by_outcome"]["apologised"] == 1
    by_official = {r["key"]: r for r in data["by_official"]}
    assert by_official["cb-an"]["name"] == "Nguyễn Văn An" and by_official["cb-an"]["rate"] == 100.0
    assert by_official["cb-binh"]["count"] == 1  # the June rating and the suspect are out
    assert {r["code"] for r in data["reasons"]} == {"long-wait", "attitude"}

    wb = openpyxl.load_workbook(io.BytesIO(reports.to_xlsx(data, "UBND xã Tân Lập")))
    assert {"Tổng hợp", "Công chức", "Quầy", "Lĩnh vực", "Lý do"} <= set(wb.sheetnames)
    summary = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Số lượt đánh giá"] == 3 and summary["Tỷ lệ hài lòng"] == 0.667
    rows = list(wb["Công chức"].iter_rows(values_only=True))
    assert ("cb-an", "Nguyễn Văn An", 2, 2, 1.0, 0, 0) in rows

    csv_text = reports.to_csv(data)
    assert "Quý 3/2026;Toàn xã;;;3;2;66,7;1;1" in csv_text

    d = docx.Document(io.BytesIO(reports.to_docx(data, "UBND xã Tân Lập")))
    text = "\n".join(p.text for p in d.paragraphs)
    cells = "\n".join(c.text for t in d.tables for row in t.rows for c in row.cells)
    assert "BÁO CÁO" in text and "Quý 3/2026" in text
    assert letters.MOTTO in cells and "Nguyễn Văn An" in cells
    db.close()


@both_stores
def test_letters_follow_decree_30(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    db = _seed_quarter(config)
    case = followup.get(db.conn, 1)
    db.close()
    when = day_start(date(2026, 11, 5)) + 3600
    for kind, title in (("apology", "THƯ XIN LỖI"), ("thanks", "THƯ CẢM ƠN")):  # closed as apologised
        d = docx.Document(io.BytesIO(letters.render(
            kind, case, commune_name="UBND xã Tân Lập", official_name="Trần Thị Bình",
            when=when)))
        header = [c.text for c in d.tables[0].rows[0].cells]
        assert "ỦY BAN NHÂN DÂN\nXÃ TÂN LẬP" in header[0] and "Số:        /UBND" in header[0]
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header[1]
        assert "Độc lập - Tự do - Hạnh phúc" in header[1]
        assert "Tân Lập, ngày 05 tháng 11 năm 2026" in header[1]
        body = "\n".join(p.text for p in d.paragraphs)
        assert title in body and "Trần Thị Bình" in body and "H001" in body
        sign = "\n".join(c.text for c in d.tables[-1].rows[0].cells)
        assert "TM. ỦY BAN NHÂN DÂN" in sign and "Nơi nhận:" in sign
    assert "chờ đợi lâu" in "\n".join(p.text for p in docx.Document(io.BytesIO(
        letters.render("apology", case, commune_name="UBND xã Tân Lập",
                       official_name="x"))).paragraphs)


@both_stores
def test_seed_and_add_user_commands(tmp_path, server_store):
    conf = write_config(tmp_path)
    run = [sys.executable, "-m", "hailong", "server"]
    out = subprocess.run(run + ["seed", "--config", str(conf), "--ratings", "3000"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    r = subprocess.run(run + ["add-user", "--config", str(conf), "--username", "chu-tich",
                              "--role", "leader"], input="mat-khau-dai\n", capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "chu-tich" in r.stdout, r.stderr
    bad = subprocess.run(run + ["add-user", "--config", str(conf), "--username", "x",
                                "--role", "leader"], input="short\n", capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 1 and "at least 8" in bad.stderr
    db = connect(tmp_path / "server.db")
    n = db.execute("SELECT count(*) FROM ratings").fetchone()[0]
    in_rollup = db.execute("SELECT sum(n) + sum(sus) FROM daily2").fetchone()[0]
    cases = db.execute("SELECT count(*) FROM cases").fetchone()[0]
    low = db.execute(f"SELECT count(*) FROM ratings WHERE suspect IS NULL AND "
                     f"{rollup.LOW_SQL}").fetchone()[0]
    role = db.execute("SELECT role FROM users WHERE username = 'chu-tich'").fetchone()[0]
    db.close()
    assert n == in_rollup == 3000 and cases == low > 0 and role == "leader"


@both_stores
def test_demo_store_is_seeded_once_with_a_leader(tmp_path, server_store):
    from server import accounts
    from server.ingest.seed import prepare_demo

    conf = write_config(tmp_path)
    user, password = prepare_demo(conf, ratings=2000)
    prepare_demo(conf, ratings=2000)  # a second demo run adds no ratings
    db = connect(tmp_path / "server.db")
    try:
        assert db.execute("SELECT count(*) FROM ratings").fetchone()[0] == 2000
        assert accounts.authenticate(db.conn, user, password).role == "leader"
    finally:
        db.close()
