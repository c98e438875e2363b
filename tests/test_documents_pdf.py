"""Every letter variant and every kind of report period, rendered to PDF by LibreOffice
(ONE soffice run for all of them: it takes seconds to start on 2 cores), turned into
PNG pages with pdftoppm and read back with pdftotext: no ISO dates, Vietnamese number
formats, the parts Decree 30/2020 requires, page numbers on the report."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from server.reports import figures, letters, pdf, files as report_files, report as reports, rollup
from server.reports.rollup import day_start
from server.ingest.store import connect

from dashboard_support import load, rating, store_ratings

pytestmark = pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftoppm"),
                                reason="LibreOffice / poppler-utils missing: run make setup")

WHEN = day_start(date(2026, 11, 5)) + 3600
SETTINGS = letters.Settings(signer=letters.Signer("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
                                                  "Nguyễn Văn Minh"))
BASE = {"id": 3, "state": "closed", "occurred_at": day_start(date(2026, 11, 3)) + 9 * 3600,
        "dossier": "000.31.12.H29-261103-0007", "procedure": "Đăng ký khai sinh"}
LETTERS = {
    "apology-reminded-fee": ("apology", {**BASE, "outcome": "reminded",
                                         "reasons": ["harassment", "long-wait"]}),
    "apology-apologised": ("apology", {**BASE, "outcome": "apologised",
                                       "reasons": ["late-result"]}),
    "apology-bare": ("apology", {**BASE, "outcome": "apologised", "reasons": [],
                                 "dossier": None, "procedure": None}),
    "reply-unfounded": ("reply", {**BASE, "outcome": "unfounded", "reasons": ["attitude"]}),
    "reply-explained": ("reply", {**BASE, "outcome": "explained",
                                  "reasons": ["extra-papers"]}),
    "thanks": ("thanks", {**BASE, "state": "open", "outcome": None, "reasons": []}),
}
REPORTS = ("2026-Q3", "bc-2026-Q3", "2026-08-03..2026-08-20", "2026-W32", "2026-08", "2026")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{name: (pdf path, [png paths], text per page)} for every letter and report."""
    folder = tmp_path_factory.mktemp("documents")
    config = load(folder)
    raws = [rating(4, at=day_start(date(2026, 8, 5)) + 9 * 3600 + i, official="cb-an")
            for i in range(29000)]
    raws += [rating(1, at=day_start(date(2026, 8, 6)) + 9 * 3600 + i, official="cb-binh",
                    reasons=("long-wait",), field="Chứng thực") for i in range(6)]
    raws += [rating(4, at=day_start(date(2025, 8, 5)) + 9 * 3600 + i) for i in range(900)]
    raws += [rating(2, at=day_start(date(2025, 8, 6)) + 9 * 3600 + i) for i in range(100)]
    store_ratings(config, raws)
    db = connect(config.store)
    rollup.rebuild(db.conn)
    docs = {}
    for name, (kind, case) in LETTERS.items():
        official = None if name == "apology-bare" else "Trần Thị Bình"
        docs[f"letter-{name}"] = letters.render(
            kind, case, commune_name="UBND xã Tân Lập", official_name=official, when=WHEN,
            settings=SETTINGS, addressee={"name": "Lê Thị Hoa", "address": "thôn Đông"}
            if name == "apology-reminded-fee" else None)
    names = {"cb-an": "Nguyễn Văn An", "cb-binh": "Trần Thị Bình"}
    for key in REPORTS:
        data = reports.build(db.conn, figures.parse_period(key), names)
        docs[f"report-{key}"] = report_files.docx(data, "UBND xã Tân Lập", SETTINGS, when=WHEN)
    db.close()
    pdfs = pdf.convert_many(docs)  # the one LibreOffice run of the test session
    out = {}
    for name, body in pdfs.items():
        path = folder / f"{name}.pdf"
        path.write_bytes(body)
        (folder / name).mkdir()
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(folder / name / "page")],
                       check=True, timeout=120)
        pngs = sorted((folder / name).glob("page-*.png"))
        pages = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                               text=True, check=True, timeout=60).stdout.split("\f")
        out[name] = (path, pngs, [p for p in pages if p.strip()])
    return out


