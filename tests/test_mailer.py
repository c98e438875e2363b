"""Scheduled delivery (issue 10): the monthly and quarterly reports reach the leaders by
e-mail on the day the settings name, through a real local SMTP server (aiosmtpd), once
per period even when the server restarts."""

from __future__ import annotations

import email
import socket
import time
from datetime import date, datetime
from email import policy

import docx
import pytest
from aiosmtpd.controller import Controller

from server.reports import rollup
from server.followup.mailer import ReportMailer
from server.reports.rollup import LOCAL, day_start
from server.ingest.store import connect

from conftest import wait_until
from helpers import both_stores
from dashboard_support import load, rating, store_ratings


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def at(d: date, hour: int) -> float:
    return datetime(d.year, d.month, d.day, hour, tzinfo=LOCAL).timestamp()


def mail_config(tmp_path, port: int, periods: str = "official", day: int = 15, store=None):
    return load(tmp_path, f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
                          f'sender = "hailong@xa-tan-lap.example"\n'
                          f'[mail]\nreport_recipients = ["chutich@xa-tan-lap.example", '
                          f'"pct@xa-tan-lap.example"]\nreport_day = {day}\nreport_hour = 7\n'
                          f'report_periods = "{periods}"\nattach_pdf = false\n'
                          '[documents]\nsigner_name = "Nguyễn Văn Minh"\n', store=store)


@both_stores
def test_monthly_and_quarterly_reports_once_per_period(tmp_path, server_store, smtp):
    inbox, port = smtp
    config = mail_config(tmp_path, port, store=server_store)
    store_ratings(config, [rating(4, at=day_start(date(2026, 11, 10)) + 9 * 3600 + i)
                           for i in range(1500)] +
                  [rating(1, at=day_start(date(2026, 11, 11)) + 9 * 3600)])
    db = connect(config.store)
    rollup.rebuild(db.conn)
    db.close()

    mailer = ReportMailer(config)
    # First start on 14 November: the latest closed quarter (bc-2026-Q3, 15/06-14/09)
    # was never sent, so it goes now; the latest month (bc-2026-10) too. Nothing older.
    assert mailer.send_due(at(date(2026, 11, 14), 9)) == ["month:bc-2026-10",
                                                         "quarter:bc-2026-Q3"]
    # 15 November, 06:00: the day, but before the hour.
    assert mailer.send_due(at(date(2026, 11, 15), 6)) == []
    # 07:00: November's official month (15/10-14/11) closed yesterday.
    assert mailer.send_due(at(date(2026, 11, 15), 7)) == ["month:bc-2026-11"]
    assert mailer.send_due(at(date(2026, 11, 15), 8)) == []
    mailer.stop()

    restarted = ReportMailer(config)  # a restart: nothing sent twice
    assert restarted.send_due(at(date(2026, 11, 20), 9)) == []
    # 15 December: December's month and the fourth quarter.
    assert restarted.send_due(at(date(2026, 12, 15), 7)) == ["month:bc-2026-12",
                                                            "quarter:bc-2026-Q4"]
    restarted.stop()

    assert len(inbox.messages) == 5
    assert inbox.envelopes[2] == ("hailong@xa-tan-lap.example",
                                  ["chutich@xa-tan-lap.example", "pct@xa-tan-lap.example"])
    month = inbox.messages[2]
    assert month["Subject"] == ("[Hài Lòng] Báo cáo Tháng 11/2026 (kỳ báo cáo 15/10/2026 – "
                                "14/11/2026) — UBND xã Tân Lập")
    text = month.get_body(("plain",)).get_content()
    assert "Số lượt đánh giá: 1.501" in text and "Tỷ lệ hài lòng: 99,9\u00a0%" in text
    assert "Số liệu tính đến ngày 14/11/2026" in text
    files = {p.get_filename(): p.get_content() for p in month.iter_attachments()}
    assert set(files) == {"bao-cao-hai-long-bc-2026-11.docx", "bao-cao-hai-long-bc-2026-11.xlsx"}
    d = docx.Document(__import__("io").BytesIO(files["bao-cao-hai-long-bc-2026-11.docx"]))
    assert "Nguyễn Văn Minh" in "\n".join(c.text for c in d.tables[-1].rows[0].cells)


@both_stores
def test_calendar_periods_and_the_running_thread(tmp_path, server_store, smtp):
    inbox, port = smtp
    config = mail_config(tmp_path, port, "calendar", day=2, store=server_store)
    now = at(date(2027, 1, 2), 9)
    with ReportMailer(config, clock=lambda: now):  # `hailong server run` starts it so
        wait_until(lambda: len(inbox.messages) == 2, timeout=60, message="two reports")
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert subjects == ["[Hài Lòng] Báo cáo Quý 4/2026 — UBND xã Tân Lập",
                        "[Hài Lòng] Báo cáo Tháng 12/2026 — UBND xã Tân Lập"]
    db = connect(config.store)
    rows = db.execute("SELECT kind, period FROM sent_reports ORDER BY kind").fetchall()
    db.close()
    assert rows == [("month", "2026-12"), ("quarter", "2026-Q4")]


def test_no_mail_settings_no_thread(tmp_path):
    config = load(tmp_path)
    mailer = ReportMailer(config).start()
    assert mailer._thread is None and mailer.send_due(time.time()) == []
    mailer.stop()


@both_stores
def test_send_reports_command(tmp_path, server_store, smtp):
    from click.testing import CliRunner

    from server.cli import server as server_group

    inbox, port = smtp
    mail_config(tmp_path, port, store=server_store)
    conf = str(tmp_path / "server.toml")
    runner = CliRunner()
    r = runner.invoke(server_group, ["send-reports", "--config", conf, "--dry-run"])
    assert r.exit_code == 0 and r.output.count("due: ") == 2 and not inbox.messages
    r = runner.invoke(server_group, ["send-reports", "--config", conf])
    assert r.exit_code == 0 and r.output.count("sent: ") == 2, r.output
    r = runner.invoke(server_group, ["send-reports", "--config", conf])
    assert r.exit_code == 0 and "nothing due" in r.output
    assert len(inbox.messages) == 2
