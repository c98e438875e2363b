"""The period report as files a commune files as they are: XLSX, CSV and the printable
DOCX (and PDF, through ``server/reports/pdf.py``), from ``reports.build``'s data.

* Numbers and dates as Vietnamese documents write them (29.006; 86,1 %; 01/10/2026).
  In the XLSX they are real numbers and dates with number formats ('#,##0', '0.0%',
  'dd/mm/yyyy'): Excel then shows them in the reader's own locale.
* The CSV is for Excel set to Vietnamese: UTF-8 with a BOM (without it Excel reads
  the file as the ANSI code page and garbles Vietnamese letters), ';' between fields
  (Excel takes the list separator from the locale, and the Vietnamese locale uses ','
  as its decimal mark, so its list separator is ';'), ',' as the decimal mark, and no
  thousands separator (a plain integer reads as a number in every locale).
* A code column only where there is a name beside it (officials); fields, procedures,
  counters and kiosks are their own names. No row after the cut-off day.
"""

from __future__ import annotations

import io
from datetime import date

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from server.followup import cases as followup
from server.reports import letters, vnformat
from server.ingest import textsafe

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
CSV_SEPARATOR = ";"

SECTIONS = (("official", "Công chức"), ("counter", "Quầy"), ("kiosk", "Thiết bị"),
            ("field", "Lĩnh vực"), ("procedure", "Thủ tục"))
OUTCOME_VI = {o.code: o.vi for o in followup.OUTCOMES}
INT, PCT, DAY, MONTH = "#,##0", "0.0%", "dd/mm/yyyy", "mm/yyyy"
TITLE = ("Kết quả đánh giá mức độ hài lòng của người dân, tổ chức đối với việc giải "
         "quyết thủ tục hành chính")


def _d(iso: str) -> date:
    return date.fromisoformat(iso)


def span(data: dict) -> str:
    """'từ ngày 15/06/2026 đến ngày 14/09/2026' (the end inclusive)."""
    last = date.fromordinal(_d(data["end"]).toordinal() - 1)
    return f"từ ngày {vnformat.day(_d(data['start']))} đến ngày {vnformat.day(last)}"


def _frac(rate: float | None) -> float | None:
    return None if rate is None else rate / 100.0


def _name(dim: str, row: dict) -> str:
    if dim == "official":
        return row.get("name") or row["key"] or "(không ghi công chức)"
    return row["key"] or "(không ghi)"


# --- XLSX ------------------------------------------------------------------------------

HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def head(sheet, cells: list[str]) -> None:
    """A header row: bold on the report's light blue, wrapped (the province's too)."""
    sheet.append(cells)
    for cell in sheet[sheet.max_row]:
        cell.font, cell.fill = Font(bold=True), HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def row(sheet, values: list, formats: list[str | None]) -> None:
    """A data row, each cell in its number format (INT, PCT, or None for text)."""
    sheet.append(values)
    for cell, fmt in zip(sheet[sheet.max_row], formats):
        if fmt:
            cell.number_format = fmt


