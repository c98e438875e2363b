"""The province's period report: communes ranked by satisfaction with their counts and
SIPAS indices, as XLSX and as the printable DOCX (PDF through LibreOffice), in the
commune report's format rules (server/reports/files.py): Decree 30/2020 layout,
Vietnamese numbers and dates (29.006; 86,1 %; 01/10/2026), real numbers with number
formats in the XLSX. Commune-level figures only: no official appears in it.
"""

from __future__ import annotations

import io
import re
import time
from datetime import date, timedelta

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.shared import Cm, Pt
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from hailong import sipas
from server.ingest import textsafe
from server.reports import figures, files, letters, vnformat

from province import store

XLSX_MIME = files.XLSX_MIME
DOCX_MIME = letters.DOCX_MIME
TITLE = ("Kết quả xếp hạng mức độ hài lòng của người dân, tổ chức đối với việc giải "
         "quyết thủ tục hành chính tại các xã")
SHORT = {"access": "Tiếp cận", "procedure": "Thủ tục", "official": "Công chức",
         "result": "Kết quả", "feedback": "Phản ánh"}
FACTORS = [code for code, _, _ in sipas.FACTORS]


def parse_period(key: str) -> figures.Period:
    """A quarter, 6 months, 9 months, a year (2026-Q3, 2026-6M, 2026) or an official
    period (bc-2026-Q3): the commune report's keys (raises figures.PeriodError)."""
    return figures.parse_period(key)


def _pct(n: int, d: int) -> float | None:
    return round(100.0 * n / d, 1) if d else None


def build(pool, period: figures.Period, minimum: int) -> dict:
    """The report's data: ranked communes (at least ``minimum`` ratings), the rest,
    the province's totals and each commune's SIPAS indices (hailong.sipas, the
    commune's own formula; a factor with fewer than ``minimum`` answers shows none)."""
    ranked, too_few = store.ranking(pool, minimum, since=period.start, until=period.end)
    counts = store.sipas_counts(pool, period.start, period.end)

    def indices(commune: str) -> dict:
        enough = {f: c for f, c in counts.get(commune, {}).items() if c[0] >= minimum}
        return sipas.from_counts(enough)

    rows = []
    for i, r in enumerate(ranked, start=1):
        rows.append({"rank": i, "commune": r["commune"], "name": r["name"] or r["commune"],
                     "count": r["ratings"], "satisfied": r["satisfied_n"], "low": r["low_n"],
                     "rate": _pct(r["satisfied_n"], r["ratings"]),
                     "low_rate": _pct(r["low_n"], r["ratings"]),
                     "sipas": indices(r["commune"])})
    every = ranked + too_few
    total_n = sum(r["ratings"] for r in every)
    total_s = sum(r["satisfied_n"] for r in every)
    province_counts: dict[str, list[int]] = {}
    for per in counts.values():
        for f, (n, s) in per.items():
            c = province_counts.setdefault(f, [0, 0])
            c[0] += n
            c[1] += s
    today = store.local_day(time.time())
    last = period.end - timedelta(days=1)
    return {"key": period.key, "label": period.label("vi"), "start": period.start.isoformat(),
            "end": period.end.isoformat(), "as_of": min(today, last).isoformat(),
            "minimum": minimum, "rows": rows,
            "too_few": [{"commune": r["commune"], "name": r["name"] or r["commune"],
                         "count": r["ratings"]} for r in too_few],
            "total": {"communes": len(every), "ranked": len(ranked), "count": total_n,
                      "satisfied": total_s, "rate": _pct(total_s, total_n),
                      "low": sum(r["low_n"] for r in every)},
            "sipas": sipas.from_counts({f: tuple(c) for f, c in province_counts.items()})}


def file_name(data: dict, ext: str) -> str:
    return f"bao-cao-xep-hang-xa-{data['key']}.{ext}"


def _frac(x: float | None) -> float | None:
    return None if x is None else x / 100.0


def _index(s: dict, factor: str | None) -> float | None:
    if factor is None:
        return s["overall"]
    f = s["factors"].get(factor)
    return f["index"] if f else None


# --- XLSX ------------------------------------------------------------------------------

