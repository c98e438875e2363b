"""Helpers for tests that look into the stores directly (real SQLite files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import load_kiosk_config
from sync.outbox import Outbox
from kiosk.recorder import Recorder
from kiosk.simulate import simulate


# Run a test on both server store engines (issue 12): it takes the ``server_store``
# fixture (or ``site``, which uses it) and gets a SQLite file, then a PostgreSQL database.
both_stores = pytest.mark.parametrize("store_engine", ["sqlite", "postgresql"],
                                      indirect=True)


def store_setting(server_store) -> dict:
    """The ``[store]`` table of a server config for ``server_store``."""
    if isinstance(server_store, str):
        return {"url": server_store}
    return {"path": str(server_store)}


def store_engine_of(server_store) -> str:
    return "postgresql" if isinstance(server_store, str) else "sqlite"


def hailong(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hailong", *args], capture_output=True,
                          text=True, check=check, timeout=120)


def server_stats(server_conf: Path) -> dict:
    return json.loads(hailong("server", "stats", "--config", str(server_conf), "--json").stdout)


def kiosk_status(kiosk_conf: Path) -> dict:
    return json.loads(hailong("kiosk", "status", "--config", str(kiosk_conf), "--json").stdout)


def record(kiosk_conf: Path, count: int, seed: int | None = None) -> list[str]:
    """Record ``count`` ratings in this process through the citizen's path."""
    config = load_kiosk_config(kiosk_conf)
    with Outbox(config.store.path) as outbox:
        return simulate(Recorder.from_config(config, outbox), count, seed=seed)


def outbox_ids(kiosk_conf: Path) -> set[str]:
    config = load_kiosk_config(kiosk_conf)
    with Outbox(config.store.path) as outbox:
        return {r[0] for r in outbox.db.execute("SELECT id FROM ratings")}


def server_ids(server_db: Path) -> list[str]:
    from server.ingest.store import connect
    db = connect(server_db)
    try:
        return [r[0] for r in db.execute("SELECT id FROM ratings")]
    finally:
        db.close()
