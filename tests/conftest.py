"""Shared fixtures: a real mosquitto on a free port, configs written per test, and
helpers to run ``hailong`` processes and wait for things to happen."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hailong.broker import LocalBroker, free_port
from hailong.demo import kiosk_toml, server_toml

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

COMMUNE = "xa-test"


@pytest.fixture
def broker(tmp_path):
    """A fresh mosquitto per test. Its queue limit is set far below the test volumes on
    purpose: delivery must not depend on the broker holding messages."""
    with LocalBroker(tmp_path / "broker", extra="max_queued_messages 100") as b:
        yield b


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message or predicate}")
        time.sleep(interval)


class Proc:
    """A ``python -m hailong ...`` child process, logging to a file."""

    def __init__(self, args: list[str], log: Path):
        self.args, self.log = args, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        out = open(self.log, "ab")
        self.popen = subprocess.Popen([sys.executable, "-m", "hailong", *self.args],
                                      stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        out.close()
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye, no cleanup (the fault the tests are about)."""
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_for_log(self, text: str, timeout: float = 30.0) -> Proc:
        """Wait until the process has logged ``text`` (e.g. "ingest subscribed")."""
        wait_until(lambda: self.log.exists() and text in self.log.read_text(errors="replace"),
                   timeout=timeout, message=f"{text!r} in {self.log.name}")
        return self

    def alive(self) -> bool:
        return bool(self.popen) and self.popen.poll() is None


@pytest.fixture
def procs():
    started: list[Proc] = []

    def start(args: list[str], log: Path) -> Proc:
        p = Proc(args, log).start()
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def store_engine(request) -> str:
    """The server store's engine: "sqlite" unless a test is parametrized over both
    (``helpers.both_stores``)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def server_store(tmp_path, store_engine):
    """Where the test's server store lives: a SQLite path, or the URL of a throw-away
    PostgreSQL database (created here, dropped after the test, issue 12)."""
    if store_engine == "sqlite":
        yield tmp_path / "server.db"
        return
    from province_support import TempDatabase
    from server.ingest import pg
    with TempDatabase() as database:
        try:
            yield database.url
        finally:
            pg.close_pool(database.url)  # before the DROP forces our connections out


@pytest.fixture
def site(tmp_path, broker, server_store):
    """Write a server config and kiosk configs against the test broker."""

    class Site:
        folder = tmp_path
        commune = COMMUNE

        def __init__(self):
            self.server_conf = tmp_path / "server.toml"
            self.web_port = free_port()
            self.store = server_store  # a SQLite path or a PostgreSQL URL
            url = server_store if isinstance(server_store, str) else ""
            self.server_conf.write_text(server_toml(
                commune=COMMUNE, store=str(tmp_path / "server.db"), port=broker.port,
                web_port=self.web_port, store_url=url))

        def kiosk(self, kiosk_id: str, *, clock: str = "synced", extra: str = "") -> Path:
            path = tmp_path / f"kiosk-{kiosk_id}.toml"
            path.write_text(kiosk_toml(kiosk=kiosk_id, commune=COMMUNE,
                                       store=str(tmp_path / f"kiosk-{kiosk_id}.db"),
                                       port=broker.port, clock=clock, extra=extra))
            return path

    return Site()
