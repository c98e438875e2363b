"""Letters to a citizen after a follow-up, as .docx in the administrative layout of
Decree 30/2020/NĐ-CP (Appendix I), and the layout pieces the printable report shares.

Layout: the issuing body in two bold lines ("ỦY BAN NHÂN DÂN" / "XÃ TÂN LẬP") with a
short rule under it, the number and symbol below; on the right the national motto,
"Độc lập - Tự do - Hạnh phúc" with a rule as long as itself, and the place and date
line in italics; the title; the body; "Nơi nhận" on the left and the signature block
(capacity, title, room to sign and stamp, the signer's name) on the right. Times New
Roman 13-14 pt on A4 with the decree's margins.

Which letter fits a case (``available``):
* ``apology`` (thư xin lỗi): only when the complaint was found valid (closed as
  apologised or with the official reminded); what it apologises for follows the
  citizen's reasons: an illegal fee is an illegal fee, not a "delay";
* ``reply`` (thư trả lời): the case was closed as explained or unfounded; it states
  that result and apologises for nothing;
* ``thanks`` (thư cảm ơn): thanks for the rating, at any time.

The number is left blank ("Số:      /UBND") for the office's clerk (văn thư), who
numbers every outgoing document in the commune's one register when it is signed
(Decree 30/2020, Article 15); see docs/leader-guide.md for why.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from hailong import domain
from hailong.errors import HailongError

from server.ingest import textsafe
from server.reports import vnformat
from server.reports.rollup import LOCAL

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KINDS = ("apology", "reply", "thanks")
TITLES = {"apology": "THƯ XIN LỖI", "reply": "THƯ TRẢ LỜI", "thanks": "THƯ CẢM ƠN"}
FILE_NAMES = {"apology": "thu-xin-loi", "reply": "thu-tra-loi", "thanks": "thu-cam-on"}
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"
FONT = "Times New Roman"
VALID_OUTCOMES = ("apologised", "reminded")   # the complaint was found valid
REPLY_OUTCOMES = ("explained", "unfounded")
LEFT_CM, RIGHT_CM = 6.0, 10.0                 # header columns on a 16 cm text width

# What the commune apologises for, by the citizen's reason (an apology for "delay"
# when the citizen was charged an illegal fee reads as contempt).
FAULTS = {
    "long-wait": "để Ông/Bà phải chờ đợi lâu",
    "attitude": "thái độ phục vụ chưa đúng mực của công chức",
    "unclear-guidance": "việc hướng dẫn hồ sơ chưa rõ ràng, đầy đủ",
    "extra-papers": "việc yêu cầu Ông/Bà nộp giấy tờ ngoài quy định",
    "many-trips": "để Ông/Bà phải đi lại nhiều lần",
    "late-result": "việc trả kết quả chậm so với ngày hẹn",
    "harassment": "việc thu phí ngoài quy định, gây phiền hà cho Ông/Bà",
    "other": "những thiếu sót trong quá trình tiếp nhận, giải quyết hồ sơ",
}
# What was done about it, beyond the apology.
REMEDIES = {
    "harassment": "Khoản tiền thu ngoài quy định (nếu có) sẽ được hoàn trả cho Ông/Bà; "
                  "hành vi thu phí ngoài quy định được xem xét, xử lý theo quy định của "
                  "pháp luật.",
    "extra-papers": "Ông/Bà chỉ cần nộp các giấy tờ theo đúng thành phần hồ sơ của thủ tục "
                    "đã được công khai.",
    "late-result": "Hồ sơ của Ông/Bà được ưu tiên giải quyết, trả kết quả sớm nhất.",
}


class LetterError(HailongError, ValueError):
    """A letter that does not fit the case (an apology for an unfounded complaint)."""


@dataclass(frozen=True)
class Signer:
    capacity: str = "TM. ỦY BAN NHÂN DÂN"
    title: str = "CHỦ TỊCH"
    name: str = ""


@dataclass(frozen=True)
class Settings:
    """The ``[documents]`` settings: symbol, signer, the report's recipients."""
    symbol: str = "UBND"
    signer: Signer = Signer()
    report_to: tuple[str, ...] = ("UBND tỉnh (Sở Nội vụ)",)

    @classmethod
    def from_config(cls, config) -> Settings:
        d = getattr(config, "documents", None)
        if d is None:
            return cls()
        return cls(symbol=d.symbol, signer=Signer(d.signer_capacity, d.signer_title,
                                                  d.signer_name),
                   report_to=tuple(d.report_to))