def test_every_document_became_pdf_and_png_pages(rendered):
    assert set(rendered) == {f"letter-{n}" for n in LETTERS} | {f"report-{k}" for k in REPORTS}
    for name, (path, pngs, pages) in rendered.items():
        assert path.read_bytes().startswith(b"%PDF"), name
        assert len(pngs) == len(pages) >= 1, name
        assert all(p.stat().st_size > 5000 for p in pngs), name  # something is drawn
    for name in LETTERS:
        assert len(rendered[f"letter-{name}"][2]) == 1, name  # a letter fits on one page


def _decree_30_parts(text: str, symbol: str) -> None:
    flat = " ".join(text.split())
    for part in ("ỦY BAN NHÂN DÂN", "XÃ TÂN LẬP", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Độc lập - Tự do - Hạnh phúc", "Tân Lập, ngày 05 tháng 11 năm 2026",
                 "Nơi nhận:", "- Lưu: VT.", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
                 "Nguyễn Văn Minh"):
        assert part in flat, part
    assert re.search(rf"Số: +/{symbol}", flat)


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_letters_in_pdf(rendered, name):
    text = "\n".join(rendered[f"letter-{name}"][2])
    _decree_30_parts(text, "UBND")
    assert not ISO_DATE.search(text)
    assert "ngày 03/11/2026" in " ".join(text.split())
    flat = " ".join(text.split())
    assert "—" not in flat and "None" not in flat
    if name == "apology-reminded-fee":
        assert "Lê Thị Hoa" in flat and "thu phí ngoài quy định" in flat
        assert "chậm trễ" not in flat
    if name.startswith("reply"):
        assert "xin lỗi" not in flat.lower()


@pytest.mark.parametrize("key", REPORTS)
def test_reports_in_pdf(rendered, key):
    pages = rendered[f"report-{key}"][2]
    text = "\n".join(pages)
    flat = " ".join(text.split())
    _decree_30_parts(text, "BC-UBND")
    assert "BÁO CÁO" in flat and "Số liệu tính đến ngày" in flat
    assert not ISO_DATE.search(text), ISO_DATE.search(text)
    assert not re.search(r"\d\.\d+ ?%", text)          # no '86.1%'
    assert not re.search(r"(?<![\d.])\d{5,}(?![\d.])", text.replace(" ", ""))  # no '29006'
    for level in ("Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"):
        assert level in flat
    assert "So với cùng kỳ năm trước" in flat
    if key in ("2026-Q3", "2026-08", "2026"):
        assert "29.006" in flat and "100,0 %" in flat
    if len(pages) > 1:  # page numbers from page 2, at the top
        assert pages[1].strip().splitlines()[0].strip() == "2"


def test_quarter_report_compares_with_the_year_before(rendered):
    pages = rendered["report-2026-Q3"][2]
    assert len(pages) == 2 and pages[1].strip().splitlines()[0].strip() == "2"
    assert not pages[0].strip().splitlines()[0].strip().isdigit()  # none on page 1
    flat = " ".join("\n".join(pages).split())
    # Q3 2025: 1.000 ratings, 90,0 %; Q3 2026: 29.006 ratings, 100,0 % (29.000 / 29.006).
    assert "So với cùng kỳ năm trước (Quý 3/2025), số lượt đánh giá tăng 28.006" in flat
    assert "tỷ lệ hài lòng tăng 10,0 điểm phần trăm" in flat


def test_pages_for_the_docs(rendered):
    """Keep the PNGs of one letter and the quarter report where the docs script finds
    them (docs/screenshots/documents/take.py makes the committed ones)."""
    for name in ("letter-apology-reminded-fee", "report-2026-Q3"):
        assert rendered[name][1][0].exists()
    Path(rendered["report-2026-Q3"][0]).with_suffix(".txt").write_text(
        "\n".join(rendered["report-2026-Q3"][2]), encoding="utf-8")
