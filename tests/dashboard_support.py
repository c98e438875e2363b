"""Helpers for the dashboard tests: a server config and store in a temp folder, users
of each role, ratings inserted through the real store code, a logged-in test client."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

from server import accounts
from server.config import load_server_config
from server.ingest.store import Store
from sync import contract

PASSWORD = "correct horse battery"
ROLES = ("leader", "office", "technician")


def write_config(folder: Path, extra: str = "", web_port: int = 0, store=None) -> Path:
    """``store``: the ``server_store`` fixture's value (a PostgreSQL URL puts
    ``[store] url`` in); None or a path: SQLite at server.db."""
    url = f'url = "{store}"\n' if isinstance(store, str) else ""
    path = folder / "server.toml"
    path.write_text(f'[server]\ncommune = "xa-test"\ncommune_name = "UBND xã Tân Lập"\n\n'
                    f'[store]\npath = "server.db"\n{url}\n[web]\nhost = "127.0.0.1"\n'
                    f'port = {web_port}\n{extra}', encoding="utf-8")
    return path


def load(folder: Path, extra: str = "", store=None):
    return load_server_config(write_config(folder, extra, store=store))


def add_users(config) -> None:
    with Store(config.store) as store:
        for role in ROLES:
            accounts.add_user(store.db.conn, role, role, PASSWORD)


def rating(score: int, *, official: str = "cb-an", counter: str = "q1", kiosk: str = "k01",
           reasons: tuple[str, ...] = (), at: float | None = None, scale: int = 4,
           suspect: str | None = None, phone: str | None = None, dossier: str = "H001",
           procedure: str = "Đăng ký khai sinh", field: str = "Hộ tịch") -> bytes:
    at = time.time() if at is None else at
    record = {"id": str(uuid.uuid4()), "v": 1, "kiosk": kiosk, "commune": "xa-test",
              "counter": counter, "score": score, "scale": scale, "created_at": at,
              "clock_synced": True, "boot_id": str(uuid.uuid4()), "mono": 100.0,
              "official": official, "reasons": list(reasons), "dossier": dossier,
              "procedure": procedure, "field": field}
    if suspect:
        record["suspect"] = suspect
    if phone:
        record["contact"] = {"phone": phone, "consent": True,
                             "consent_text": "Tôi đồng ý được gọi lại"}
    return json.dumps(record).encode()


def store_ratings(config, raws: list[bytes], kiosk: str = "k01") -> list[contract.Rating]:
    """Through Store.add_ratings, as ingest stores them; returns the new ratings."""
    with Store(config.store) as store:
        with store.db.atomic():
            result = store.add_ratings("xa-test", kiosk, raws, time.time())
    return result.new


def login(client, role: str, password: str = PASSWORD):
    return client.post("/login", data={"username": role, "password": password})


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)
