"""Dashboard words in Vietnamese (the default) and English.

A plain table rather than gettext catalogues: the dashboard has a few hundred words,
and a missing key shows itself (the key is printed) instead of failing a page.
"""

from __future__ import annotations

from hailong import domain

from server.followup.alerts import KINDS as ALERT_KINDS
from server.followup.cases import OUTCOMES

LANGS = ("vi", "en")

WORDS: dict[str, tuple[str, str]] = {
    "app": ("Hài Lòng — Bảng điều khiển", "Hài Lòng — Dashboard"),
    "login": ("Đăng nhập", "Log in"),
    "logout": ("Đăng xuất", "Log out"),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "bad_login": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
    "slow_down": ("Đăng nhập sai nhiều lần. Vui lòng thử lại sau {n} giây.",
                  "Too many failed logins. Try again in {n} seconds."),
    "overview": ("Tổng quan", "Overview"),
    "officials": ("Công chức", "Officials"),
    "official": ("Công chức", "Official"),
    "counters": ("Quầy & thiết bị", "Counters & kiosks"),
    "counter": ("Quầy", "Counter"),
    "kiosk": ("Thiết bị", "Kiosk"),
    "fields": ("Lĩnh vực & thủ tục", "Fields & procedures"),
    "field": ("Lĩnh vực", "Field"),
    "procedure": ("Thủ tục", "Procedure"),
    "followup": ("Xử lý phản ánh", "Follow-up"),
    "fleet": ("Thiết bị", "Kiosk fleet"),
    "alerts": ("Cảnh báo", "Alerts"),
    "reports": ("Báo cáo", "Reports"),
    "sipas": ("Chỉ số hài lòng SIPAS (khảo sát tại quầy)", "SIPAS satisfaction index "
              "(survey at the counter)"),
    "sipas_overall": ("Chỉ số chung", "Overall index"),
    "sipas_factor": ("Yếu tố", "Factor"),
    "sipas_answers": ("Số câu trả lời", "Answers"),
    "sipas_satisfied": ("Hài lòng", "Satisfied"),
    "sipas_index": ("Chỉ số", "Index"),
    "sipas_how": ("Chỉ số của một yếu tố = số câu trả lời \"Hài lòng\" và \"Rất hài lòng\" "
                  "/ tổng số câu trả lời về yếu tố đó; chỉ số chung = trung bình cộng các "
                  "yếu tố (phương pháp SIPAS của Bộ Nội vụ).",
                  "A factor's index = answers \"Satisfied\" or \"Very satisfied\" / all "
                  "answers about that factor; overall = the mean of the factors (the "
                  "Ministry of Home Affairs' SIPAS method)."),
    "sipas_factor_access": ("Tiếp cận dịch vụ", "Access to the service"),
    "sipas_factor_procedure": ("Thủ tục hành chính", "The procedure"),
    "sipas_factor_official": ("Công chức", "The official"),
    "sipas_factor_result": ("Kết quả giải quyết", "The result"),
    "sipas_factor_feedback": ("Tiếp nhận, xử lý phản ánh, kiến nghị", "Handling of feedback"),
    "audit": ("Nhật ký", "Audit log"),
    "today": ("Hôm nay", "Today"),
    "this_month": ("Tháng này", "This month"),
    "this_quarter": ("Quý này", "This quarter"),
    "ratings": ("Lượt đánh giá", "Ratings"),
    "rate": ("Tỷ lệ hài lòng", "Satisfaction rate"),
    "low": ("Không hài lòng", "Low ratings"),
    "suspect": ("Bị gắn cờ, không tính vào chỉ số", "Flagged, left out of the figures"),
    "trend_30": ("30 ngày qua", "Last 30 days"),
    "trend_12": ("12 tháng qua", "Last 12 months"),
    "commune": ("Toàn xã", "Whole commune"),
    "vs_commune": ("so với toàn xã", "against the commune"),
    "reasons": ("Lý do không hài lòng", "Reasons given for low ratings"),
    "reasons_high": ("Điểm được khen", "What went well"),
    "period": ("Kỳ", "Period"),
    "show": ("Xem", "Show"),
    "no_data": ("Chưa có dữ liệu.", "No data yet."),
    "cases_open": ("Đang chờ xử lý", "Open"),
    "cases_in_progress": ("Đang xử lý", "In progress"),
    "cases_overdue": ("Quá hạn", "Overdue"),
    "cases_closed": ("Đã xong", "Closed"),
    "case": ("Phản ánh", "Case"),
    "state": ("Trạng thái", "State"),
    "state_open": ("Mới", "Open"),
    "state_in-progress": ("Đang xử lý", "In progress"),
    "state_closed": ("Đã đóng", "Closed"),
    "active": ("Cần xử lý", "To do"),
    "all": ("Tất cả", "All"),
    "when": ("Thời điểm", "When"),
    "score": ("Mức đánh giá", "Rating"),
    "dossier": ("Mã hồ sơ", "Dossier"),
    "deadline": ("Hạn xử lý", "Deadline"),
    "escalated": ("Quá hạn", "Overdue"),
    "assignee": ("Người xử lý", "Assigned to"),
    "assign": ("Giao xử lý", "Assign"),
    "outcome": ("Kết quả", "Outcome"),
    "close_case": ("Ghi kết quả và đóng", "Record outcome and close"),
    "reopen": ("Mở lại", "Reopen"),
    "note": ("Ghi chú", "Note"),
    "notes": ("Ghi chú", "Notes"),
    "add_note": ("Thêm ghi chú", "Add note"),
    "trail": ("Lịch sử xử lý", "Audit trail"),
    "contact": ("Số điện thoại gọi lại", "Call-back number"),
    "contact_none": ("Người dân không để lại số điện thoại (hoặc đã hết hạn lưu).",
                     "No call-back number (none left, or past its retention)."),
    "contact_consent": ("Người dân đã đồng ý", "The citizen agreed"),
    "letter_apology": ("Thư xin lỗi (.docx)", "Apology letter (.docx)"),
    "letter_thanks": ("Thư cảm ơn (.docx)", "Thank-you letter (.docx)"),
    "online": ("Trực tuyến", "Online"),
    "offline": ("Mất kết nối", "Offline"),
    "last_seen": ("Lần cuối", "Last seen"),
    "backlog": ("Chưa gửi", "Backlog"),
    "clock_skew": ("Lệch giờ (giây)", "Clock skew (s)"),
    "fleet_rejected": ("Bị từ chối (lý do cuối)", "Rejected (last reason)"),
    "flags": ("Đánh giá chờ xác nhận", "Ratings held back"),
    "flags_intro": ("Máy chủ đã lưu các đánh giá này nhưng không tính vào chỉ số, vì "
                    "chúng không khớp với điều máy chủ biết (danh sách cán bộ của quầy, "
                    "kỳ báo cáo đã chốt, ngày lùi, gửi quá nhanh). Xác nhận để tính.",
                    "The server stored these ratings but leaves them out of every "
                    "figure: they do not match what it knows (the counter's roster, a "
                    "closed period, a date pushed back, too many too fast). Confirm to "
                    "count them."),
    "flag_rule": ("Quy tắc", "Rule"),
    "flag_count": ("Số lượt", "Ratings"),
    "flag_confirm": ("Xác nhận, tính vào chỉ số", "Confirm: count them"),
    "flag_roster": ("Cán bộ không thuộc quầy", "Official not on the counter's roster"),
    "flag_closed-period": ("Kỳ báo cáo đã chốt", "Closed period"),
    "flag_backdated": ("Ngày bị lùi", "Dated back"),
    "flag_rate": ("Gửi quá nhanh", "Too many too fast"),
    "flags_waiting": ("đánh giá chờ xác nhận", "ratings held back"),
    "fleet_server_rejected": ("máy chủ đã từ chối", "refused by the server"),
    "version": ("Phiên bản", "Version"),
    "revoked": ("đã thu hồi", "revoked"),
    "not_enrolled": ("chưa đăng ký", "not enrolled"),
    "acknowledge": ("Đã biết", "Acknowledge"),
    "acknowledged": ("Đã xác nhận", "Acknowledged"),
    "comment": ("Nhận xét", "Comment"),
    "show_acknowledged": ("Hiện cả cảnh báo đã xác nhận", "Show acknowledged too"),
    "download": ("Tải về", "Download"),
    "report_for": ("Báo cáo", "Report"),
    "month": ("Tháng", "Month"),
    "quarter": ("Quý", "Quarter"),
    "six_months": ("6 tháng", "6 months"),
    "nine_months": ("9 tháng", "9 months"),
    "year": ("Năm", "Year"),
    "followup_outcomes": ("Kết quả xử lý phản ánh", "Follow-up outcomes"),
    "opened": ("Phản ánh phát sinh trong kỳ", "Cases raised in the period"),
    "closed": ("Đã xử lý xong", "Closed"),
    "still_open": ("Trong đó chưa xử lý xong", "Of which not yet closed"),
    "forbidden": ("Tài khoản của bạn không được xem trang này.",
                  "Your account may not see this page."),
    "not_found": ("Không tìm thấy.", "Not found."),
    "csrf": ("Biểu mẫu đã hết hạn, vui lòng tải lại trang.",
             "This form has expired; reload the page."),
    "saved": ("Đã lưu.", "Saved."),
    "role": ("Vai trò", "Role"),
    "role_leader": ("Lãnh đạo", "Leader"),
    "role_office": ("Văn phòng", "Office"),
    "role_technician": ("Kỹ thuật", "Technician"),
    "action": ("Thao tác", "Action"),
    "user": ("Người dùng", "User"),
    "none": ("—", "—"),
    "count_short": ("Số lượt", "Count"),
    "open_cases_of": ("Phản ánh đang mở", "Open cases"),
    "figures_by_counter": ("Theo quầy", "By counter"),
    "figures_by_kiosk": ("Theo thiết bị", "By kiosk"),
    "figures_by_field": ("Theo lĩnh vực", "By field"),
    "figures_by_procedure": ("Theo thủ tục", "By procedure"),
    "figures_by_official": ("Theo công chức", "By official"),
    "menu": ("Trình đơn", "Menu"),
    "details": ("Chi tiết", "Details"),
    "lang_other": ("English", "Tiếng Việt"),
    "signed_in_as": ("Đăng nhập:", "Signed in:"),
    "alerts_open": ("cảnh báo chưa xem", "unacknowledged alerts"),
}