def xlsx(data: dict, commune_name: str) -> bytes:
    data, commune_name = textsafe.clean(data), textsafe.clean_text(commune_name)  # issue 8
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    bold = Font(bold=True)

    s = data["summary"]
    ws.append([f"{commune_name}: {TITLE.lower()} — {data['label']}"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"Kỳ báo cáo {span(data)}; số liệu tính đến ngày "
               f"{vnformat.day(_d(data['as_of']))}"])
    ws.append([])
    head(ws, ["Chỉ tiêu", "Kỳ này"] + [c["label"] for c in (data["compare"]["previous"],
                                                            data["compare"]["year_before"]) if c])
    others = [c["summary"] for c in (data["compare"]["previous"],
                                     data["compare"]["year_before"]) if c]
    for label, key, fmt in (("Số lượt đánh giá", "count", INT), ("Hài lòng", "satisfied", INT),
                            ("Tỷ lệ hài lòng", "rate", PCT), ("Không hài lòng", "low", INT),
                            ("Bị gắn cờ (không tính)", "suspect", INT)):
        get = (lambda x, k=key: _frac(x[k])) if key == "rate" else (lambda x, k=key: x[k])
        row(ws, [label, get(s), *(get(o) for o in others)], [None] + [fmt] * (1 + len(others)))
        ws.cell(ws.max_row, 1).font = bold
    ws.append([])
    head(ws, ["Mức đánh giá", "Số lượt", "Tỷ lệ"])
    for lv in data["by_level"]:
        label = lv["vi"] if len({x["scale"] for x in data["by_level"]}) == 1 else \
            f"{lv['vi']} (thang {lv['scale']})"
        row(ws, [label, lv["count"], _frac(lv["share"])], [None, INT, PCT])
    ws.append([])
    f = data["followup"]
    head(ws, ["Xử lý phản ánh", "Số phản ánh"])
    for label, n in (("Phản ánh phải xử lý", f["opened"]), ("Đã xử lý xong", f["closed"]),
                     ("Đang xử lý", f["open"]),
                     *((OUTCOME_VI.get(c, c), n) for c, n in f["by_outcome"].items())):
        row(ws, [label, n], [None, INT])
    ws.column_dimensions["A"].width = 44
    for col in "BCD":
        ws.column_dimensions[col].width = 22

    for dim, vi in SECTIONS:
        if dim in data.get("withheld", ()):  # the role may not see it (i10-dash visibility)
            continue
        sheet = wb.create_sheet(vi)
        cols = (["Mã", "Họ và tên"] if dim == "official" else [vi])
        head(sheet, cols + ["Số lượt đánh giá", "Hài lòng", "Tỷ lệ hài lòng",
                            "Không hài lòng", "Bị gắn cờ (không tính)"])
        for r in data[f"by_{dim}"]:
            first = [r["key"] or "", _name(dim, r)] if dim == "official" else [_name(dim, r)]
            row(sheet, first + [r["count"], r["satisfied"], _frac(r["rate"]), r["low"],
                                r["suspect"]],
                [None] * len(first) + [INT, INT, PCT, INT, INT])
        widths = ((16, 28) if dim == "official" else (40,)) + (14, 12, 14, 14, 14)
        for i, w in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = w
        sheet.freeze_panes = "A2"
    sheet = wb.create_sheet("Lý do")
    head(sheet, ["Lý do không hài lòng", "Số lần"])
    for r in data["reasons"]:
        row(sheet, [r["vi"], r["count"]], [None, INT])
    sheet.column_dimensions["A"].width = 44
    sheet = wb.create_sheet("Diễn biến")
    head(sheet, ["Ngày" if data["trend"] and len(data["trend"][0]["key"]) == 10 else "Tháng",
                 "Số lượt", "Hài lòng", "Tỷ lệ hài lòng", "Không hài lòng"])
    for p in data["trend"]:
        day_key = len(p["key"]) == 10
        when = _d(p["key"] if day_key else p["key"] + "-01")
        row(sheet, [when, p["count"], p["satisfied"], _frac(p["rate"]), p["low"]],
            [DAY if day_key else MONTH, INT, INT, PCT, INT])
    sheet.column_dimensions["A"].width = 14
    textsafe.harden_workbook(wb)  # text from kiosks never becomes a formula (issue 8)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- CSV -------------------------------------------------------------------------------

def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.1f}".replace(".", ",")


