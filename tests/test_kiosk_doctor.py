"""``hailong kiosk doctor`` against a real broker: one JSON object, honest statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hailong.demo import kiosk_toml


def doctor(conf, *extra, env=None):
    return subprocess.run([sys.executable, "-m", "hailong", "kiosk", "doctor", "--config",
                           str(conf), *extra], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SDL_VIDEODRIVER": "dummy", **(env or {})})


def test_doctor_json(tmp_path, broker):
    conf = tmp_path / "k.toml"
    conf.write_text(kiosk_toml(kiosk="k01", commune="xa-test", store=str(tmp_path / "k.db"),
                               port=broker.port, extra='[display]\nmode = "window"\n'))
    result = doctor(conf, "--json")
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert set(checks) >= {"display", "touch", "gpio", "font", "clock", "disk", "outbox",
                           "broker", "sound"}
    assert checks["font"]["status"] == "ok" and ".ttf" in checks["font"]["detail"]
    assert checks["broker"]["status"] == "ok", checks["broker"]
    assert checks["display"]["status"] == "warn"  # a dummy driver in window mode
    assert report["ok"] is True and result.returncode == 0


def test_doctor_fails_on_broken_gpio_and_blind_fullscreen(tmp_path, broker):
    conf = tmp_path / "k.toml"
    conf.write_text(kiosk_toml(kiosk="k01", commune="xa-test", store=str(tmp_path / "k.db"),
                               port=broker.port, extra='[display]\nmode = "fullscreen"\n'
                               '[gpio]\npin_factory = "rpigpio"\nbuttons = [5, 6, 13, 19]\n'))
    result = doctor(conf)
    assert result.returncode == 1
    lines = {line.split()[1]: line for line in result.stdout.splitlines()}
    assert lines["gpio"].startswith("FAIL") and lines["display"].startswith("FAIL")