# Issue 10 (branch i10-dash): period selectors, overview, queue filters, phone menu.
WORDS.update({
    "prev_month": ("Tháng trước", "Last month"),
    "prev_quarter": ("Quý trước", "Last quarter"),
    "this_year": ("Năm nay", "This year"),
    "prev_year": ("Năm trước", "Last year"),
    "custom_range": ("Từ ngày … đến ngày", "Date range"),
    "date_from": ("Từ ngày", "From"),
    "date_to": ("Đến ngày", "To"),
    "previous_period": ("Kỳ trước", "Previous period"),
    "vs_previous": ("so với kỳ trước", "against the previous period"),
    "points": ("điểm %", "points"),
    "lowest_officials": ("3 công chức có tỷ lệ hài lòng thấp nhất",
                         "The three officials with the lowest satisfaction"),
    "min_ratings": ("chỉ tính công chức có từ {n} lượt đánh giá trở lên",
                    "only officials with at least {n} ratings"),
    "overdue_cases": ("Phản ánh quá hạn", "Overdue cases"),
    "none_overdue": ("Không có phản ánh quá hạn.", "No overdue case."),
    "filter": ("Lọc", "Filter"),
    "any": ("Tất cả", "Any"),
    "page_of": ("Trang {page}/{pages} · {total} phản ánh", "Page {page} of {pages} · {total} cases"),
    "prev_page": ("← Trang trước", "← Previous"),
    "next_page": ("Trang sau →", "Next →"),
    "working_days_left": ("còn {n} ngày làm việc", "{n} working days left"),
    "change_deadline": ("Đổi hạn xử lý", "Change the deadline"),
    "reason_for_change": ("Lý do đổi hạn", "Reason for the change"),
    "ack_selected": ("Xác nhận các cảnh báo đã chọn", "Acknowledge the selected alerts"),
    "ack_all_shown": ("Chọn tất cả", "Select all"),
    "withheld_for_role": ("Số liệu theo từng công chức, quầy và thiết bị chỉ lãnh đạo được xem.",
                          "Figures per official, counter and kiosk are for leaders only."),
    "open_now": ("Đang mở (hiện tại)", "Open now"),
})


