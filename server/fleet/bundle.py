"""The config bundle ``hailong server add-kiosk`` writes for one kiosk.

A folder to copy to the Pi: ``kiosk.toml`` (the ARCHITECTURE.md keys, with the
kiosk's own broker username and password, mode 0600) and, when the broker has a TLS
listener, ``ca.crt`` (the commune CA the kiosk verifies the broker with). By default
the paths in it work where it was written (handy to try a kiosk on the server);
``for_pi`` points them at the Pi layout (/etc/hailong, /var/lib/hailong).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

PI_ETC = Path("/etc/hailong")
PI_STATE = Path("/var/lib/hailong")


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML string


def write_bundle(out: Path, *, kiosk: str, commune: str, counter: str, host: str, port: int,
                 username: str, password: str, ca: Path | None = None,
                 for_pi: bool = False) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    tls_line = ""
    if ca is not None:
        shutil.copyfile(ca, out / "ca.crt")
        ca_path = PI_ETC / "ca.crt" if for_pi else (out / "ca.crt").resolve()
        tls_line = f"tls_ca = {_q(str(ca_path))}\n"
    store = PI_STATE / "outbox.db" if for_pi else Path("outbox.db")
    text = (
        f"# Kiosk {kiosk} at counter {counter} of commune {commune}.\n"
        f"# Made by `hailong server add-kiosk` on {time.strftime('%Y-%m-%d %H:%M')}.\n"
        "# It holds this kiosk's broker password: keep it readable by the hailong user\n"
        "# only (install.sh does), and never commit it anywhere.\n\n"
        f"[kiosk]\nid = {_q(kiosk)}\ncommune = {_q(commune)}\ncounter = {_q(counter)}\n\n"
        f"[store]\npath = {_q(str(store))}\n\n"
        f"[broker]\nhost = {_q(host)}\nport = {port}\n"
        f"username = {_q(username)}\npassword = {_q(password)}\n{tls_line}")
    path = out / "kiosk.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)  # also when it already existed with wider rights
    return path
