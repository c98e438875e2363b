"""config/pi/update.sh: versioned releases, a `current` symlink, the outbox kept and
backed up, rollback by hand and automatic rollback when a release does not start.

Run in a temp prefix with stand-ins for systemctl and for the venv build (making a
real venv needs the network; install.sh on a Pi does that part)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from hailong.demo import kiosk_toml
from helpers import record

ROOT = Path(__file__).resolve().parent.parent
UPDATE = ROOT / "config" / "pi" / "update.sh"

SYSTEMCTL = """#!/bin/bash
echo "$*" >> "$LOG"
# a release whose version contains "broken" never becomes active
if [ "$1" = is-active ] && readlink "$HAILONG_PREFIX/current" | grep -q broken; then exit 3; fi
exit 0
"""
BUILD = """#!/bin/bash
mkdir -p "$2/bin"
printf '#!/bin/sh\\necho "hailong, version %s"\\n' "$(basename "$2")" > "$2/bin/hailong"
chmod +x "$2/bin/hailong"
"""


@pytest.fixture
def machine(tmp_path):
    for name, text in (("systemctl", SYSTEMCTL), ("build", BUILD)):
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    env = {**os.environ, "HAILONG_PREFIX": str(tmp_path / "opt"),
           "HAILONG_STATE": str(tmp_path / "state"), "SYSTEMCTL": str(tmp_path / "systemctl"),
           "HAILONG_BUILD_RELEASE": str(tmp_path / "build"), "LOG": str(tmp_path / "calls"),
           "HAILONG_UNITS": "hailong-kiosk hailong-sync", "HAILONG_START_TIMEOUT": "2"}

    def update(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(["bash", str(UPDATE), *args], env=env, capture_output=True,
                              text=True, timeout=60)
        assert not check or proc.returncode == 0, proc.stderr
        return proc

    def source(version: str) -> Path:
        src = tmp_path / f"src-{version}"
        (src / "hailong").mkdir(parents=True, exist_ok=True)
        (src / "hailong" / "__init__.py").write_text(f'__version__ = "{version}"\n')
        return src

    update.source = source
    update.opt = tmp_path / "opt"
    update.calls = tmp_path / "calls"
    return update


def current(opt: Path) -> str:
    return os.readlink(opt / "current")


def test_update_keeps_the_outbox_and_rolls_back(machine, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    conf = tmp_path / "kiosk.toml"
    conf.write_text(kiosk_toml(kiosk="k01", commune="xa", store=str(state / "outbox.db"),
                               port=1883))
    ids = set(record(conf, 25, seed=1))

    machine("--source", str(machine.source("0.1.0")), "--no-restart")
    assert current(machine.opt) == "releases/0.1.0"
    machine("--source", str(machine.source("0.2.0")))
    assert current(machine.opt) == "releases/0.2.0"
    assert (machine.opt / "previous").read_text().strip() == "0.1.0"
    calls = machine.calls.read_text().splitlines()
    assert calls.index("stop hailong-kiosk.service") < calls.index(
        "restart hailong-kiosk.service")

    # the outbox is where it was, untouched; a consistent copy was made before the switch
    with sqlite3.connect(state / "outbox.db") as db:
        assert {r[0] for r in db.execute("SELECT id FROM ratings")} == ids
    backups = sorted((state / "backups").glob("outbox-*-before-0.2.0.db"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as db:
        assert {r[0] for r in db.execute("SELECT id FROM ratings")} == ids

    machine("--rollback")
    assert current(machine.opt) == "releases/0.1.0"
    assert "current: 0.1.0" in machine("--list").stdout


def test_a_release_that_does_not_start_is_rolled_back(machine):
    machine("--source", str(machine.source("0.2.0")))
    proc = machine("--source", str(machine.source("0.3.0-broken")), check=False)
    assert proc.returncode == 1 and "rolled back to 0.2.0" in proc.stderr
    assert current(machine.opt) == "releases/0.2.0"
    # installing the same version again gets a release of its own (nothing overwritten)
    machine("--source", str(machine.opt.parent / "src-0.2.0"))
    assert current(machine.opt).startswith("releases/0.2.0.")


def test_install_script_refuses_read_only_root_without_a_state_device():
    proc = subprocess.run(["bash", str(ROOT / "config" / "pi" / "install.sh"),
                           "--read-only-root"], capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    if os.geteuid() == 0:
        assert "--state-device" in proc.stderr
    for script in ("install.sh", "update.sh"):
        assert subprocess.run(["bash", "-n", str(ROOT / "config" / "pi" / script)]).returncode == 0