for lv in domain.LEVELS[5]:
    WORDS[f"level_{lv.score}_5"] = (lv.vi, lv.en)
for scale in (3, 4):
    for lv in domain.LEVELS[scale]:
        WORDS[f"level_{lv.score}_{scale}"] = (lv.vi, lv.en)
for r in domain.LOW_REASONS + domain.HIGH_REASONS:
    WORDS[f"reason_{r.code}"] = (r.vi, r.en)
for o in OUTCOMES:
    WORDS[f"outcome_{o.code}"] = (o.vi, o.en)
for kind, (vi, en) in ALERT_KINDS.items():
    WORDS[f"alert_{kind}"] = (vi, en)


def translate(key: str, lang: str, **kw) -> str:
    pair = WORDS.get(key)
    text = key if pair is None else pair[1 if lang == "en" else 0]
    return text.format(**kw) if kw else text


# Alert texts by kind, from the alert's data (the stored message is Vietnamese, for
# webhooks; the page shows the reader's language).
ALERT_TEXT: dict[str, tuple[str, str]] = {
    "low-rating": ("Đánh giá {score}/{scale} cho {official} tại quầy {counter_name}",
                   "Rated {score}/{scale}: {official} at counter {counter_name}"),
    "official-repeated": ("{official}: {low} đánh giá không hài lòng trong {days} ngày",
                          "{official}: {low} low ratings in {days} days"),
    "kiosk-offline": ("Thiết bị {kiosk} mất kết nối từ {since}",
                      "Kiosk {kiosk} offline since {since}"),
    "backlog": ("Thiết bị {kiosk} còn {backlog} đánh giá chưa gửi được",
                "Kiosk {kiosk} has {backlog} ratings not yet sent"),
    "case-overdue": ("Phản ánh #{case} ({official}) quá hạn xử lý",
                     "Case #{case} ({official}) is past its deadline"),
    "kiosk-rate": ("Thiết bị {kiosk} gửi quá nhiều đánh giá: đã lưu nhưng không tính, "
                   "chờ lãnh đạo xác nhận",
                   "Kiosk {kiosk} sent too many ratings: stored, not counted until a "
                   "leader confirms"),
    # Issue 10: alerts stored since carry names; older ones fall back to their message.
    "case-assigned": ("{by} giao phản ánh #{case} ({official}) cho {assignee}",
                      "{by} assigned case #{case} ({official}) to {assignee}"),
    "low-summary": ("{cases} đánh giá không hài lòng chưa được báo (phản ánh #{first}–#{last})",
                    "{cases} low ratings not yet alerted (cases #{first}–#{last})"),
    "alert-summary": ("{count} cảnh báo “{of_vi}” cùng lúc", "{count} “{of_en}” alerts at once"),
}