def available(case: dict) -> tuple[str, ...]:
    """The letters that fit this case now."""
    if case.get("state") == "closed" and case.get("outcome") in VALID_OUTCOMES:
        return ("apology", "thanks")
    if case.get("state") == "closed" and case.get("outcome") in REPLY_OUTCOMES:
        return ("reply", "thanks")
    return ("thanks",)


# --- layout pieces (the report uses them too) ------------------------------------------

def place_name(commune_name: str) -> str:
    """'UBND xã Tân Lập' -> 'Tân Lập' (the place in the date line)."""
    name = re.sub(r"^(UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+", "", commune_name.strip(),
                  flags=re.I)
    return re.sub(r"^(xã|phường|thị trấn|đặc khu)\s+", "", name, flags=re.I) or name


def body_name(commune_name: str) -> str:
    """'UBND xã Tân Lập' -> 'Ủy ban nhân dân xã Tân Lập'."""
    return re.sub(r"^UBND\b", "Ủy ban nhân dân", commune_name.strip())


def body_lines(commune_name: str) -> tuple[str, str]:
    """The issuing body in two lines: ('ỦY BAN NHÂN DÂN', 'XÃ TÂN LẬP')."""
    full = body_name(commune_name)
    m = re.match(r"(Ủy ban nhân dân|Uỷ ban nhân dân)\s+(.+)", full, flags=re.I)
    if m:
        return "ỦY BAN NHÂN DÂN", m[2].upper()
    words = full.upper().split()
    half = max(1, len(words) // 2)
    return " ".join(words[:half]), " ".join(words[half:])


def date_line(commune_name: str, when: float | None = None) -> str:
    d = datetime.fromtimestamp(time.time() if when is None else when, LOCAL)
    return f"{place_name(commune_name)}, {vnformat.day_words(d)}"


def new_document() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(14)
    style.paragraph_format.space_after = Pt(0)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    return doc


def _para(cell_or_doc, text: str = "", *, bold=False, italic=False, underline=False,
          size: float | None = None, align=WD_ALIGN_PARAGRAPH.CENTER, space_after: float = 0):
    p = cell_or_doc.add_paragraph()
    p.alignment = align
    p.paragraph_format.space_after = Pt(space_after)
    if text:
        run = p.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if underline:
            run.underline = True
        if size:
            run.font.size = Pt(size)
    return p


def _rule(cell, length_cm: float, column_cm: float) -> None:
    """A solid rule ``length_cm`` long, centred in its column, right under the line
    above (Decree 30, Appendix I). Drawn as the top border of an empty 1-pt-high
    paragraph narrowed by equal indents, so the text above keeps its full width."""
    paragraph = cell.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(1)
    fmt.space_before, fmt.space_after = Pt(2), Pt(0)  # clear of the descenders above
    side = max(0.0, (column_cm - length_cm) / 2)
    fmt.left_indent = fmt.right_indent = Cm(side)
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "0"), ("color", "000000")):
        top.set(qn(f"w:{key}"), value)
    borders.append(top)
    # pBdr must come before spacing/ind/jc in pPr (the OOXML schema's order).
    p_pr.insert_element_before(borders, "w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc")


def _fixed_widths(table, widths_cm: tuple[float, ...]) -> None:
    table.autofit = False
    for column, w in zip(table.columns, widths_cm):  # LibreOffice reads the grid
        column.width = Cm(w)
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm):
            cell.width = Cm(w)


