"""The province server's settings (one declarative table) and how to load them."""

from __future__ import annotations

from pathlib import Path

from hailong.errors import ConfigError
from hailong.settings import Config, Setting, load
from sync.mqtt import BROKER_SETTINGS

PROVINCE_SERVER_SETTINGS: tuple[Setting, ...] = (
    Setting("province", "name", str, "", "the province's name, e.g. 'Sở Nội vụ tỉnh Lào Cai'"),
    Setting("store", "url", str, help="the PostgreSQL database, e.g. "
            "'postgresql://hailong@127.0.0.1:5432/hailong_province'"),
    Setting("store", "pool_size", int, 4, "connections kept open to PostgreSQL",
            minimum=1, maximum=64),
    *BROKER_SETTINGS,
    Setting("ingest", "max_batch_messages", int, 64, "forwarded messages stored per "
            "transaction", minimum=1, maximum=1000),
    Setting("web", "host", str, "127.0.0.1", "address the province dashboard listens on "
            "(behind a TLS proxy when it is reached across a network)"),
    Setting("web", "port", int, 8090, "port of the province dashboard; 0: no dashboard",
            minimum=0, maximum=65535),
    Setting("web", "min_ratings", int, 30, "ratings a commune needs in the period to be "
            "ranked, a month or quarter of its trend to show shares, a SIPAS factor "
            "to show an index (fewer say too little)", minimum=1),
    Setting("web", "min_official_ratings", int, 30, "ratings an official needs in the "
            "period before a province-admin sees that official's figures", minimum=5),
    Setting("web", "session_hours", float, 8.0, "how long a dashboard login lasts",
            minimum=0.1, maximum=720),
    Setting("web", "secure_cookies", bool, False, "mark the session cookie Secure (set "
            "it when the dashboard is served over HTTPS)"),
    Setting("broker_files", "dir", Path, "broker", "folder where `hailong province "
            "add-commune` writes the province broker's passwd and acl files (relative to "
            "this file)"),
    Setting("broker_files", "reload_command", str, "", "run after add-commune so the broker "
            "rereads its password file, e.g. 'systemctl reload mosquitto'"),
)


def load_province_config(path, **kw) -> Config:
    config = load(path, PROVINCE_SERVER_SETTINGS, **kw)
    if not config.store.url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{config.path}: [store] url: expected postgresql://…, got "
                          f"{config.store.url!r}")
    if not config.broker.username or "." not in config.broker.username:
        # a username without a dot could be a commune id, which the ACL patterns serve
        raise ConfigError(f"{config.path}: [broker] username: the province server needs "
                          "its own account with a dot in it, e.g. 'hailong.province'")
    return config
