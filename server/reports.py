"""Reports for a month, a quarter (Q1-Q4), 6 or 9 months, or a year: satisfaction by
official, counter, field and procedure; reasons; follow-up outcomes. Exported as XLSX
(openpyxl), CSV, and a printable .docx laid out for the commune's report to the
province (Decree 30/2020 header, numbered sections, tables).

Suspect ratings are left out of every index; ratings from kiosks whose clock was not
synchronised are placed by the server's corrected time (``occurred_at``).
"""

from __future__ import annotations

import csv
import io
import sqlite3
import time

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from hailong import domain

from . import figures, followup, letters
from .rollup import day_start

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

SECTIONS = (("official", "Công chức", "Official"), ("counter", "Quầy", "Counter"),
            ("kiosk", "Thiết bị", "Kiosk"), ("field", "Lĩnh vực", "Field"),
            ("procedure", "Thủ tục", "Procedure"))


def build(conn: sqlite3.Connection, period: figures.Period,
          names: dict[str, str] | None = None) -> dict:
    """Every figure of the report, as plain data (also the JSON API's answer)."""
    names = names or {}
    out = {"period": period.key, "label": period.label("vi"), "label_en": period.label("en"),
           "start": period.start.isoformat(), "end": period.end.isoformat(),
           "generated_at": time.time(), "summary": figures.summary(conn, period)}
    cuts = figures.breakdowns(conn, period)
    for dim, _, _ in SECTIONS:
        rows = cuts[dim]
        if dim == "official":
            for r in rows:
                r["name"] = names.get(r["key"], r["key"] or "")
        out[f"by_{dim}"] = rows
    out["trend"] = figures.trend(conn, period)
    out["reasons"] = [{**r, "vi": domain.REASONS[r["code"]].vi if r["code"] in domain.REASONS
                       else r["code"]} for r in figures.reasons(conn, period)]
    out["followup"] = followup.outcomes_in(conn, day_start(period.start), day_start(period.end))
    return out


def _rows(data: dict, dim: str) -> list[list]:
    rows = []
    for r in data[f"by_{dim}"]:
        key = r["key"] or "—"
        rows.append([key, r.get("name", key), r["count"], r["satisfied"], r["rate"], r["low"],
                     r["suspect"]])
    return rows


HEAD = ["Mã", "Tên", "Số lượt đánh giá", "Hài lòng", "Tỷ lệ hài lòng (%)",
        "Không hài lòng", "Nghi bấm thử (không tính)"]
OUTCOME_VI = {o.code: o.vi for o in followup.OUTCOMES}