def header(doc, commune_name: str, number: str, when: float | None = None) -> None:
    """The decree's two-column header: issuing body + number | motto + place/date."""
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _fixed_widths(table, (LEFT_CM, RIGHT_CM))
    left, right = table.rows[0].cells
    first, second = body_lines(commune_name)
    lp = left.paragraphs[0]  # a cell starts with one empty paragraph: use it
    lp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = lp.add_run(first)
    r.bold, r.font.size = True, Pt(13)
    _para(left, second, bold=True, size=13)
    # The rule under the body: a third to a half of the line above (Appendix I).
    _rule(left, 2.2, LEFT_CM)
    _para(left, "", size=8)
    _para(left, f"Số:        /{number}", size=13)
    rp = right.paragraphs[0]
    rp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = rp.add_run(MOTTO)
    r.bold, r.font.size = True, Pt(13)
    _para(right, MOTTO_2, bold=True, size=14)
    _rule(right, 6.6, RIGHT_CM)  # as long as the motto line itself
    _para(right, "", size=8)
    _para(right, date_line(commune_name, when), italic=True, size=14)


def signature(doc, recipients: list[str], signer: Signer = Signer()) -> None:
    """'Nơi nhận' on the left; capacity, title, room to sign, name on the right."""
    table = doc.add_table(rows=1, cols=2)
    _fixed_widths(table, (7.5, 8.5))
    left, right = table.rows[0].cells
    left.paragraphs[0].text = ""
    p = left.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    r = p.add_run("Nơi nhận:")
    r.bold, r.italic, r.font.size = True, True, Pt(12)
    for line in recipients:
        _para(left, f"- {line};", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _para(left, "- Lưu: VT.", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    p = right.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    first = True
    for line in (signer.capacity, signer.title):
        if not line:
            continue
        if first:
            r = p.add_run(line)
            r.bold, r.font.size = True, Pt(14)
            first = False
        else:
            _para(right, line, bold=True, size=14)
    for _ in range(4):  # room for the signature and the stamp
        _para(right, "", size=14)
    if signer.name:
        _para(right, signer.name, bold=True, size=14)


def page_numbers(doc) -> None:
    """Page numbers at the top centre, from page 2 (Decree 30, Appendix I: numbered
    in Arabic figures, centred in the top margin, not on the first page)."""
    section = doc.sections[0]
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    run.font.size = Pt(13)


# --- the letters -----------------------------------------------------------------------

def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " và " + items[-1]


def _about(case: dict, official_name: str | None) -> str:
    """'việc giải quyết thủ tục “Đăng ký khai sinh” (hồ sơ số H001) tại Bộ phận Một cửa
    ngày 05/11/2026, do công chức Trần Thị Bình tiếp nhận' — leaving out what is
    missing instead of printing '—'."""
    text = "việc giải quyết"
    text += f" thủ tục \u201c{case['procedure']}\u201d" if case.get("procedure") else \
        " hồ sơ"
    if case.get("dossier"):
        text += f" (hồ sơ số {case['dossier']})"
    text += " tại Bộ phận Một cửa"
    if case.get("occurred_at"):
        text += f" ngày {vnformat.day(case['occurred_at'])}"
    if official_name:
        text += f", do công chức {official_name} tiếp nhận"
    return text


def _low_reasons(case: dict) -> list[str]:
    return [c for c in case.get("reasons") or [] if c in FAULTS]


def _paragraphs(kind: str, case: dict, body: str, official_name: str | None) -> list[str]:
    about = _about(case, official_name)
    reasons = _low_reasons(case)
    said = _join([domain.REASONS[c].vi.lower() for c in reasons])
    heard = (f"{body} đã nhận được ý kiến đánh giá của Ông/Bà về {about}"
             + (f". Ông/Bà chưa hài lòng vì: {said}." if said else
                ". Ông/Bà chưa hài lòng với việc giải quyết hồ sơ."))
    closing = [f"Mọi ý kiến phản ánh, kiến nghị xin gửi về {body} để được xem xét, "
               "giải quyết.", "Trân trọng./."]
    if kind == "apology":
        faults = _join([FAULTS[c] for c in reasons]) or FAULTS["other"]
        out = [heard,
               f"Qua kiểm tra, {body} xác định phản ánh của Ông/Bà là có cơ sở và thành "
               f"thật xin lỗi Ông/Bà vì {faults}."]
        if case.get("outcome") == "reminded":
            who = f"công chức {official_name}" if official_name else "công chức có liên quan"
            out.append(f"{body} đã nhắc nhở, chấn chỉnh {who}; đồng thời yêu cầu cán bộ, "
                       "công chức Bộ phận Một cửa nâng cao tinh thần, thái độ phục vụ người "
                       "dân, tổ chức.")
        out += [REMEDIES[c] for c in reasons if c in REMEDIES]
        out.append(f"{body} cam kết tiếp tục cải cách thủ tục hành chính, nâng cao chất "
                   "lượng phục vụ người dân, tổ chức.")
        return out + closing
    if kind == "reply":
        if case.get("outcome") == "unfounded":
            result = (f"Qua kiểm tra, {body} xác định phản ánh của Ông/Bà là không có cơ "
                      "sở: việc tiếp nhận, giải quyết hồ sơ được thực hiện đúng quy định.")
        else:
            result = (f"Qua xem xét, việc tiếp nhận, giải quyết hồ sơ được thực hiện theo "
                      f"đúng quy định; {body} đã trao đổi, giải thích để Ông/Bà được rõ.")
        return [heard, result,
                f"{body} trân trọng cảm ơn Ông/Bà đã đóng góp ý kiến. Trường hợp còn vướng "
                f"mắc, đề nghị Ông/Bà liên hệ trực tiếp {body} để được hướng dẫn.",
                "Trân trọng./."]
    return [f"{body} trân trọng cảm ơn Ông/Bà đã tin tưởng, phối hợp và dành thời gian "
            f"đánh giá {about}.",
            f"Ý kiến của Ông/Bà đã được {body} ghi nhận và là cơ sở để tiếp tục nâng cao "
            "chất lượng phục vụ người dân, tổ chức.",
            "Kính chúc Ông/Bà sức khỏe, hạnh phúc và thành công.",
            "Trân trọng./."]


def render(kind: str, case: dict, *, commune_name: str, official_name: str | None,
           when: float | None = None, settings: Settings = Settings(),
           addressee: dict | None = None) -> bytes:
    """The letter for one follow-up case, as .docx bytes. ``official_name`` is None
    when the rating named no official; ``addressee`` is {'name', 'address'} when the
    office recorded them on the case."""
    if kind not in KINDS:
        raise LetterError(f"letter {kind!r}: one of {', '.join(KINDS)}")
    if kind not in available(case):
        raise LetterError(
            "an apology only for a complaint found valid (closed as apologised or "
            "official reminded)" if kind == "apology" else
            "a reply states the result: close the case as explained or unfounded first")
    # no control character may reach python-docx (it refuses them: a 500), issue 8
    case, commune_name, official_name, addressee = textsafe.clean(
        (case, commune_name, official_name, addressee))
    doc = new_document()
    header(doc, commune_name, settings.symbol, when)
    body = body_name(commune_name)
    _para(doc, "", size=10)
    _para(doc, TITLES[kind], bold=True, size=14, space_after=12)
    name = (addressee or {}).get("name", "").strip()
    address = (addressee or {}).get("address", "").strip()
    to = f"Ông/Bà {name}" if name else (
        f"Ông/Bà có hồ sơ số {case['dossier']}" if case.get("dossier") else "Ông/Bà")
    _para(doc, f"Kính gửi: {to}", size=14, space_after=0 if address else 6)
    if address:
        _para(doc, f"Địa chỉ: {address}", size=14, space_after=6)
    for text in _paragraphs(kind, case, body, official_name):
        p = _para(doc, text, size=14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=6)
        p.paragraph_format.first_line_indent = Cm(1)
    _para(doc, "")
    recipients = ["Như trên" if name or case.get("dossier") else "Người dân đã đánh giá"]
    if official_name and kind == "apology":
        recipients.append(f"Công chức {official_name}")
    signature(doc, recipients, settings.signer)
    out = io.BytesIO()
    doc.core_properties.title = TITLES[kind].capitalize()
    doc.save(out)
    return out.getvalue()
