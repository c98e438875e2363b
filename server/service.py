"""``hailong server run``: the long-running server process (ingest, and the web
dashboard once it is configured), stopped cleanly by SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import threading

from .ingest import Ingest

log = logging.getLogger(__name__)


def serve(config, stop: threading.Event) -> None:
    with Ingest(config):
        log.info("server for commune %s: store %s, broker %s:%s", config.server.commune,
                 config.store.path, config.broker.host, config.broker.port)
        stop.wait()
    log.info("server stopped")
