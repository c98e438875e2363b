"""The dashboard stops at once with browsers connected: an idle keep-alive connection
(a browser's, the demo's queue system's) kept waitress's loop running, so every stop
of ``hailong server run`` waited the full 10 s join, and the demo's Ctrl-C then
SIGKILLed a commune server that had not finished stopping."""

from __future__ import annotations

import socket
import time

from dashboard_support import load
from server.web.serve import WebServer


def test_web_server_stops_with_idle_keep_alive_connections(tmp_path):
    web = WebServer(load(tmp_path))
    web.start()
    served = socket.create_connection(("127.0.0.1", web.port))   # one request, kept alive
    served.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
    served.settimeout(10)
    assert served.recv(100).startswith(b"HTTP/1.1 200")
    silent = socket.create_connection(("127.0.0.1", web.port))   # never says anything
    time.sleep(0.5)
    started = time.monotonic()
    web.stop()
    took = time.monotonic() - started
    try:
        assert not web._thread.is_alive() and took < 3, f"stop took {took:.1f} s"
        served.settimeout(2)   # the rest of the answer, then the end: closed by the server
        while served.recv(65536):
            pass
    finally:
        served.close()
        silent.close()
