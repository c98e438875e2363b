"""The kiosk's settings (one declarative table) and how to load them.

``hailong kiosk run`` and ``hailong sync run`` read the same file: the uplink needs
the kiosk's identity, its outbox and the broker.
"""

from __future__ import annotations

from pathlib import Path

from hailong.errors import ConfigError
from hailong.settings import Config, Setting, load
from sync.contract import valid_id
from sync.mqtt import BROKER_SETTINGS

KIOSK_SETTINGS: tuple[Setting, ...] = (
    Setting("kiosk", "id", str, help="this kiosk's id, e.g. 'k01' (letters, digits, - and _)"),
    Setting("kiosk", "commune", str, help="the commune's id, e.g. 'xa-tan-lap'"),
    Setting("kiosk", "counter", str, help="the counter (quầy) this kiosk stands at, e.g. 'q1'"),
    Setting("kiosk", "scale", int, 4, "rating levels shown: 3, 4 or 5", minimum=3, maximum=5),
    Setting("store", "path", Path, "outbox.db", "the outbox SQLite file (relative to this file)"),
    *BROKER_SETTINGS,
    Setting("sync", "batch_size", int, 250, "ratings per MQTT message", minimum=1, maximum=1000),
    Setting("sync", "window", int, 8, "batches in flight before waiting for acks",
            minimum=1, maximum=64),
    Setting("sync", "ack_timeout", float, 10.0, "seconds before an unacked batch is re-sent; "
            "doubles each try up to backoff_max", minimum=0.5),
    Setting("sync", "backoff_max", float, 60.0, "longest wait between re-sends", minimum=1.0),
    Setting("sync", "seal_after", float, 180.0, "seconds after which an unfinished "
            "follow-up is sent as it is", minimum=5.0),
    Setting("sync", "status_interval", float, 30.0, "seconds between status messages",
            minimum=1.0),
    Setting("sync", "keep_acked_days", float, 30.0, "days to keep acked ratings on the kiosk",
            minimum=0.0),
    Setting("clock", "assume", str, "system", "'system' reads the kernel's NTP state; "
            "'synced' or 'unsynced' override it", choices=("system", "synced", "unsynced")),
)


def load_kiosk_config(path, **kw) -> Config:
    config = load(path, KIOSK_SETTINGS, **kw)
    _check_ids(config)
    return config


def _check_ids(config: Config) -> None:
    for key in ("id", "commune", "counter"):
        value = config.kiosk[key]
        if not valid_id(value):
            raise ConfigError(f"{config.path}: [kiosk] {key}: {value!r} must be lower-case "
                              "letters, digits, '-' or '_' (it is part of MQTT topics)")
