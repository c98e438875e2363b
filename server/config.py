"""The server's settings (one declarative table) and how to load them."""

from __future__ import annotations

import re
from pathlib import Path

from hailong.errors import ConfigError
from hailong.settings import Config, Setting, load
from sync.contract import valid_id
from sync.mqtt import BROKER_SETTINGS

from server.ingest.door import DOOR_SETTINGS
from server.ingest.forward import PROVINCE_SETTINGS

SERVER_SETTINGS: tuple[Setting, ...] = (
    Setting("server", "commune", str, help="the commune's id, e.g. 'xa-tan-lap'; kiosks "
            "use the same id"),
    Setting("server", "commune_name", str, "", "the commune's name as printed on letters "
            "and reports, e.g. 'UBND xã Tân Lập'"),
    Setting("store", "path", Path, "hailong.db", "the server's SQLite file (relative to this "
            "file)"),
    Setting("store", "url", str, "", "a PostgreSQL database instead of the SQLite file, "
            "e.g. 'postgresql://hailong@localhost/hailong' (docs/postgresql.md); empty: "
            "SQLite at [store] path", secret=True),
    *BROKER_SETTINGS,
    Setting("ingest", "max_batch_messages", int, 64, "MQTT messages stored per transaction",
            minimum=1, maximum=1000),
    Setting("web", "host", str, "127.0.0.1", "address the dashboard listens on"),
    Setting("web", "port", int, 8080, "port the dashboard listens on", minimum=0,
            maximum=65535),
    Setting("fleet", "photos_dir", Path, "photos", "folder of officials' photos; the "
            "dashboard serves it at /photos/ for kiosks to fetch"),
    Setting("fleet", "photo_base_url", str, "", "URL kiosks fetch photos from; empty: "
            "http://<[web] host>:<[web] port>/photos/"),
    Setting("fleet", "tls_port", int, 0, "port of the broker's TLS listener; 0: none",
            minimum=0, maximum=65535),
    Setting("fleet", "tls_host", str, "", "address the TLS listener binds; empty: [broker] host"),
    Setting("fleet", "tls_names", list, ("localhost", "127.0.0.1"), "host names and "
            "addresses kiosks use to reach the broker (put in its TLS certificate)"),
    Setting("fleet", "max_queued_messages", int, 10000, "broker queue per offline client "
            "(mosquitto's default is 1000)", minimum=100),
    Setting("fleet", "reload_command", str, "", "run after an enrolment change so the broker "
            "rereads its password file, e.g. 'systemctl reload mosquitto'"),
    Setting("fleet", "push_interval", float, 2.0, "seconds between looks for roster changes "
            "to push to kiosks", minimum=0.1),
    Setting("web", "threads", int, 8, "dashboard worker threads (waitress)", minimum=1,
            maximum=64),
    Setting("web", "session_hours", float, 12.0, "a dashboard login lasts this long",
            minimum=0.1, maximum=24 * 30),
    Setting("web", "secure_cookies", bool, False, "mark the session cookie Secure (turn on "
            "when the dashboard is served over HTTPS)"),
    Setting("web", "rollup_rebuild_minutes", float, 360.0, "rebuild the daily figures from "
            "all ratings this often (picks up ratings re-placed in time)", minimum=1),
    Setting("followup", "low_at_or_below", int, 0, "a rating with this score or lower opens "
            "a follow-up case; 0 = the scale's 'dissatisfied' levels", minimum=0, maximum=5),
    Setting("followup", "deadline_days", float, 3.0, "working days to close a case before "
            "it is overdue (weekends and Vietnam's public holidays do not count; the "
            "deadline is 17:00 on the last day)", minimum=0.01),
    Setting("web", "lowest_min_ratings", int, 20, "ratings an official needs in the "
            "quarter to be listed among the overview's three lowest", minimum=1),
    Setting("alerts", "webhooks", list, (), "URLs each alert is POSTed to (body as in "
            "[alerts] style)"),
    Setting("alerts", "telegram_webhooks", list, (), "Telegram-bot sendMessage URLs "
            "(https://…/bot<TOKEN>/sendMessage, or a relay such as a Zalo bridge that takes "
            "the same {chat_id, text} body); each alert is POSTed there too"),
    Setting("alerts", "emails", list, (), "addresses each alert is e-mailed to (needs "
            "[smtp] host)"),
    Setting("alerts", "webhook_routes", list, (), "routes sent to [alerts] webhooks; empty: "
            "all. Routes: lowest-rating, low-rating, official-repeated, kiosk-offline, "
            "backlog, case-overdue, case-assigned, low-summary, alert-summary"),
    Setting("alerts", "telegram_routes", list, (), "routes sent to telegram_webhooks; "
            "empty: all"),
    Setting("alerts", "email_routes", list, (), "routes e-mailed to [alerts] emails; "
            "empty: all"),
    Setting("alerts", "immediate", list, ("lowest-rating", "official-repeated",
            "case-overdue", "case-assigned", "low-summary", "alert-summary",
            "kiosk-offline"),
            "routes sent at once; every other route waits for the daily digest"),
    Setting("alerts", "digest_hour", int, 16, "local hour the daily digest goes out",
            minimum=0, maximum=23),
    Setting("alerts", "summary_over", int, 10, "more new low ratings than this in one look "
            "(a first start, an outage) become one summary alert", minimum=1),
    Setting("alerts", "base_url", str, "", "the dashboard's address as leaders reach it, "
            "e.g. 'https://hailong.xa-tan-lap.gov.vn'; alerts link to <base_url>/cases/<id>"),
    Setting("alerts", "assignee_emails", list, (), "'username=address' pairs: an assignee "
            "is e-mailed when a case is given to them"),
    Setting("smtp", "host", str, "", "SMTP server for e-mail (alerts, reports); empty: no "
            "e-mail"),
    Setting("smtp", "port", int, 587, "SMTP port", minimum=1, maximum=65535),
    Setting("smtp", "username", str, "", "SMTP login; empty: no login"),
    Setting("smtp", "password", str, "", "SMTP password (or password_file, or "
            "HAILONG_SMTP_PASSWORD)", secret=True),
    Setting("smtp", "sender", str, "hailong@localhost", "From: address of e-mail sent"),
    Setting("smtp", "security", str, "starttls", "'starttls' (upgrade the connection), "
            "'tls' (SMTPS, usually port 465) or 'none'", choices=("none", "starttls", "tls")),
    Setting("alerts", "style", str, "json", "webhook body: plain JSON, or Telegram "
            "sendMessage style ({chat_id, text})", choices=("json", "telegram")),
    Setting("alerts", "telegram_chat_id", str, "", "chat_id for style = 'telegram'"),
    Setting("alerts", "official_low_count", int, 3, "alert when one official has this many "
            "low ratings within official_low_days", minimum=1),
    Setting("alerts", "official_low_days", int, 30, "the period for official_low_count",
            minimum=1),
    Setting("alerts", "kiosk_offline_minutes", float, 30.0, "alert when a kiosk has been "
            "offline this long", minimum=1),
    Setting("alerts", "backlog_over", int, 100, "alert when a kiosk reports more unsent "
            "ratings than this", minimum=1),
    Setting("alerts", "pin_failures", int, 5, "alert when a kiosk reports this many wrong "
            "technician PINs in 24 hours", minimum=1),
    Setting("alerts", "max_attempts", int, 8, "webhook tries per alert (backoff doubles)",
            minimum=1, maximum=30),
    # Issue 10: letters, printable reports and their e-mail (server/reports/letters.py, mailer.py).
    Setting("documents", "symbol", str, "UBND", "symbol after the number on letters, e.g. "
            "'UBND' prints 'Số:      /UBND' (the clerk writes the number)"),
    Setting("documents", "signer_capacity", str, "TM. ỦY BAN NHÂN DÂN", "first line of "
            "the signature block on letters and reports ('KT. CHỦ TỊCH' for a deputy)"),
    Setting("documents", "signer_title", str, "CHỦ TỊCH", "the signer's title under it, "
            "e.g. 'PHÓ CHỦ TỊCH'"),
    Setting("documents", "signer_name", str, "", "the signer's full name, printed under "
            "the room for the signature"),
    Setting("documents", "report_to", list, ("UBND tỉnh (Sở Nội vụ)",), "recipients "
            "listed under 'Nơi nhận' on the printable report"),
    Setting("mail", "report_recipients", list, (), "leaders' addresses the monthly and "
            "quarterly reports are sent to"),
    Setting("mail", "report_day", int, 15, "day of the month the reports are sent: the "
            "month's report for the official period that closed on the 14th, and in months "
            "3, 6, 9 and 12 the quarter's too", minimum=1, maximum=28),
    Setting("mail", "report_hour", int, 7, "local hour on report_day from which they are "
            "sent", minimum=0, maximum=23),
    Setting("mail", "report_periods", str, "official", "'official' (Decree 09/2019 "
            "periods, 15th to 14th) or 'calendar' (whole months and quarters)",
            choices=("official", "calendar")),
    Setting("mail", "attach_pdf", bool, True, "attach a PDF of the report (made with "
            "LibreOffice) beside the DOCX and XLSX"),
    Setting("feed", "expires_in", float, 600.0, "seconds a session (a transaction sent by "
            "the queue system or the counter page) stays usable when the request does not "
            "say; the kiosk does not use it after that", minimum=1, maximum=86400),
    Setting("feed", "dossier_pattern", str, r"[A-Za-z0-9][A-Za-z0-9._/-]{2,63}",
            "regular expression a whole dossier code (mã hồ sơ) must match; formats differ "
            r"by province and software, e.g. '\d{3}\.\d{2}\.\d{2}\.H\d{2}-\d{6}-\d{4}' "
            "for 000.31.12.H29-241123-0001"),
    Setting("privacy", "contact_retention_days", float, 30.0, "call-back phone numbers are "
            "deleted this many days after they were stored (Decree 13/2023)", minimum=0.01),
    Setting("web", "trusted_proxies", int, 0, "reverse proxies in front of the dashboard "
            "whose X-Forwarded-For gives the client's address (for the login throttle); "
            "0: none, the header is ignored (anyone could forge it)", minimum=0, maximum=5),
    *DOOR_SETTINGS,
    *PROVINCE_SETTINGS,
)


def load_server_config(path, **kw) -> Config:
    config = load(path, SERVER_SETTINGS, **kw)
    if not valid_id(config.server.commune):
        raise ConfigError(f"{config.path}: [server] commune: {config.server.commune!r} must be "
                          "lower-case letters, digits, '-' or '_' (it is part of MQTT topics)")
    url = config.store.url
    if url and not url.startswith(("postgresql://", "postgres://")):  # issue 12
        raise ConfigError(f"{config.path}: [store] url: must start with postgresql:// "
                          "(or leave it empty for SQLite at [store] path)")
    if config.province.enabled and not config.province.host:  # issue 12
        raise ConfigError(f"{config.path}: [province] host: required when forwarding to the "
                          "province is enabled")
    try:  # a bad pattern would refuse every session at run time: say it at start-up
        re.compile(config.feed.dossier_pattern)
    except re.error as e:
        raise ConfigError(f"{config.path}: [feed] dossier_pattern: not a regular expression "
                          f"({e})") from None
    return config
