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

    def update(*args: str, check: bool = True, extra_env=None) -> subprocess.CompletedProcess:
        proc = subprocess.run(["bash", str(UPDATE), *args], env={**env, **(extra_env or {})},
                              capture_output=True,
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
    # after the automatic rollback "previous" is still the release before (issue 11)
    assert not (machine.opt / "previous").exists()
    # the same source again: nothing changed, nothing built
    proc = machine("--source", str(machine.opt.parent / "src-0.2.0"))
    assert "nothing changed" in proc.stdout and current(machine.opt) == "releases/0.2.0"
    # the same version with changed code gets a release of its own (nothing overwritten)
    src = machine.opt.parent / "src-0.2.0"
    (src / "hailong" / "extra.py").write_text("# a fix\n")
    machine("--source", str(src))
    assert current(machine.opt).startswith("releases/0.2.0.")


def test_install_script_refuses_read_only_root_without_a_state_device():
    proc = subprocess.run(["bash", str(ROOT / "config" / "pi" / "install.sh"),
                           "--read-only-root"], capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    if os.geteuid() == 0:
        assert "--state-device" in proc.stderr
    for script in ("install.sh", "update.sh"):
        assert subprocess.run(["bash", "-n", str(ROOT / "config" / "pi" / script)]).returncode == 0


def test_rollback_after_a_failed_update_keeps_previous(machine):
    machine("--source", str(machine.source("0.1.0")))
    machine("--source", str(machine.source("0.2.0")))
    assert (machine.opt / "previous").read_text().strip() == "0.1.0"
    proc = machine("--source", str(machine.source("0.3.0-broken")), check=False)
    assert proc.returncode == 1 and "rolled back to 0.2.0" in proc.stderr
    assert (machine.opt / "previous").read_text().strip() == "0.1.0"
    machine("--rollback")  # still possible, to the one before
    assert current(machine.opt) == "releases/0.1.0"


def test_argument_errors_are_one_clear_line(machine):
    for args, said in ((["--source"], "--source needs a value"),
                       (["--source", "--no-restart"], "--source needs a value"),
                       (["--frobnicate"], "unknown option: --frobnicate"),
                       (["--keep", "x", "--list"], "--keep is a number"),
                       ([], "say --source PATH")):
        proc = machine(*args, check=False)
        assert proc.returncode == 2 and said in proc.stderr, (args, proc.stderr)
        assert "unbound variable" not in proc.stderr
    usage = machine("--help").stdout
    assert "--rollback" in usage and "set -euo" not in usage
    for flag in ("--role", "--bundle", "--source", "--state-device"):
        proc = subprocess.run(["bash", str(ROOT / "config" / "pi" / "install.sh"), flag],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2 and f"{flag} needs a value" in proc.stderr, proc.stderr
    proc = subprocess.run(["bash", str(ROOT / "config" / "pi" / "install.sh"), "--bogus"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "unknown option: --bogus" in proc.stderr
    help_text = subprocess.run(["bash", str(ROOT / "config" / "pi" / "install.sh"), "--help"],
                               capture_output=True, text=True, timeout=30).stdout
    assert "--python" in help_text and "set -euo" not in help_text


def test_list_works_with_nothing_installed(machine):
    proc = machine("--list")
    assert "no release installed" in proc.stdout


def test_old_releases_are_pruned(machine):
    for minor in range(1, 6):
        machine("--source", str(machine.source(f"0.{minor}.0")), "--keep", "2")
    kept = sorted(p.name for p in (machine.opt / "releases").iterdir())
    assert kept == ["0.4.0", "0.5.0"], kept
    assert current(machine.opt) == "releases/0.5.0"
    assert (machine.opt / "previous").read_text().strip() == "0.4.0"


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to the service user needs root")
def test_release_the_service_user_cannot_run_is_refused(machine, tmp_path):
    env_user = {"HAILONG_USER": "nobody"}
    # the test's folders are root's 0700: nobody cannot even reach the release
    proc = machine("--source", str(machine.source("0.1.0")), extra_env=env_user, check=False)
    assert proc.returncode == 1 and "not as the service user nobody" in proc.stderr
    assert not (machine.opt / "current").exists()
    # made reachable, it passes as nobody too
    for p in [tmp_path, *tmp_path.parents]:
        if str(p).startswith("/tmp"):
            p.chmod(p.stat().st_mode | 0o055)
    machine("--source", str(machine.source("0.1.0")), extra_env=env_user)
    assert current(machine.opt) == "releases/0.1.0"