def xlsx(data: dict, province_name: str) -> bytes:
    data, province_name = textsafe.clean(data), textsafe.clean_text(province_name)
    wb = Workbook()
    ws = wb.active
    ws.title = "Xếp hạng"
    INT, PCT = files.INT, files.PCT
    bold = Font(bold=True)
    head, row = files.head, files.row
    ws.append([f"{province_name}: {TITLE.lower()} — {data['label']}".lstrip(": ")])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"Kỳ báo cáo {files.span(data)}; số liệu tính đến ngày "
               f"{vnformat.day(date.fromisoformat(data['as_of']))}; xếp hạng xã có ít "
               f"nhất {data['minimum']} lượt đánh giá"])
    ws.append([])
    head(ws, ["Hạng", "Mã xã", "Tên xã", "Số lượt đánh giá", "Hài lòng", "Tỷ lệ hài lòng",
              "Không hài lòng", "Tỷ lệ không hài lòng", "Chỉ số SIPAS chung"])
    for r in data["rows"]:
        row(ws, [r["rank"], r["commune"], r["name"], r["count"], r["satisfied"],
                 _frac(r["rate"]), r["low"], _frac(r["low_rate"]),
                 _frac(r["sipas"]["overall"])],
            [None, None, None, INT, INT, PCT, INT, PCT, PCT])
    t = data["total"]
    row(ws, ["", "", "Toàn tỉnh", t["count"], t["satisfied"], _frac(t["rate"]), t["low"],
             _frac(_pct(t["low"], t["count"])), _frac(data["sipas"]["overall"])],
        [None, None, None, INT, INT, PCT, INT, PCT, PCT])
    for cell in ws[ws.max_row]:
        cell.font = bold
    for i, w in enumerate((7, 16, 28, 14, 12, 12, 14, 14, 14), start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A5"

    sheet = wb.create_sheet("SIPAS")
    head(sheet, ["Mã xã", "Tên xã", *(vi for _, vi, _ in sipas.FACTORS), "Chỉ số chung",
                 "Số câu trả lời"])
    for r in data["rows"] + [{"commune": "", "name": "Toàn tỉnh", "sipas": data["sipas"]}]:
        s = r["sipas"]
        row(sheet, [r["commune"], r["name"], *(_frac(_index(s, f)) for f in FACTORS),
                    _frac(s["overall"]), s["answers"]],
            [None, None] + [PCT] * (len(FACTORS) + 1) + [INT])
    for i, w in enumerate((16, 28, 14, 14, 14, 14, 18, 14, 14), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = w
    sheet.freeze_panes = "A2"

    sheet = wb.create_sheet("Chưa đủ số lượt")
    head(sheet, ["Mã xã", "Tên xã", "Số lượt đánh giá"])
    for r in data["too_few"]:
        row(sheet, [r["commune"], r["name"], r["count"]], [None, None, INT])
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 16, 28
    textsafe.harden_workbook(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- DOCX ------------------------------------------------------------------------------

def _bodies(province_name: str) -> tuple[str, str]:
    """'Sở Nội vụ tỉnh Lào Cai' -> ('UBND TỈNH LÀO CAI', 'SỞ NỘI VỤ'): the governing
    body above the issuing one (Decree 30/2020, Appendix I)."""
    m = re.match(r"\s*(Sở\s+.+?)\s+((?:tỉnh|thành phố)\s+.+)$", province_name, flags=re.I)
    if m:
        return f"UBND {m[2].upper()}", m[1].upper()
    if not province_name.strip():  # [province] name not set: a blank to fill by hand
        return "UBND TỈNH ..........", "SỞ NỘI VỤ"
    return "", province_name.strip().upper()


def _header(doc, province_name: str, when: float | None) -> None:
    P = letters._para
    table = doc.add_table(rows=1, cols=2)
    letters._fixed_widths(table, (letters.LEFT_CM, letters.RIGHT_CM))
    left, right = table.rows[0].cells
    first, second = _bodies(province_name)
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    left.paragraphs[0].add_run(first).font.size = Pt(13)
    P(left, second, bold=True, size=13)
    letters._rule(left, 2.2, letters.LEFT_CM)
    P(left, "", size=8)
    P(left, "Số:        /BC-SNV", size=13)
    rp = right.paragraphs[0]
    rp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = rp.add_run(letters.MOTTO)
    r.bold, r.font.size = True, Pt(13)
    P(right, letters.MOTTO_2, bold=True, size=14)
    letters._rule(right, 6.6, letters.RIGHT_CM)
    P(right, "", size=8)
    place = re.sub(r"^.*?(?:tỉnh|thành phố)\s+", "", province_name, flags=re.I) or "........"
    d = date.fromtimestamp(time.time() if when is None else when)
    P(right, f"{place}, {vnformat.day_words(d)}", italic=True, size=14)


def _align(table, columns: dict) -> None:
    """files._table sets numbers right; the rank is centred and names read from the left."""
    for row in table.rows[1:]:
        for i, how in columns.items():
            row.cells[i].paragraphs[0].alignment = how


def docx(data: dict, province_name: str, when: float | None = None) -> bytes:
    """The printable report (Báo cáo) of the Department of Home Affairs."""
    data, province_name = textsafe.clean(data), textsafe.clean_text(province_name)
    doc = letters.new_document()
    letters.page_numbers(doc)
    _header(doc, province_name, when)
    P = letters._para
    n, pct = vnformat.number, vnformat.percent
    P(doc, "", size=10)
    P(doc, "BÁO CÁO", bold=True, size=14)
    P(doc, f"{TITLE} — {data['label']}", bold=True, size=14)
    letters._rule(doc, 3.0, 16.0)
    P(doc, f"(Số liệu tính đến ngày {vnformat.day(date.fromisoformat(data['as_of']))}; kỳ "
           f"báo cáo {files.span(data)})", italic=True, size=13, space_after=8)

    def para(text: str):
        p = P(doc, text, size=14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=4)
        p.paragraph_format.first_line_indent = Cm(1)
        return p

    def heading(text: str) -> None:
        p = P(doc, text, bold=True, size=14, align=WD_ALIGN_PARAGRAPH.LEFT, space_after=4)
        p.paragraph_format.space_before = Pt(10)
        p.paragraph_format.keep_with_next = True

    t, s = data["total"], data["sipas"]
    heading("I. KẾT QUẢ CHUNG")
    para(f"Trong kỳ báo cáo, {n(t['communes'])} xã có lượt đánh giá qua thiết bị điện tử "
         f"tại Bộ phận Một cửa, tổng cộng {n(t['count'])} lượt; trong đó {n(t['satisfied'])}"
         f" lượt hài lòng trở lên, đạt tỷ lệ {pct(t['rate'])}; {n(t['low'])} lượt không hài "
         f"lòng. Lượt bị gắn cờ nghi không phải người dân bấm không được tính. Xếp hạng "
         f"{n(t['ranked'])} xã có từ {n(data['minimum'])} lượt đánh giá trở lên.")
    if s["answers"]:
        para(f"Chỉ số hài lòng về sự phục vụ hành chính (SIPAS) toàn tỉnh đạt "
             f"{pct(s['overall'])}, tính trên {n(s['answers'])} câu trả lời khảo sát "
             "(phương pháp theo Quyết định 1001/QĐ-BNV ngày 11/12/2023).")
    heading("II. XẾP HẠNG CÁC XÃ THEO TỶ LỆ HÀI LÒNG")
    files._table(doc, ["Hạng", "Xã", "Số lượt", "Tỷ lệ hài lòng", "Không hài lòng"],
                 [[r["rank"], r["name"], n(r["count"]), pct(r["rate"]), n(r["low"])]
                  for r in data["rows"]], (1.6, 6.4, 2.6, 2.8, 2.6))
    _align(doc.tables[-1], {0: WD_ALIGN_PARAGRAPH.CENTER, 1: WD_ALIGN_PARAGRAPH.LEFT})
    if data["too_few"]:
        p = P(doc, "Chưa xếp hạng (dưới " + n(data["minimum"]) + " lượt đánh giá): " +
              "; ".join(f"{r['name']} ({n(r['count'])})" for r in data["too_few"]) + ".",
              size=13, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, space_after=4)
        p.paragraph_format.space_before = Pt(6)
    heading("III. CHỈ SỐ SIPAS THEO XÃ")
    para("Chỉ số của mỗi yếu tố là tỷ lệ câu trả lời hài lòng trở lên; chỉ số chung là "
         "trung bình các yếu tố có câu trả lời. Yếu tố có dưới "
         f"{n(data['minimum'])} câu trả lời không tính chỉ số (—).")
    files._table(doc, ["Xã", *(SHORT[f] for f in FACTORS), "Chung"],
                 [[r["name"], *(vnformat.decimal(_index(r["sipas"], f)) for f in FACTORS),
                   vnformat.decimal(r["sipas"]["overall"])]
                  for r in data["rows"] + [{"name": "Toàn tỉnh", "sipas": s}]],
                 (4.6, 1.9, 1.9, 1.9, 1.9, 1.9, 1.9))
    heading("IV. ĐỀ XUẤT, KIẾN NGHỊ")
    # the proposals stay with the signature below them
    para("........................................................................"
         ).paragraph_format.keep_with_next = True
    letters.signature(doc, ["UBND tỉnh (để báo cáo)", "Các xã (để biết)"],
                      letters.Signer("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", ""))
    # the signature with its room to sign is one block: near a page's foot, the empty
    # room spilled onto a page of its own, the names left above it
    row = doc.tables[-1].rows[0]._tr.get_or_add_trPr()
    row.append(OxmlElement("w:cantSplit"))
    out = io.BytesIO()
    doc.core_properties.title = f"Báo cáo — {data['label']}"
    doc.save(out)
    return out.getvalue()


def pdf(data: dict, province_name: str) -> bytes:
    from server.reports import pdf as pdf_mod
    return pdf_mod.convert(docx(data, province_name))