def to_xlsx(data: dict, commune_name: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Tổng hợp"
    bold = Font(bold=True)
    s = data["summary"]
    ws.append([f"{commune_name}: kết quả đánh giá mức độ hài lòng — {data['label']}"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([f"Từ ngày {data['start']} đến trước ngày {data['end']}"])
    ws.append([])
    for label, value in (("Số lượt đánh giá", s["count"]), ("Hài lòng", s["satisfied"]),
                         ("Tỷ lệ hài lòng (%)", s["rate"]), ("Không hài lòng", s["low"]),
                         ("Nghi bấm thử (không tính)", s["suspect"])):
        ws.append([label, value])
        ws.cell(ws.max_row, 1).font = bold
    ws.append([])
    f = data["followup"]
    ws.append(["Xử lý phản ánh"])
    ws.cell(ws.max_row, 1).font = bold
    ws.append(["Phản ánh mở", f["opened"]])
    ws.append(["Đã xử lý xong", f["closed"]])
    ws.append(["Còn mở", f["open"]])
    for code, n in f["by_outcome"].items():
        ws.append([OUTCOME_VI.get(code, code), n])
    ws.column_dimensions["A"].width = 42
    ws.column_dimensions["B"].width = 14
    fill = PatternFill("solid", fgColor="DDEBF7")
    for dim, vi, _ in SECTIONS:
        if dim in data.get("withheld", ()):  # the role may not see it (visibility.py)
            continue
        sheet = wb.create_sheet(vi)
        sheet.append(HEAD)
        for cell in sheet[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in _rows(data, dim):
            sheet.append(row)
        for i, w in enumerate((22, 30, 12, 10, 12, 12, 12), start=1):
            sheet.column_dimensions[get_column_letter(i)].width = w
        sheet.freeze_panes = "A2"
    sheet = wb.create_sheet("Lý do")
    sheet.append(["Mã", "Lý do không hài lòng", "Số lần"])
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
    for r in data["reasons"]:
        sheet.append([r["code"], r["vi"], r["count"]])
    sheet.column_dimensions["B"].width = 40
    sheet = wb.create_sheet("Diễn biến")
    sheet.append(["Kỳ", "Số lượt", "Hài lòng", "Tỷ lệ (%)", "Không hài lòng"])
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
    for p in data["trend"]:
        sheet.append([p["key"], p["count"], p["satisfied"], p["rate"], p["low"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_csv(data: dict) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["period", "section", "key", "name", "count", "satisfied", "rate", "low",
                "suspect"])
    s = data["summary"]
    w.writerow([data["period"], "commune", "", "", s["count"], s["satisfied"], s["rate"],
                s["low"], s["suspect"]])
    for dim, _, _ in SECTIONS:
        if dim in data.get("withheld", ()):  # the role may not see it (visibility.py)
            continue
        for row in _rows(data, dim):
            w.writerow([data["period"], dim, *row])
    for r in data["reasons"]:
        w.writerow([data["period"], "reason", r["code"], r["vi"], r["count"], "", "", "", ""])
    for code, n in data["followup"]["by_outcome"].items():
        w.writerow([data["period"], "outcome", code, OUTCOME_VI.get(code, code), n, "", "",
                    "", ""])
    return out.getvalue()


def _table(doc, head: list[str], rows: list[list]) -> None:
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, head):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        run.font.size = Pt(11)
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = ""
            run = cell.paragraphs[0].add_run("—" if value is None else str(value))
            run.font.size = Pt(11)


def to_docx(data: dict, commune_name: str, number: str = "    /BC-UBND") -> bytes:
    """The printable report to the province (Báo cáo), Decree 30/2020 layout."""
    doc = letters.new_document()
    doc.sections[0].left_margin = Cm(3)
    letters.header(doc, commune_name, number)
    letters._para(doc, "")
    letters._para(doc, "BÁO CÁO", bold=True, size=14)
    letters._para(doc, f"Kết quả đánh giá mức độ hài lòng của người dân, tổ chức đối với việc "
                       f"giải quyết thủ tục hành chính — {data['label']}", bold=True, size=14,
                  space_after=6)
    s = data["summary"]
    f = data["followup"]

    def para(text: str) -> None:
        p = letters._para(doc, text, size=14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=4)
        p.paragraph_format.first_line_indent = Cm(1)

    def heading(text: str) -> None:
        letters._para(doc, text, bold=True, size=14, align=WD_ALIGN_PARAGRAPH.LEFT,
                      space_after=4)

    heading("I. KẾT QUẢ CHUNG")
    rate = "—" if s["rate"] is None else f"{s['rate']:.1f}%"
    para(f"Trong kỳ báo cáo (từ ngày {data['start']} đến trước ngày {data['end']}), Bộ phận "
         f"Một cửa đã nhận {s['count']} lượt đánh giá qua thiết bị điện tử; trong đó "
         f"{s['satisfied']} lượt hài lòng trở lên, đạt tỷ lệ {rate}; {s['low']} lượt không "
         f"hài lòng. {s['suspect']} lượt nghi bấm thử không được tính vào chỉ số.")
    heading("II. KẾT QUẢ THEO CÔNG CHỨC")
    if "official" in data.get("withheld", ()):  # the role may not see it (visibility.py)
        para("Số liệu theo từng công chức do lãnh đạo UBND xã quản lý, không in trong bản này.")
    else:
        _table(doc, ["Công chức", "Số lượt", "Tỷ lệ hài lòng (%)", "Không hài lòng"],
               [[r.get("name") or r["key"] or "—", r["count"], r["rate"], r["low"]]
                for r in data["by_official"]])
    heading("III. KẾT QUẢ THEO LĨNH VỰC")
    _table(doc, ["Lĩnh vực", "Số lượt", "Tỷ lệ hài lòng (%)", "Không hài lòng"],
           [[r["key"] or "—", r["count"], r["rate"], r["low"]] for r in data["by_field"]])
    heading("IV. LÝ DO KHÔNG HÀI LÒNG")
    _table(doc, ["Lý do", "Số lần"], [[r["vi"], r["count"]] for r in data["reasons"]])
    heading("V. KẾT QUẢ XỬ LÝ PHẢN ÁNH")
    para(f"Số phản ánh (đánh giá không hài lòng) phải xử lý: {f['opened']}; đã xử lý xong: "
         f"{f['closed']}; còn đang xử lý: {f['open']}.")
    _table(doc, ["Kết quả xử lý", "Số phản ánh"],
           [[OUTCOME_VI.get(c, c), n] for c, n in f["by_outcome"].items()])
    heading("VI. ĐỀ XUẤT, KIẾN NGHỊ")
    para("........................................................................")
    letters._para(doc, "")
    letters.signature(doc, ["UBND tỉnh (Sở Nội vụ)"])
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