def csv_text(data: dict) -> str:
    """The report as CSV text (encode with ``csv_bytes`` for the BOM)."""
    out = io.StringIO()
    # OWASP escaping of would-be formulas (issue 8)
    w = textsafe.csv_writer(out, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    w.writerow(["Kỳ báo cáo", "Nhóm", "Mã", "Tên", "Số lượt đánh giá", "Hài lòng",
                "Tỷ lệ hài lòng (%)", "Không hài lòng", "Bị gắn cờ (không tính)"])
    label = data["label"]
    s = data["summary"]
    w.writerow([label, "Toàn xã", "", "", s["count"], s["satisfied"], _num(s["rate"]),
                s["low"], s["suspect"]])
    for dim, vi in SECTIONS:
        if dim in data.get("withheld", ()):  # the role may not see it (i10-dash visibility)
            continue
        for r in data[f"by_{dim}"]:
            w.writerow([label, vi, (r["key"] or "") if dim == "official" else "",
                        _name(dim, r), r["count"], r["satisfied"], _num(r["rate"]), r["low"],
                        r["suspect"]])
    for lv in data["by_level"]:
        w.writerow([label, "Mức đánh giá", "", lv["vi"], lv["count"], "", _num(lv["share"]),
                    "", ""])
    for r in data["reasons"]:
        w.writerow([label, "Lý do không hài lòng", "", r["vi"], r["count"], "", "", "", ""])
    for code, n in data["followup"]["by_outcome"].items():
        w.writerow([label, "Kết quả xử lý phản ánh", "", OUTCOME_VI.get(code, code), n, "",
                    "", "", ""])
    return out.getvalue()


def csv_bytes(data: dict) -> bytes:
    return csv_text(data).encode("utf-8-sig")


# --- DOCX ------------------------------------------------------------------------------

def _table(doc, head: list[str], rows: list[list], widths: tuple[float, ...]) -> None:
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    letters._fixed_widths(table, widths)
    for cell, text in zip(table.rows[0].cells, head):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        run.font.size = Pt(12)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for values in rows:
        cells = table.add_row().cells
        for i, (cell, value) in enumerate(zip(cells, values)):
            cell.width = table.columns[i].width
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(value))
            run.font.size = Pt(12)
            if i:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def change_words(change: dict, what: str) -> str:
    """'so với kỳ trước, số lượt đánh giá tăng 1.204 (+12,0 %), tỷ lệ hài lòng giảm
    1,2 điểm phần trăm'."""
    parts = []
    n = change["count"]
    if n:
        pct = f" ({vnformat.signed(change['count_pct'], 1, '%')})" \
            if change["count_pct"] is not None else ""
        parts.append(f"số lượt đánh giá {'tăng' if n > 0 else 'giảm'} "
                     f"{vnformat.number(abs(n))}{pct}")
    else:
        parts.append("số lượt đánh giá không đổi")
    pts = change["rate_points"]
    if pts is not None:
        parts.append("tỷ lệ hài lòng không đổi" if pts == 0 else
                     f"tỷ lệ hài lòng {'tăng' if pts > 0 else 'giảm'} "
                     f"{vnformat.decimal(abs(pts))} điểm phần trăm")
    return f"So với {what}, " + ", ".join(parts) + "."


