"""``hailong kiosk run`` as a process: headless start and stop, refusing to run blind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from kiosk_ui_support import write_config


def test_headless_run_starts_and_stops(tmp_path):
    conf = write_config(tmp_path)
    log = tmp_path / "kiosk.log"
    with open(log, "wb") as out:
        p = subprocess.Popen([sys.executable, "-m", "hailong", "kiosk", "run", "--config",
                              str(conf), "--headless"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "first frame" not in log.read_text() and time.monotonic() < deadline:
            assert p.poll() is None, log.read_text()
            time.sleep(0.1)
        assert "first frame" in log.read_text()
        assert "covers every UI string" in log.read_text()
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=20) == 0, log.read_text()


def test_fullscreen_refuses_a_blind_driver(tmp_path):
    conf = write_config(tmp_path, '[display]\nmode = "fullscreen"\n')
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "hailong", "kiosk", "run", "--config",
                             str(conf)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert "shows nothing" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_size_is_one_line(tmp_path):
    conf = write_config(tmp_path, '[display]\nsize = "big"\n')
    result = subprocess.run([sys.executable, "-m", "hailong", "kiosk", "run", "--config",
                             str(conf), "--headless"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "WIDTHxHEIGHT" in result.stderr
