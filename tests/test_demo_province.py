"""Issue 12, item 6: ``hailong demo --province`` runs a province and its communes on
one machine. Two communes, each with its own broker, server and simulated kiosk,
forward to a province server on PostgreSQL (a database of this test's own); the
province comes to hold both communes' ratings, seeded and live, and no contact; Ctrl-C
stops every process the demo started."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests

from conftest import wait_until
from helpers import hailong
from province_support import PG_ADMIN

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SEEDED = 2000


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc: children started in sessions of their
    own are still its children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_demo_province_two_communes(tmp_path):
    database = f"hailong_t_demo_{secrets.token_hex(4)}"
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["HAILONG_PG"] = PG_ADMIN
    out = tmp_path / "demo.out"
    with open(out, "w") as f:
        demo = subprocess.Popen(
            [sys.executable, "-m", "hailong", "demo", "--province", "--communes", "2",
             "--kiosks", "1", "--every", "1", "--seed-ratings", str(SEEDED),
             "--duration", "600", "--state", str(state), "--pg-database", database],
            cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
    children: set[int] = set()
    try:
        wait_until(lambda: "Ctrl-C stops" in out.read_text() or demo.poll() is not None,
                   timeout=120, interval=0.5, message="the demo up")
        text = out.read_text()
        assert demo.poll() is None, text
        urls = dict(re.findall(r"^  (\S+)\s+(http://127\.0\.0\.1:\d+/)", text, re.M))
        assert set(urls) == {"xa-an-phu", "xa-binh-minh", "province"}, text
        assert "login chutich / hailong-demo" in text
        conf = state / "province" / "province.toml"
        assert f"province stats --config {conf}" in text

        def figures() -> dict:
            return json.loads(hailong("province", "stats", "--config", str(conf),
                                      "--json").stdout)

        # seeded and live ratings (the kiosks' come after the seeded ones) from both
        wait_until(lambda: all(figures()["by_commune"].get(c, 0) > SEEDED
                               for c in ("xa-an-phu", "xa-binh-minh")),
                   timeout=120, interval=2, message="both communes' live ratings forwarded")
        held = figures()
        assert held["contacts"] == 0 and held["ratings"] == held["distinct_ids"], held
        assert "login sonoivu / hailong-demo" in text
        province = requests.Session()  # the province dashboard asks for a login too
        province.post(urls["province"] + "login", timeout=10, headers={
            "Origin": urls["province"].rstrip("/")},
            data={"username": "sonoivu", "password": "hailong-demo"}).raise_for_status()
        page = province.get(urls["province"] + "?days=365", timeout=10).text
        assert "xa-an-phu" in page and "xa-binh-minh" in page
        # each demo commune has its own character (a good one, an average one), so the
        # ranking teaches something: their shares were within a point of each other
        with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + database) as conn:
            share = dict(conn.execute("SELECT commune, 100.0 * sum(satisfied) / sum(n) "
                                      "FROM daily_commune GROUP BY commune").fetchall())
            answered = conn.execute("SELECT count(DISTINCT commune) FROM daily_sipas"
                                    ).fetchone()[0]
        assert share["xa-an-phu"] - share["xa-binh-minh"] >= 5, share
        assert answered == 2  # the seeded history has SIPAS answers to show
        for c in ("xa-an-phu", "xa-binh-minh"):
            assert requests.get(urls[c] + "login", timeout=10).status_code == 200

        children = descendants(demo.pid)
        # 3 brokers, the province server, 2 commune servers, 2 uplinks, 1 kiosk screen
        assert len(children) >= 9, children
        started = time.monotonic()
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0
        stopping = time.monotonic() - started
        assert "demo stopped" in out.read_text()
        left = [p for p in children if alive(p)]
        assert not left, [Path(f"/proc/{p}/cmdline").read_bytes() for p in left]
        assert stopping < 15, f"{stopping:.0f} s to stop"
        # each stopped by itself, none SIGKILLed for taking too long
        for log in ("xa-an-phu/server.log", "xa-binh-minh/server.log",
                    "province/province.log"):
            assert "server stopped" in (state / log).read_text().splitlines()[-1], log
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        for p in children:
            if alive(p):
                os.kill(p, signal.SIGKILL)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_demo_characters_differ_and_the_default_seed_is_unchanged(tmp_path):
    from hailong.demo_province import CHARACTERS
    from server.ingest.seed import seed
    from server.ingest.store import connect
    shares = []
    for n, (_, options) in enumerate([(None, {})] + list(CHARACTERS)):
        db = connect(str(tmp_path / f"s{n}.db"))
        seed(db, 3000, commune="xa-t", now=1.78e9, **options)
        shares.append(db.execute("SELECT 100.0 * avg(score >= 3) FROM ratings").fetchone()[0])
        answers = db.execute("SELECT count(*) FROM survey_answers").fetchone()[0]
        assert (answers > 0) == bool(options.get("survey_share")), (n, answers)
        if n == 0:  # what `hailong demo` seeds: the same ratings as before characters
            first = db.execute("SELECT min(id), sum(score) FROM ratings").fetchone()
        db.close()
    default, good, average, problem = shares
    assert good - average >= 5 and average - problem >= 5, shares
    assert abs(default - average) < 0.01, shares  # the same seed: the same ratings
    # (taken from the seed before it had characters)
    assert tuple(first) == ("0197197c-688b-7000-ae2b-60308979ce7d", 10150), tuple(first)


def test_demo_province_says_when_postgresql_is_not_there(tmp_path):
    from hailong.broker import free_port
    env = {**os.environ, "HAILONG_PG": f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"}
    out = subprocess.run([sys.executable, "-m", "hailong", "demo", "--province", "--state",
                          str(tmp_path / "state")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith("Error: PostgreSQL is not reachable at postgresql://")
    assert len(out.stderr.strip().splitlines()) == 1 and "HAILONG_PG" in out.stderr
    out = subprocess.run([sys.executable, "-m", "hailong", "demo", "--communes", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--communes goes with --province" in out.stderr
