"""Letters to a citizen after a follow-up: an apology (thư xin lỗi) or a thank-you
(thư cảm ơn), as .docx in the administrative layout of Decree 30/2020/NĐ-CP:
issuing body and number/symbol on the left, national motto on the right, place and
date line, title, body, "Nơi nhận" and the signature block. Times New Roman 13-14 pt,
A4 with the decree's margins. The leader prints, signs and stamps it.

Ratings are anonymous: the letter is addressed to the citizen by dossier code.
"""

from __future__ import annotations

import io
import re
import time
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from hailong import domain

from . import textsafe
from .rollup import LOCAL

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KINDS = ("apology", "thanks")
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"
FONT = "Times New Roman"


def place_name(commune_name: str) -> str:
    """'UBND xã Tân Lập' -> 'Tân Lập' (the place in the date line)."""
    name = re.sub(r"^(UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+", "", commune_name.strip(),
                  flags=re.I)
    return re.sub(r"^(xã|phường|thị trấn|đặc khu)\s+", "", name, flags=re.I) or name


def body_name(commune_name: str) -> str:
    """'UBND xã Tân Lập' -> 'Ủy ban nhân dân xã Tân Lập'."""
    return re.sub(r"^UBND\b", "Ủy ban nhân dân", commune_name.strip())


def date_line(commune_name: str, when: float | None = None) -> str:
    d = datetime.fromtimestamp(time.time() if when is None else when, LOCAL)
    # Decree 30: days below 10 and months below 3 take a leading zero.
    day = f"{d.day:02d}"
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"{place_name(commune_name)}, ngày {day} tháng {month} năm {d.year}"


def new_document() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia", FONT)
    return doc


def _para(cell_or_doc, text: str = "", *, bold=False, italic=False, underline=False,
          size: float | None = None, align=WD_ALIGN_PARAGRAPH.CENTER, space_after: float = 0):
    p = cell_or_doc.add_paragraph()
    p.alignment = align
    p.paragraph_format.space_after = Pt(space_after)
    if text:
        run = p.add_run(text)
        run.bold, run.italic, run.underline = bold, italic, underline
        if size:
            run.font.size = Pt(size)
    return p


def header(doc, commune_name: str, number: str, when: float | None = None) -> None:
    """The decree's two-column header: issuing body + number | motto + place/date."""
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    left.paragraphs[0].text = ""
    _para(left, commune_name.upper(), bold=True, size=13)
    _para(left, "", size=13)
    _para(left, f"Số: {number}", size=13)
    _para(right, MOTTO, bold=True, size=13)
    _para(right, MOTTO_2, bold=True, underline=True, size=14)
    _para(right, "", size=13)
    _para(right, date_line(commune_name, when), italic=True, size=14)


def signature(doc, lines: list[str], title: str = "CHỦ TỊCH") -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    p = _para(left, "Nơi nhận:", bold=True, italic=True, size=12,
              align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in lines:
        _para(left, f"- {line};", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _para(left, "- Lưu: VT.", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    del p
    _para(right, "TM. ỦY BAN NHÂN DÂN", bold=True, size=14)
    _para(right, title, bold=True, size=14)
    _para(right, "(Ký, ghi rõ họ tên và đóng dấu)", italic=True, size=12)


def render(kind: str, case: dict, *, commune_name: str, official_name: str,
           when: float | None = None) -> bytes:
    """The letter for one follow-up case, as .docx bytes."""
    if kind not in KINDS:
        raise ValueError(kind)
    # no control character may reach python-docx (it refuses them: a 500), issue 8
    case, commune_name, official_name = textsafe.clean((case, commune_name, official_name))
    doc = new_document()
    header(doc, commune_name, f"{case['id']}/TC-UBND", when)
    occurred = datetime.fromtimestamp(case["occurred_at"] or time.time(), LOCAL)
    dossier = case.get("dossier") or "—"
    procedure = case.get("procedure") or "thủ tục hành chính"
    title = "THƯ XIN LỖI" if kind == "apology" else "THƯ CẢM ƠN"
    _para(doc, "")
    _para(doc, title, bold=True, size=14)
    _para(doc, f"V/v giải quyết hồ sơ số {dossier}", size=13, space_after=6)
    _para(doc, f"Kính gửi: Ông/Bà có hồ sơ số {dossier}", size=14, space_after=6)
    body = body_name(commune_name)
    when_text = f"ngày {occurred:%d/%m/%Y}"
    if kind == "apology":
        reasons = ", ".join(domain.REASONS[c].vi.lower() for c in case.get("reasons") or []
                            if c in domain.REASONS)
        paragraphs = [
            f"{body} trân trọng cảm ơn Ông/Bà đã dành thời gian đánh giá việc giải quyết "
            f"thủ tục \u201c{procedure}\u201d tại Bộ phận Một cửa {when_text}.",
            "Ông/Bà chưa hài lòng với việc giải quyết hồ sơ"
            + (f" ({reasons})" if reasons else "") + ". "
            f"{body} thành thật xin lỗi Ông/Bà vì sự chậm trễ, phiền hà đã gây ra.",
            f"{body} đã kiểm tra, làm rõ và chấn chỉnh việc tiếp nhận, giải quyết hồ sơ của "
            f"công chức {official_name}; đồng thời cam kết tiếp tục cải cách thủ tục hành "
            "chính, nâng cao tinh thần, thái độ phục vụ Nhân dân.",
            f"Mọi ý kiến phản ánh, kiến nghị xin gửi về {body} để được xem xét, giải quyết.",
            "Trân trọng./.",
        ]
    else:
        paragraphs = [
            f"{body} trân trọng cảm ơn Ông/Bà đã tin tưởng, phối hợp và dành thời gian đánh "
            f"giá việc giải quyết thủ tục \u201c{procedure}\u201d tại Bộ phận Một cửa "
            f"{when_text}.",
            f"Ý kiến của Ông/Bà về công chức {official_name} đã được {body} ghi nhận, xem xét "
            "và là cơ sở để tiếp tục nâng cao chất lượng phục vụ người dân, tổ chức.",
            "Kính chúc Ông/Bà sức khỏe, hạnh phúc và thành công.",
            "Trân trọng./.",
        ]
    for text in paragraphs:
        p = _para(doc, text, size=14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=6)
        p.paragraph_format.first_line_indent = Cm(1)
    _para(doc, "")
    signature(doc, [f"Ông/Bà có hồ sơ số {dossier}", f"Công chức {official_name}"])
    out = io.BytesIO()
    doc.core_properties.title = f"{title.capitalize()} — hồ sơ {dossier}"
    doc.save(out)
    return out.getvalue()
