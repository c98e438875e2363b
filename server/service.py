"""``hailong server run``: the long-running server process (ingest, and the web
dashboard once it is configured), stopped cleanly by SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import threading

from hailong.systemd import notify, watchdog_interval

from .ingest import Ingest

log = logging.getLogger(__name__)


def serve(config, stop: threading.Event) -> None:
    with Ingest(config):
        log.info("server for commune %s: store %s, broker %s:%s", config.server.commune,
                 config.store.path, config.broker.host, config.broker.port)
        notify("READY=1")
        ping = watchdog_interval() or 60.0
        while not stop.wait(ping):
            notify("WATCHDOG=1")
    log.info("server stopped")
