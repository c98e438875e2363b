"""Documents that leave the dashboard (issue 10): a case's letters as DOCX or PDF,
the addressee form on a case, and the period report as XLSX, CSV, DOCX or PDF.

The old URLs (``pages.letter``, ``pages.report_file``) call into here, so the files
are the same whichever link made them.
"""

from __future__ import annotations

import logging
from datetime import date

from flask import Blueprint, Response, abort, current_app, g, redirect, request, url_for

from server.followup import cases as followup
from server.reports import addressee, figures, letters, pdf, vnformat
from server.reports import files as report_files
from server.reports import report as reports
from server import accounts
from server.web import needs, periods, visibility
from server.web.i18n import WORDS

log = logging.getLogger(__name__)

bp = Blueprint("documents", __name__)

WORDS.update({
    "letter_apology": ("Thư xin lỗi", "Apology letter"),
    "letter_reply": ("Thư trả lời (kết quả xem xét)", "Reply stating the result"),
    "letter_thanks": ("Thư cảm ơn", "Thank-you letter"),
    "letters": ("Thư gửi người dân", "Letters to the citizen"),
    "letters_hint": ("Thư xin lỗi chỉ khi phản ánh có cơ sở (đóng với kết quả “đã xin lỗi” "
                     "hoặc “đã nhắc nhở công chức”); thư trả lời khi đã giải thích hoặc "
                     "phản ánh không có cơ sở. Số văn bản để trống cho văn thư ghi.",
                     "An apology only when the complaint was found valid (closed as "
                     "apologised or official reminded); a reply when explained or "
                     "unfounded. The number is left blank for the clerk."),
    "addressee": ("Người nhận thư", "Letter addressed to"),
    "addressee_name": ("Họ và tên", "Full name"),
    "addressee_address": ("Địa chỉ", "Address"),
    "addressee_hint": ("Chỉ ghi khi người dân đã cung cấp; xóa tự động sau thời hạn lưu "
                       "giữ (Nghị định 13/2023).",
                       "Only when the citizen gave them; erased after the retention "
                       "period (Decree 13/2023)."),
    "save": ("Lưu", "Save"),
    "as_of": ("Số liệu tính đến ngày", "Data up to"),
    "by_level": ("Theo mức đánh giá", "By rating level"),
    "comparison": ("So sánh", "Comparison"),
    "this_period": ("Kỳ này", "This period"),
    "previous_period": ("Kỳ trước", "Previous period"),
    "year_before": ("Cùng kỳ năm trước", "Same period last year"),
    "change": ("Thay đổi", "Change"),
    "points": ("điểm %", "points"),
})

FORMATS = {"docx": letters.DOCX_MIME, "pdf": pdf.PDF_MIME}


@bp.app_template_filter("vn_number")
def vn_number(n) -> str:
    return vnformat.number(n)


@bp.app_template_filter("vn_percent")
def vn_percent(x) -> str:
    return vnformat.percent(x)


@bp.app_template_filter("vn_signed")
def vn_signed(x, places: int = 0) -> str:
    return vnformat.signed(x, places)


@bp.app_template_filter("vn_day")
def vn_day(iso: str) -> str:
    return vnformat.day(date.fromisoformat(iso))


@bp.app_context_processor
def helpers():
    return {"case_letters": letters.available,
            "case_addressee": lambda case_id: addressee.get(g.db, case_id)}


def settings() -> letters.Settings:
    return letters.Settings.from_config(current_app.config["HAILONG"])


def commune_name() -> str:
    config = current_app.config["HAILONG"]
    return config.server.commune_name or config.server.commune


def _attachment(body: bytes, content_type: str, name: str) -> Response:
    # Built by hand: Flask's send_file appends its own "; charset=utf-8" to a text/*
    # type that already names one (two charsets in the CSV's Content-Type).
    return Response(body, headers={"Content-Type": content_type,
                                   "Content-Disposition": f'attachment; filename="{name}"',
                                   "Content-Length": str(len(body))})


def _pdf(docx: bytes) -> bytes:
    try:
        return pdf.convert(docx)
    except pdf.PdfError as e:
        log.error("PDF: %s", e)
        abort(503, str(e))


def letter_file(case_id: int, kind: str, fmt: str) -> Response:
    if kind not in letters.KINDS or fmt not in FORMATS:
        abort(404)
    case = followup.get(g.db, case_id)
    if case is None:
        abort(404)
    from server.web.pages import names, own_case
    if own_case(case):  # an official prints no letter about their own case (issue 8)
        abort(403)
    try:
        body = letters.render(kind, case, commune_name=commune_name(),
                              official_name=names().get(case["official"], case["official"])
                              if case["official"] else None,
                              settings=settings(), addressee=addressee.get(g.db, case_id))
    except letters.LetterError as e:
        return redirect(url_for("pages.case", case_id=case_id, error=str(e)))
    if fmt == "pdf":
        body = _pdf(body)
    accounts.audit(g.db, g.user.username, f"export.letter-{kind}", f"case:{case_id}",
                   {"format": fmt})
    return _attachment(body, FORMATS[fmt], f"{letters.FILE_NAMES[kind]}-{case_id}.{fmt}")


@bp.route("/cases/<int:case_id>/letters/<kind>.<fmt>")
@needs("followup")
def letter(case_id: int, kind: str, fmt: str):
    return letter_file(case_id, kind, fmt)


@bp.route("/cases/<int:case_id>/addressee", methods=["POST"])
@needs("followup")
def set_addressee(case_id: int):
    if followup.get(g.db, case_id) is None:
        abort(404)
    addressee.set_(g.db, case_id, request.form.get("name", ""),
                   request.form.get("address", ""), g.user.username)
    return redirect(url_for("pages.case", case_id=case_id, saved=1))


def report_file(key: str, fmt: str) -> Response:
    try:
        period = periods.parse(key)
    except figures.PeriodError as e:
        abort(400, str(e))
    if fmt not in ("xlsx", "csv", "docx", "pdf"):
        abort(404)
    from server.web.pages import names
    # what the user's role may see (one rule for pages, API and exports: visibility.py)
    data = visibility.report_for(reports.build(g.db, period, names()), g.user)
    if fmt == "xlsx":
        body, mime = report_files.xlsx(data, commune_name()), report_files.XLSX_MIME
    elif fmt == "csv":
        body, mime = report_files.csv_bytes(data), report_files.CSV_CONTENT_TYPE
    else:
        body, mime = report_files.docx(data, commune_name(), settings()), letters.DOCX_MIME
        if fmt == "pdf":
            body, mime = _pdf(body), pdf.PDF_MIME
    accounts.audit(g.db, g.user.username, f"export.report-{fmt}", f"report:{key}", {})
    return _attachment(body, mime, f"bao-cao-hai-long-{key}.{fmt}")
