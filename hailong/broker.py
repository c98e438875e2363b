"""A private mosquitto on a free loopback port, for the demo, the tests and the
benchmarks. Production uses the system broker with a generated config
(``hailong server broker-config``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from hailong.errors import HailongError


class BrokerError(HailongError, RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)),
        None)
    if not found:
        raise BrokerError("mosquitto is not installed: run `make setup` "
                          "(or `apt-get install mosquitto`)")
    return found


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BrokerError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


class LocalBroker:
    """``with LocalBroker(folder) as broker: broker.port``. ``extra`` is appended to the
    config (e.g. ``max_queued_messages 100``); ``conf`` replaces it entirely."""

    def __init__(self, folder: str | os.PathLike, *, port: int | None = None,
                 extra: str = "", conf: str | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.conf_path = self.folder / "mosquitto.conf"
        self.log_path = self.folder / "mosquitto.log"
        self.conf_path.write_text(conf if conf is not None else (
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            f"{extra}\n"))
        self.process: subprocess.Popen | None = None

    def start(self) -> LocalBroker:
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen([mosquitto_binary(), "-c", str(self.conf_path)],
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        try:
            wait_for_port(self.host, self.port)
        except BrokerError:
            self.stop()
            raise BrokerError(f"mosquitto did not start; see {self.log_path}") from None
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self._log.close()
        self.process = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