def alert_text(alert: dict, lang: str, names: dict[str, str], since: str = "") -> str:
    pair = ALERT_TEXT.get(alert["kind"])
    data = {k: ("?" if v is None else v) for k, v in (alert.get("payload") or {}).items()}
    if "official" in data:
        data["official"] = names.get(data["official"], data["official"])
    try:
        return pair[1 if lang == "en" else 0].format(since=since, **data) if pair \
            else alert["message"]
    except (KeyError, IndexError, ValueError):
        return alert["message"]


# issue 9: the official's counter page (kept apart so merges stay easy)
WORDS.update({
    "role_official": ("Công chức", "Official"),
    "counter_page": ("Mời đánh giá", "Ask for a rating"),
    "counter_intro": ("Gõ hoặc quét mã hồ sơ của người dân vừa được phục vụ, rồi bấm "
                      "“Mời đánh giá”. Thiết bị ở quầy sẽ mời người dân đánh giá.",
                      "Type or scan the dossier code of the citizen you have just served, "
                      "then press “Ask for a rating”. The kiosk at the counter asks them."),
    "dossier_code": ("Mã hồ sơ", "Dossier code"),
    "invite": ("Mời đánh giá", "Ask for a rating"),
    "sent_to_kiosk": ("Đã mời đánh giá hồ sơ {dossier} tại {counter}. Mời người dân bấm "
                      "trên thiết bị.", "Rating asked for dossier {dossier} at {counter}. "
                      "The citizen can now press on the kiosk."),
    "no_counter": ("Chưa có quầy nào có thiết bị cho bạn. Hãy báo cán bộ kỹ thuật.",
                   "No counter with a kiosk is set up for you. Ask the technician."),
    "not_linked": ("Tài khoản này chưa gắn với công chức nào trong danh sách. Hãy báo cán "
                   "bộ kỹ thuật.", "This account is not linked to an official on the "
                   "roster. Ask the technician."),
    "dossier_required": ("Hãy nhập hoặc quét mã hồ sơ.", "Type or scan the dossier code."),
    "dossier_bad": ("Mã hồ sơ “{dossier}” không đúng dạng. Kiểm tra lại.",
                    "Dossier code “{dossier}” does not look right. Check it."),
    "send_failed": ("Chưa gửi được tới thiết bị, vui lòng thử lại.",
                    "Could not reach the kiosk; try again."),
    "counter_choice": ("Quầy", "Counter"),
})

WORDS.update({  # issue 12: forwarding to the province, on the fleet page
    "forward_title": ("Chuyển lên tỉnh", "Forwarding to the province"),
    "forward_backlog": ("Đánh giá chờ tỉnh xác nhận", "Ratings awaiting the province's ack"),
    "forward_oldest": ("Chờ lâu nhất từ", "Waiting since"),
    "forward_refused": ("Tỉnh từ chối, giữ lại chờ gửi lại",
                        "Refused by the province, kept to send again"),
    "forward_retry": ("sau khi tỉnh nâng cấp, gửi lại bằng",
                      "once the province is upgraded, send them again with"),
    "forward_off": ("Chưa bật ([province] enabled = false)",
                    "Not turned on ([province] enabled = false)"),
})
