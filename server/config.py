"""The server's settings (one declarative table) and how to load them."""

from __future__ import annotations

from pathlib import Path

from hailong.errors import ConfigError
from hailong.settings import Config, Setting, load
from sync.contract import valid_id
from sync.mqtt import BROKER_SETTINGS

SERVER_SETTINGS: tuple[Setting, ...] = (
    Setting("server", "commune", str, help="the commune's id, e.g. 'xa-tan-lap'; kiosks "
            "use the same id"),
    Setting("server", "commune_name", str, "", "the commune's name as printed on letters "
            "and reports, e.g. 'UBND xã Tân Lập'"),
    Setting("store", "path", Path, "hailong.db", "the server's SQLite file (relative to this "
            "file)"),
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
    Setting("followup", "deadline_days", float, 3.0, "days to close a case before it is "
            "escalated", minimum=0.01),
    Setting("alerts", "webhooks", list, (), "URLs each alert is POSTed to"),
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
    Setting("privacy", "contact_retention_days", float, 30.0, "call-back phone numbers are "
            "deleted this many days after they were stored (Decree 13/2023)", minimum=0.01),
)


def load_server_config(path, **kw) -> Config:
    config = load(path, SERVER_SETTINGS, **kw)
    if not valid_id(config.server.commune):
        raise ConfigError(f"{config.path}: [server] commune: {config.server.commune!r} must be "
                          "lower-case letters, digits, '-' or '_' (it is part of MQTT topics)")
    return config
