"""The unit files in systemd/: valid for systemd (``systemd-analyze verify``), run as
a dedicated user with hardening, and the processes they start really speak sd_notify
(Type=notify + WatchdogSec would otherwise kill them)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import wait_until

UNITS = Path(__file__).resolve().parent.parent / "systemd"
NAMES = ("hailong-kiosk.service", "hailong-sync.service", "hailong-server.service")
INSTALLED = "/opt/hailong/current/bin/hailong"


def directives(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not "
                    "installed here (no systemd); the units are checked on a Pi / server")
def test_units_pass_systemd_analyze_verify(tmp_path):
    # verify checks that ExecStart's program exists: point it at this checkout's
    # hailong instead of the Pi's /opt/hailong/current (not installed on this machine)
    here = str(Path(sys.executable).with_name("hailong"))
    for name in NAMES:
        (tmp_path / name).write_text((UNITS / name).read_text().replace(INSTALLED, here))
    proc = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in NAMES)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "", proc.stderr   # no unknown keys, no bad values


@pytest.mark.parametrize("name", NAMES)
def test_units_run_unprivileged_hardened_and_restart(name):
    d = directives(UNITS / name)
    assert d["User"] == ["hailong"] and d["Restart"] == ["always"]
    assert d["Type"] == ["notify"] and d["WatchdogSec"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "ProtectHome": "yes", "PrivateTmp": "yes",
                       "ReadWritePaths": "/var/lib/hailong", "CapabilityBoundingSet": ""
                       }.items():
        assert d.get(key) == [value], (name, key)
    assert d["ExecStart"][0].startswith(INSTALLED)
    assert "--config /etc/hailong/" in d["ExecStart"][0]
    assert any(v.startswith("-/etc/hailong/") for v in d.get("EnvironmentFile", []))


def test_kiosk_unit_drives_the_screen_without_a_desktop():
    d = directives(UNITS / "hailong-kiosk.service")
    assert "SDL_VIDEODRIVER=kmsdrm" in d["Environment"]
    assert set(d["SupplementaryGroups"][0].split()) >= {"video", "input", "gpio", "render"}
    assert d["RestrictAddressFamilies"] == ["AF_UNIX AF_NETLINK"]  # the UI has no network
    dropin = (UNITS / "mosquitto.service.d" / "hailong.conf").read_text()
    assert "ExecStart=\nExecStart=/usr/sbin/mosquitto -c /etc/hailong/broker/mosquitto.conf" \
        in dropin


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    heard: list[str] = []

    def received() -> list[str]:
        try:
            while True:
                heard.append(sock.recv(256).decode())
        except (TimeoutError, BlockingIOError):
            return heard
    yield received
    sock.close()


@pytest.mark.parametrize("part", ["sync", "server"])
def test_processes_say_ready_and_feed_the_watchdog(part, site, procs, notify_socket):
    conf = site.kiosk("k01") if part == "sync" else site.server_conf
    procs([part, "run", "--config", str(conf)], site.folder / f"{part}.log")
    wait_until(lambda: "READY=1" in notify_socket() and
               notify_socket().count("WATCHDOG=1") >= 2, timeout=30,
               message=f"{part}: READY=1 and WATCHDOG=1 on NOTIFY_SOCKET")
