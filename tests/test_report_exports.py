"""Period reports a commune can file as they are (issue 10): figures of any range equal
the daily figures and the raw ratings, year-on-year changes on data with a known
answer, every level counted, no future rows, XLSX number formats without duplicated
columns, a CSV that Excel set to Vietnamese opens into columns."""

from __future__ import annotations

import csv
import io
import random
import time
from datetime import date, timedelta

import openpyxl
import pytest

from server.reports import figures, files as report_files, report as reports, rollup
from server.reports.rollup import LOW_SQL, SATISFIED_SQL, day_start
from server.ingest.store import connect
from server.web import create_app

from helpers import both_stores
from dashboard_support import add_users, load, login, rating, store_ratings


def _store(config, spec: list[tuple[int, date, int]], **kw) -> None:
    """spec: (score, day, how many) at 09:00 local."""
    raws = [rating(score, at=day_start(d) + 9 * 3600 + i, **kw)
            for score, d, n in spec for i in range(n)]
    store_ratings(config, raws)


def _rebuilt(config):
    db = connect(config.store)
    rollup.rebuild(db.conn)
    return db


@both_stores
def test_custom_range_equals_daily_sums_and_raw_sql(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    rnd = random.Random(7)
    raws = []
    first = date(2026, 3, 1)
    for _ in range(600):
        d = first + timedelta(days=rnd.randrange(70))
        at = day_start(d) + rnd.uniform(0, 86400 - 1)  # any time of the local day
        raws.append(rating(rnd.choice((1, 2, 3, 4)), at=at, official=rnd.choice(("a", "b")),
                           suspect="burst" if rnd.random() < 0.05 else None))
    store_ratings(config, raws)
    db = _rebuilt(config)
    p = figures.parse_period("2026-03-05..2026-04-20")
    data = reports.build(db.conn, p)
    s = data["summary"]
    days = figures.trend(db.conn, p, "day")
    assert len(days) == 47 and days[0]["key"] == "2026-03-05" and days[-1]["key"] == "2026-04-20"
    for k in ("count", "satisfied", "low", "suspect"):
        assert s[k] == sum(d[k] for d in days), k
    lo, hi = day_start(date(2026, 3, 5)), day_start(date(2026, 4, 21))
    one = "CASE WHEN {} THEN 1 ELSE 0 END".format  # PostgreSQL sums no booleans
    raw = db.execute(
        f"SELECT sum({one('suspect IS NULL')}), "
        f"sum({one(f'suspect IS NULL AND {SATISFIED_SQL}')}), "
        f"sum({one(f'suspect IS NULL AND {LOW_SQL}')}), sum({one('suspect IS NOT NULL')}) "
        "FROM ratings WHERE occurred_at >= ? AND occurred_at < ?", [lo, hi]).fetchone()
    assert (s["count"], s["satisfied"], s["low"], s["suspect"]) == tuple(raw)
    assert sum(lv["count"] for lv in data["by_level"]) == s["count"]
    assert sum(r["count"] for r in data["by_official"]) == s["count"]
    db.close()


@both_stores
def test_year_on_year_and_previous_period_known_answer(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    _store(config, [
        (4, date(2025, 8, 1), 3), (1, date(2025, 8, 2), 1),      # Q3 2025: 4 ratings, 75 %
        (4, date(2026, 5, 10), 1), (3, date(2026, 5, 11), 1),    # Q2 2026: 2 ratings, 100 %
        (4, date(2026, 7, 1), 6), (3, date(2026, 9, 30), 3),     # Q3 2026: 10 ratings, 90 %
        (1, date(2026, 8, 15), 1),
    ])
    db = _rebuilt(config)
    data = reports.build(db.conn, figures.parse_period("2026-Q3"))
    yoy, prev = data["compare"]["year_before"], data["compare"]["previous"]
    assert (data["summary"]["count"], data["summary"]["rate"]) == (10, 90.0)
    assert yoy["period"] == "2025-Q3" and yoy["summary"]["rate"] == 75.0
    assert yoy["change"] == {"count": 6, "rate_points": 15.0, "low": 0, "count_pct": 150.0}
    assert prev["period"] == "2026-Q2"
    assert prev["change"] == {"count": 8, "rate_points": -10.0, "low": 1, "count_pct": 400.0}
    # The official quarter (15/06-14/09) leaves out 30/09 and takes in nothing before.
    official = reports.build(db.conn, figures.parse_period("bc-2026-Q3"))
    assert official["summary"]["count"] == 7
    db.close()


@both_stores
def test_every_level_is_counted_even_at_zero(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    _store(config, [(4, date(2026, 8, 1), 2), (1, date(2026, 8, 1), 1)])
    db = _rebuilt(config)
    levels = reports.build(db.conn, figures.parse_period("2026-08"))["by_level"]
    assert [(lv["vi"], lv["count"]) for lv in levels] == [
        ("Rất hài lòng", 2), ("Hài lòng", 0), ("Bình thường", 0), ("Không hài lòng", 1)]
    assert levels[0]["share"] == 66.7
    db.close()


@both_stores
def test_no_future_rows_and_the_cut_off(tmp_path, server_store):
    config = load(tmp_path, store=server_store)
    db = _rebuilt(config)
    today = rollup.local_day(time.time())
    data = reports.build(db.conn, figures.parse_period(str(today.year)))
    assert data["as_of"] == today.isoformat()
    assert data["trend"][-1]["key"] == today.isoformat()[:7]
    assert all(p["key"] <= today.isoformat()[:7] for p in data["trend"])
    past = reports.build(db.conn, figures.parse_period("2025-Q3"))
    assert past["as_of"] == "2025-09-30" and len(past["trend"]) == 3
    db.close()


def _q3(tmp_path):
    config = load(tmp_path)
    _store(config, [(4, date(2026, 8, 1), 29000)], official="cb-an")
    _store(config, [(1, date(2026, 8, 2), 6)], official="cb-an", reasons=("harassment",))
    db = _rebuilt(config)
    data = reports.build(db.conn, figures.parse_period("2026-Q3"), {"cb-an": "Nguyễn Văn An"})
    db.close()
    return config, data


@pytest.fixture(scope="module")
def q3(tmp_path_factory):
    return _q3(tmp_path_factory.mktemp("q3"))


def test_xlsx_formats_and_columns(q3):
    _, data = q3
    wb = openpyxl.load_workbook(io.BytesIO(report_files.xlsx(data, "UBND xã Tân Lập")))
    ws = wb["Tổng hợp"]
    cells = {r[0].value: r[1] for r in ws.iter_rows() if r[0].value}
    assert cells["Số lượt đánh giá"].value == 29006
    assert cells["Số lượt đánh giá"].number_format == "#,##0"
    assert cells["Tỷ lệ hài lòng"].number_format == "0.0%"
    assert cells["Tỷ lệ hài lòng"].value == 1.0  # 99,98 % rounds to 100,0 % as on pages
    assert "Bình thường" in cells  # every level
    assert "01/07/2026" in ws["A2"].value and "30/09/2026" in ws["A2"].value
    head = [c.value for c in wb["Công chức"][1]]
    assert head[:2] == ["Mã", "Họ và tên"]
    assert [c.value for c in wb["Công chức"][2]][:3] == ["cb-an", "Nguyễn Văn An", 29006]
    for sheet in ("Lĩnh vực", "Thủ tục", "Quầy", "Lý do"):
        head = [c.value for c in wb[sheet][1]]
        assert "Mã" not in head and len(set(head)) == len(head), sheet
        first = [c.value for c in wb[sheet][2]]
        assert first[0] != first[1], sheet  # no code column repeating the name
    rate_cells = [r[3] for r in wb["Lĩnh vực"].iter_rows(min_row=2)]
    assert all(c.number_format == "0.0%" for c in rate_cells)
    trend = list(wb["Diễn biến"].iter_rows(min_row=2))
    assert len(trend) == 3 and trend[0][0].number_format == "mm/yyyy"


def test_csv_opens_into_columns_in_vietnamese_excel(q3):
    _, data = q3
    body = report_files.csv_bytes(data)
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:4] == ["Kỳ báo cáo", "Nhóm", "Mã", "Tên"]
    assert len({len(r) for r in rows}) == 1
    commune = rows[1]
    assert commune[1] == "Toàn xã" and commune[4] == "29006" and commune[6] == "100,0"
    official = next(r for r in rows if r[1] == "Công chức")
    assert official[2:5] == ["cb-an", "Nguyễn Văn An", "29006"]
    assert "," not in "".join(c for r in rows for c in r[4:6])  # counts: plain integers
    assert "." not in "".join(c for r in rows for c in r[6:7])  # decimals with ','


@both_stores
def test_downloads_have_one_charset_and_a_pdf_link(tmp_path, server_store):
    config, _ = _q3(tmp_path)
    add_users(config)
    client = create_app(config).test_client()
    login(client, "office")
    r = client.get("/reports/2026-Q3.csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Type"].count("charset") == 1
    assert r.data.startswith(b"\xef\xbb\xbf") and b";" in r.data.splitlines()[0]
    assert "bao-cao-hai-long-2026-Q3.csv" in r.headers["Content-Disposition"]
    r = client.get("/reports/bc-2026-Q3.xlsx")
    assert r.status_code == 200 and r.headers["Content-Type"] == report_files.XLSX_MIME
    assert client.get("/reports/2026-W99.csv").status_code == 400
    page = client.get("/reports?period=2026-10-01..2026-10-15").get_data(as_text=True)
    assert "/reports/2026-10-01..2026-10-15.pdf" in page
    page = client.get("/reports?period=2026-Q3").get_data(as_text=True)
    assert "Số liệu tính đến ngày 30/09/2026" in page and "29.006" in page
    assert "Bình thường" in page and "Cùng kỳ năm trước" in page and "+29.006" in page


@both_stores
def test_report_command_writes_the_file(tmp_path, server_store):
    from click.testing import CliRunner

    from server.cli import server as server_group

    config, _ = _q3(tmp_path)
    conf = str(tmp_path / "server.toml")
    runner = CliRunner()
    out = tmp_path / "q3.csv"
    r = runner.invoke(server_group, ["report", "--config", conf, "--period", "2026-Q3",
                                     "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and "Quý 3/2026" in r.output
    r = runner.invoke(server_group, ["report", "--config", conf, "--period", "2026-Q5",
                                     "--out", str(out)])
    assert r.exit_code == 1 and "2026-Q5" in r.output and "Traceback" not in r.output
    r = runner.invoke(server_group, ["report", "--config", conf, "--period", "2026-Q3",
                                     "--out", str(tmp_path / "q3.txt")])
    assert r.exit_code == 1 and ".docx" in r.output


@both_stores
def test_pdf_without_libreoffice_is_one_clear_error(tmp_path, server_store, monkeypatch):
    config, _ = _q3(tmp_path)
    add_users(config)
    client = create_app(config).test_client()
    login(client, "leader")
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where make setup did not run
    r = client.get("/reports/2026-Q3.pdf")
    assert r.status_code == 503 and b"libreoffice-writer-nogui" in r.data


def test_withheld_sections_stay_out_of_every_file(q3):
    """The office role's rule (i10-dash's visibility.py) marks sections 'withheld'."""
    import docx

    _, data = q3
    data = {**data, "withheld": ["official", "counter", "kiosk"]}
    wb = openpyxl.load_workbook(io.BytesIO(report_files.xlsx(data, "UBND xã Tân Lập")))
    assert not {"Công chức", "Quầy", "Thiết bị"} & set(wb.sheetnames)
    text = report_files.csv_bytes(data).decode("utf-8-sig")
    assert "Nguyễn Văn An" not in text and ";Công chức;" not in text
    d = docx.Document(io.BytesIO(report_files.docx(data, "UBND xã Tân Lập")))
    body = "\n".join(p.text for p in d.paragraphs)
    cells = "\n".join(c.text for t in d.tables for r in t.rows for c in r.cells)
    assert "không in trong bản này" in body and "Nguyễn Văn An" not in cells
