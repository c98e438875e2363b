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
)


def load_server_config(path, **kw) -> Config:
    config = load(path, SERVER_SETTINGS, **kw)
    if not valid_id(config.server.commune):
        raise ConfigError(f"{config.path}: [server] commune: {config.server.commune!r} must be "
                          "lower-case letters, digits, '-' or '_' (it is part of MQTT topics)")
    return config
