"""Scheduled delivery: the monthly and quarterly reports e-mailed to the leaders.

On ``[mail] report_day`` (from ``report_hour``, local time) the server sends the
report of the month that has just closed, and in months 3, 6, 9 and 12 that of the
quarter too: the official periods of Decree 09/2019 (15th to 14th,
``server/reports/periods.py``) by default, or calendar months and quarters. Each
mail carries the figures in its text and the report as DOCX, XLSX and (LibreOffice
permitting) PDF.

Once per period, even across restarts: a report is recorded in ``sent_reports``
(primary key: kind and period) right after the SMTP server accepted it, and a
recorded one is never sent again. Only the latest closed period of each kind is
ever due, so a server that was down for months sends one report per kind when it
comes back, not a backlog. A failed send is retried at the next check.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from email.message import EmailMessage

from server.reports import figures, letters, pdf, files as report_files, report as reports, vnformat
from server.followup import smtp
from server.reports.rollup import LOCAL
from server.ingest.store import connect

log = logging.getLogger(__name__)

CHECK_EVERY = 60.0  # seconds between looks at the calendar
KINDS = ("month", "quarter")


def latest_closed(kind: str, today: date, style: str = "official") -> figures.Period:
    """The most recent month or quarter whose last day is before ``today``."""
    y, m = today.year, today.month
    if style == "official":  # periods end on the 14th
        if today.day < 15:
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        if kind == "month":
            return figures.parse_period(f"bc-{y}-{m:02d}")
        q = m // 3  # the quarter whose last month is m, or an earlier one
        if q == 0:
            return figures.parse_period(f"bc-{y - 1}-Q4")
        return figures.parse_period(f"bc-{y}-Q{q}")
    y, m = (y - 1, 12) if m == 1 else (y, m - 1)  # the previous calendar month
    if kind == "month":
        return figures.parse_period(f"{y}-{m:02d}")
    q = m // 3
    return figures.parse_period(f"{y - 1}-Q4" if q == 0 else f"{y}-Q{q}")


def send_day(period: figures.Period, report_day: int) -> date:
    """The first day on or after the period's end that is on or after report_day."""
    end = period.end
    return end if end.day >= report_day else end.replace(day=report_day)


class ReportMailer:
    def __init__(self, config, clock: Callable[[], float] = time.time):
        self.config = config
        self.clock = clock
        self._db = connect(config.store)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.config.smtp.host and self.config.mail.report_recipients)

    # --- what is due -------------------------------------------------------------------

    def due(self, now: float | None = None) -> list[tuple[str, figures.Period]]:
        m = self.config.mail
        now = self.clock() if now is None else now
        moment = datetime.fromtimestamp(now, LOCAL)
        today = moment.date()
        out = []
        for kind in KINDS:
            period = latest_closed(kind, today, m.report_periods)
            day = send_day(period, m.report_day)
            if today < day or (today == day and moment.hour < m.report_hour):
                continue
            if not self._db.conn.execute("SELECT 1 FROM sent_reports WHERE kind = ? AND "
                                         "period = ?", [kind, period.key]).fetchone():
                out.append((kind, period))
        return out

    # --- sending -------------------------------------------------------------------------

    def message(self, kind: str, period: figures.Period, now: float) -> EmailMessage:
        c = self.config
        commune = c.server.commune_name or c.server.commune
        conn = self._db.conn
        names = dict(conn.execute("SELECT id, name FROM officials"))  # the roster's table
        data = reports.build(conn, period, names)
        settings = letters.Settings.from_config(c)
        docx = report_files.docx(data, commune, settings, when=now)
        s = data["summary"]
        msg = EmailMessage()
        msg["Subject"] = f"[Hài Lòng] Báo cáo {data['label']} — {commune}"
        msg["From"] = c.smtp.sender
        msg["To"] = ", ".join(c.mail.report_recipients)
        lines = [f"Kính gửi lãnh đạo {letters.body_name(commune)},", "",
                 f"Báo cáo kết quả đánh giá mức độ hài lòng — {data['label']}.",
                 f"Số liệu tính đến ngày {vnformat.day(date.fromisoformat(data['as_of']))}.",
                 "",
                 f"- Số lượt đánh giá: {vnformat.number(s['count'])}",
                 f"- Tỷ lệ hài lòng: {vnformat.percent(s['rate'])}",
                 f"- Không hài lòng: {vnformat.number(s['low'])}"]
        for key, words in (("previous", "kỳ trước"), ("year_before", "cùng kỳ năm trước")):
            other = data["compare"][key]
            if other:
                lines.append(f"- {report_files.change_words(other['change'], words)}")
        f = data["followup"]
        lines += [f"- Phản ánh phải xử lý: {vnformat.number(f['opened'])}; đã xử lý xong: "
                  f"{vnformat.number(f['closed'])}; đang xử lý: {vnformat.number(f['open'])}",
                  "", "Báo cáo đầy đủ ở tệp đính kèm (DOCX để ký ban hành, XLSX để tổng hợp).",
                  "", "— Hài Lòng, máy chủ của xã (thư gửi tự động)"]
        msg.set_content("\n".join(lines))
        name = f"bao-cao-hai-long-{period.key}"
        msg.add_attachment(docx, maintype="application", subtype=letters.DOCX_MIME.split("/")[1],
                           filename=f"{name}.docx")
        msg.add_attachment(report_files.xlsx(data, commune), maintype="application",
                           subtype=report_files.XLSX_MIME.split("/")[1],
                           filename=f"{name}.xlsx")
        if c.mail.attach_pdf:
            try:
                msg.add_attachment(pdf.convert(docx), maintype="application", subtype="pdf",
                                   filename=f"{name}.pdf")
            except pdf.PdfError as e:  # the DOCX still goes; the PDF is a convenience
                log.error("report %s sent without its PDF: %s", period.key, e)
        return msg

    def _smtp(self) -> smtplib.SMTP:
        return smtp.connect(self.config.smtp)

    def send_due(self, now: float | None = None) -> list[str]:
        """Send every report that is due; returns the periods sent ('month:bc-2026-11')."""
        if not self.enabled:
            return []
        now = self.clock() if now is None else now
        sent = []
        for kind, period in self.due(now):
            msg = self.message(kind, period, now)
            with self._smtp() as smtp:
                smtp.send_message(msg)
            conn = self._db.conn
            with conn:
                conn.execute("INSERT INTO sent_reports (kind, period, sent_at, recipients) "
                             "VALUES (?,?,?,?) ON CONFLICT (kind, period) DO NOTHING",
                             [kind, period.key, now,
                              json.dumps(list(self.config.mail.report_recipients))])
            log.info("report %s (%s) e-mailed to %d leader(s)", period.key, kind,
                     len(self.config.mail.report_recipients))
            sent.append(f"{kind}:{period.key}")
        return sent

    # --- the thread ----------------------------------------------------------------------

    def start(self) -> ReportMailer:
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="report-mailer",
                                            daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_due()
            except (OSError, smtplib.SMTPException) as e:
                log.error("scheduled report not sent (retrying in %.0f s): %s", CHECK_EVERY, e)
            except Exception:
                log.exception("scheduled report failed")
            self._stop.wait(CHECK_EVERY)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        self._db.close()

    def __enter__(self) -> ReportMailer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
