"""Issue 11: a truthful demo: without a display it says so and a live snapshot of the
kiosk's screen is one printed command away; its kiosks are enrolled and rate officials
on the roster; the printed commands run as shown; the dashboard keeps its port."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pygame

from conftest import wait_until
from server.web.serve import pick_port

ROOT = Path(__file__).resolve().parent.parent


def test_demo_without_a_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = tmp_path / "demo.out"
    with open(out, "w") as f:
        demo = subprocess.Popen([sys.executable, "-m", "hailong", "demo", "--state",
                                 str(tmp_path / "state"), "--kiosks", "2", "--every", "0.3",
                                 "--duration", "25"], cwd=ROOT, env=env, stdout=f,
                                stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "Ctrl-C stops" in out.read_text(), timeout=90, interval=0.5)
        text = out.read_text()
        assert "no display here" in text
        snapshot = next(line.strip() for line in text.splitlines() if "kiosk snapshot" in line)
        assert snapshot.startswith(".venv/bin/hailong ") or snapshot.startswith(sys.executable)
        argv = shlex.split(snapshot)
        argv[argv.index("--out") + 1] = str(tmp_path / "k01.png")

        def shot():  # the printed command, run as shown (from the checkout)
            return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                                  timeout=60).returncode == 0
        wait_until(shot, timeout=30, interval=1, message="a snapshot of k01's screen")
        image = pygame.image.load(str(tmp_path / "k01.png"))
        assert image.get_size() == (1024, 600)
        colours = {image.get_at((x, y))[:3] for x in range(0, 1024, 16) for y in range(0, 600, 16)}
        assert len(colours) > 3, "the screen is drawn, not blank"
        fleet_cmd = shlex.split(next(line.split("fleet", 1)[1].strip()
                                     for line in text.splitlines()
                                     if line.strip().startswith("fleet ")))
        assert fleet_cmd[0].endswith("hailong")
        demo.wait(timeout=90)
        rows = json.loads(subprocess.run([*fleet_cmd, "--json"], cwd=ROOT, capture_output=True,
                                         text=True, timeout=60).stdout)
    finally:
        if demo.poll() is None:
            demo.terminate()
            demo.wait(timeout=30)
    assert {r["id"] for r in rows if r["enrolled"]} >= {"k01", "k02"}
    from server.ingest.store import connect
    db = connect(tmp_path / "state" / "server.db")
    try:
        rated = {r[0] for r in db.execute(
            "SELECT DISTINCT official FROM ratings WHERE kiosk IN ('k01', 'k02') "
            "AND fingerprint NOT LIKE 'seed%'")}
        roster = {r[0] for r in db.execute("SELECT id FROM officials WHERE active = 1")}
    finally:
        db.close()
    assert rated and rated <= roster, rated - roster


def test_dashboard_port_is_kept_with_a_time_wait_socket():
    port = pick_port(preferred=0)
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.close()        # the server side closes first: its end waits in TIME-WAIT
    client.close()
    server.close()
    assert pick_port(preferred=port) == port
