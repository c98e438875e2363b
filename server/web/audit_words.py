"""The audit trail in words (issue 10): "Đóng phản ánh: Đã xin lỗi người dân" rather than
``case.closed outcome=apologised``. Unknown actions fall back to their code, so a new
action added elsewhere still shows, just less kindly."""

from __future__ import annotations

from datetime import datetime

from server.reports.rollup import LOCAL
from server.web.i18n import translate

ACTIONS: dict[str, tuple[str, str]] = {
    "case.assigned": ("Giao xử lý cho {assignee}", "Assigned to {assignee}"),
    "case.unassigned": ("Bỏ giao xử lý", "Unassigned"),
    "case.note": ("Thêm ghi chú ({length} ký tự)", "Added a note ({length} characters)"),
    "case.closed": ("Đóng phản ánh: {outcome}", "Closed: {outcome}"),
    "case.reopened": ("Mở lại phản ánh", "Reopened the case"),
    "case.escalated": ("Quá hạn xử lý (hệ thống ghi nhận)", "Past its deadline (system)"),
    "case.deadline": ("Đổi hạn xử lý từ {from} sang {to}. Lý do: {reason}",
                      "Deadline moved from {from} to {to}. Reason: {reason}"),
    "case.contact-viewed": ("Xem số điện thoại gọi lại", "Viewed the call-back number"),
    "alert.acknowledged": ("Xác nhận đã biết cảnh báo{comment}",
                           "Acknowledged the alert{comment}"),
    "alert.acknowledged-many": ("Xác nhận đã biết {count} cảnh báo{comment}",
                                "Acknowledged {count} alerts{comment}"),
    "export.letter-apology": ("Tải thư xin lỗi", "Downloaded the apology letter"),
    "export.letter-thanks": ("Tải thư cảm ơn", "Downloaded the thank-you letter"),
    "contacts.purged": ("Xoá {count} số điện thoại hết hạn lưu",
                        "Deleted {count} expired call-back numbers"),
    "login": ("Đăng nhập", "Signed in"),
    "login.failed": ("Đăng nhập sai (từ {address})", "Failed sign-in (from {address})"),
    "logout": ("Đăng xuất", "Signed out"),
    "user.set": ("Đặt tài khoản, vai trò {role}", "Account set, role {role}"),
}


def _when(ts) -> str:
    try:
        return datetime.fromtimestamp(float(ts), LOCAL).strftime("%H:%M %d/%m/%Y")
    except (TypeError, ValueError, OverflowError, OSError):
        return "—"


def describe(entry: dict, lang: str) -> str:
    action, detail = entry["action"], dict(entry.get("detail") or {})
    en = lang == "en"
    if action.startswith("export.report-"):
        what = action.split("-", 1)[1].upper()
        return f"Downloaded the report ({what})" if en else f"Tải báo cáo ({what})"
    if action == "case.assigned" and not detail.get("assignee"):
        action = "case.unassigned"
    pair = ACTIONS.get(action)
    if pair is None:
        extra = " ".join(f"{k}={v}" for k, v in detail.items())
        return f"{action} {extra}".strip()
    if "outcome" in detail:
        detail["outcome"] = translate(f"outcome_{detail['outcome']}", lang)
    for k in ("from", "to"):
        if k in detail:
            detail[k] = _when(detail[k])
    c = str(detail.get("comment") or "").strip()
    detail["comment"] = f" — “{c}”" if c else ""
    data = {k: ("—" if v is None else v) for k, v in detail.items()}
    try:
        return pair[1 if en else 0].format(**data)
    except (KeyError, IndexError, ValueError):
        return pair[1 if en else 0].split("{")[0].strip()