def docx(data: dict, commune_name: str, settings: letters.Settings = letters.Settings(),
         when: float | None = None) -> bytes:
    """The printable report to the province (Báo cáo), Decree 30/2020 layout."""
    data, commune_name = textsafe.clean(data), textsafe.clean_text(commune_name)  # issue 8
    doc = letters.new_document()
    letters.page_numbers(doc)
    letters.header(doc, commune_name, f"BC-{settings.symbol}", when)
    P = letters._para
    P(doc, "", size=10)
    P(doc, "BÁO CÁO", bold=True, size=14)
    P(doc, f"{TITLE} — {data['label']}", bold=True, size=14)
    letters._rule(doc, 3.0, 16.0)
    P(doc, f"(Số liệu tính đến ngày {vnformat.day(_d(data['as_of']))}; kỳ báo cáo "
           f"{span(data)})", italic=True, size=13, space_after=8)
    s, f, cmp_ = data["summary"], data["followup"], data["compare"]
    n = vnformat.number

    def para(text: str) -> None:
        p = P(doc, text, size=14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=4)
        p.paragraph_format.first_line_indent = Cm(1)

    def heading(text: str) -> None:
        p = P(doc, text, bold=True, size=14, align=WD_ALIGN_PARAGRAPH.LEFT, space_after=4)
        p.paragraph_format.space_before = Pt(10)  # air after the table above
        p.paragraph_format.keep_with_next = True

    heading("I. KẾT QUẢ CHUNG")
    para(f"Trong kỳ báo cáo, Bộ phận Một cửa đã nhận {n(s['count'])} lượt đánh giá qua "
         f"thiết bị điện tử; trong đó {n(s['satisfied'])} lượt hài lòng trở lên, đạt tỷ lệ "
         f"{vnformat.percent(s['rate'])}; {n(s['low'])} lượt không hài lòng. "
         f"{n(s['suspect'])} lượt bị gắn cờ (nghi không phải người dân bấm, chờ lãnh đạo "
         "xác nhận) không được tính vào chỉ số.")
    _table(doc, ["Mức đánh giá", "Số lượt", "Tỷ lệ"],
           [[lv["vi"] + ("" if len({x["scale"] for x in data["by_level"]}) == 1
                         else f" (thang {lv['scale']})"),
             n(lv["count"]), vnformat.percent(lv["share"])] for lv in data["by_level"]],
           (8.0, 4.0, 4.0))
    heading("II. SO SÁNH VỚI KỲ TRƯỚC VÀ CÙNG KỲ NĂM TRƯỚC")
    others = [(c, w) for c, w in ((cmp_["previous"], "kỳ trước"),
                                  (cmp_["year_before"], "cùng kỳ năm trước")) if c]
    for c, w in others:
        para(change_words(c["change"], f"{w} ({c['label']})"))
    cols = ["Chỉ tiêu", "Kỳ này"] + [w.capitalize() for _, w in others]
    width = (16.0 - 5.0) / (len(cols) - 1)
    _table(doc, cols, [
        ["Số lượt đánh giá", n(s["count"]), *(n(c["summary"]["count"]) for c, _ in others)],
        ["Tỷ lệ hài lòng", vnformat.percent(s["rate"]),
         *(vnformat.percent(c["summary"]["rate"]) for c, _ in others)],
        ["Không hài lòng", n(s["low"]), *(n(c["summary"]["low"]) for c, _ in others)],
    ], (5.0, *([width] * (len(cols) - 1))))
    heading("III. KẾT QUẢ THEO CÔNG CHỨC")
    if "official" in data.get("withheld", ()):  # the role may not see it (i10-dash)
        para("Số liệu theo từng công chức do lãnh đạo UBND xã quản lý, không in trong bản "
             "này.")
    else:
        _table(doc, ["Công chức", "Số lượt", "Tỷ lệ hài lòng", "Không hài lòng"],
               [[_name("official", r), n(r["count"]), vnformat.percent(r["rate"]),
                 n(r["low"])] for r in data["by_official"]], (7.0, 3.0, 3.0, 3.0))
    heading("IV. KẾT QUẢ THEO LĨNH VỰC")
    _table(doc, ["Lĩnh vực", "Số lượt", "Tỷ lệ hài lòng", "Không hài lòng"],
           [[_name("field", r), n(r["count"]), vnformat.percent(r["rate"]), n(r["low"])]
            for r in data["by_field"]], (7.0, 3.0, 3.0, 3.0))
    heading("V. LÝ DO KHÔNG HÀI LÒNG")
    if data["reasons"]:
        _table(doc, ["Lý do", "Số lần"], [[r["vi"], n(r["count"])] for r in data["reasons"]],
               (12.0, 4.0))
    else:
        para("Không có lượt đánh giá không hài lòng nào nêu lý do.")
    heading("VI. KẾT QUẢ XỬ LÝ PHẢN ÁNH")
    para(f"Số phản ánh (đánh giá không hài lòng) phải xử lý: {n(f['opened'])}; đã xử lý "
         f"xong: {n(f['closed'])}; còn đang xử lý: {n(f['open'])}.")
    _table(doc, ["Kết quả xử lý", "Số phản ánh"],
           [[OUTCOME_VI.get(c, c), n(k)] for c, k in f["by_outcome"].items()], (12.0, 4.0))
    heading("VII. ĐỀ XUẤT, KIẾN NGHỊ")
    para("........................................................................")
    P(doc, "")
    letters.signature(doc, list(settings.report_to), settings.signer)
    out = io.BytesIO()
    doc.core_properties.title = f"Báo cáo — {data['label']}"
    doc.save(out)
    return out.getvalue()
