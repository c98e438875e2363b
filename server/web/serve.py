"""The dashboard's HTTP server: waitress (pure Python, threaded) on a background
thread, bound to ``[web] host`` / ``port``, stopped with the server process."""

from __future__ import annotations

import logging
import threading
import time

from waitress.server import create_server

from server.web import create_app

log = logging.getLogger(__name__)


class WebServer:
    def __init__(self, config, publisher=None):
        self.config = config
        self.app = create_app(config, publisher)
        self._server = create_server(self.app, host=config.web.host, port=config.web.port,
                                     threads=config.web.threads, ident="hailong")
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.effective_port

    @property
    def url(self) -> str:
        return f"http://{self.config.web.host}:{self.port}/"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self._thread.start()
        log.info("dashboard on %s", self.url)

    def stop(self) -> None:
        self._server.close()
        if not self._thread:
            return
        # close() only stops new connections; waitress's loop runs while any is open,
        # and a browser's idle keep-alive one stays up to channel_timeout (120 s). So
        # close the idle ones (waitress's own maintenance() way), again as requests
        # under way finish.
        deadline = time.monotonic() + 10
        while self._thread.is_alive() and time.monotonic() < deadline:
            for channel in list(self._server.active_channels.values()):
                if not channel.requests:
                    channel.will_close = True
            self._thread.join(timeout=0.1)

    def __enter__(self) -> WebServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def pick_port(host: str = "127.0.0.1", preferred: int = 8080) -> int:
    """``preferred`` if it is free, else any free port (for the demo)."""
    import socket
    for port in (preferred, 0):
        with socket.socket() as s:
            # as waitress binds (it sets SO_REUSEADDR too): a TIME-WAIT socket left by
            # the last run must not move the dashboard off 8080 (issue 11)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port")
