"""Issue 11: defaults a technician expects: --config from HAILONG_CONFIG or
/etc/hailong, `kiosk simulate N`, a quiet doctor, progress on long work."""

from __future__ import annotations

import os
import subprocess
import sys

from hailong.demo import kiosk_toml, server_toml


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "hailong", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_config_from_the_environment_and_simulate_count(tmp_path):
    conf = tmp_path / "kiosk.toml"
    conf.write_text(kiosk_toml(kiosk="k01", commune="xa", store=str(tmp_path / "o.db"),
                               port=1))
    r = run("kiosk", "simulate", "7", env={"HAILONG_CONFIG": str(conf)})
    assert r.returncode == 0 and "recorded 7 ratings" in r.stdout, r.stderr
    r = run("kiosk", "simulate", "--count", "3", "--config", str(conf))
    assert r.returncode == 0 and "recorded 3 ratings" in r.stdout
    r = run("kiosk", "simulate", "--config", str(conf))
    assert r.returncode == 2 and "how many?" in r.stderr
    r = run("kiosk", "status", "--json", env={"HAILONG_CONFIG": str(conf)})
    assert '"pending": 10' in r.stdout
    # no --config and nothing installed: one line naming the default and the way out
    env = {k: v for k, v in os.environ.items() if k != "HAILONG_CONFIG"}
    r = subprocess.run([sys.executable, "-m", "hailong", "kiosk", "status"], env=env,
                       capture_output=True, text=True, timeout=60)
    if not os.path.exists("/etc/hailong/kiosk.toml"):
        assert r.returncode == 2 and "/etc/hailong/kiosk.toml does not exist" in r.stderr
        assert "HAILONG_CONFIG" in r.stderr and "Traceback" not in r.stderr


def test_doctor_is_quiet(tmp_path):
    conf = tmp_path / "kiosk.toml"
    conf.write_text(kiosk_toml(kiosk="k01", commune="xa", store=str(tmp_path / "o.db"),
                               port=1))
    # no dummy drivers: SDL tries ALSA and the XDG runtime folder, as on a bare Pi
    env = {k: v for k, v in os.environ.items()
           if k not in ("SDL_AUDIODRIVER", "SDL_VIDEODRIVER", "XDG_RUNTIME_DIR")}
    r = subprocess.run([sys.executable, "-m", "hailong", "kiosk", "doctor", "--config",
                        str(conf)], env=env, capture_output=True, text=True, timeout=120)
    assert "ALSA lib" not in r.stderr and "XDG_RUNTIME_DIR" not in r.stderr, r.stderr
    assert "sound" in r.stdout and "broker" in r.stdout


def test_seed_shows_progress(tmp_path):
    conf = tmp_path / "server.toml"
    conf.write_text(server_toml(commune="xa", store=str(tmp_path / "s.db"), port=1))
    r = run("server", "seed", "--config", str(conf), "--ratings", "30000")
    assert r.returncode == 0, r.stderr
    assert "10,000 of 30,000 ratings" in r.stderr and "to go" in r.stderr
    assert "rebuilding the daily figures" in r.stderr
