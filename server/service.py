"""``hailong server run``: the long-running server process (ingest, and the web
dashboard once it is configured), stopped cleanly by SIGTERM or Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
import threading

from hailong.systemd import notify, watchdog_interval

from server.ingest import storecheck
from server.ingest.engine import describe
from server.ingest.worker import Ingest
from server.followup.mailer import ReportMailer
from server.fleet.pusher import ConfigPusher
from server.followup.watch import Watcher

log = logging.getLogger(__name__)


def serve(config, stop: threading.Event) -> None:
    # Catch up (cases and figures for ratings stored before a restart) before ingest
    # feeds the watcher; open the dashboard last, so its heavier imports do not delay
    # ingest's subscription.
    # A damaged store must stop us here, loudly, not after READY (issue 8).
    storecheck.check(config.store)
    with contextlib.ExitStack() as running:
        watcher = Watcher(config)
        running.callback(watcher.stop)
        watcher.catch_up()
        ingest = running.enter_context(Ingest(config, on_new_ratings=watcher.on_new_ratings))
        watcher.start_threads()
        # roster changes -> retained config per kiosk, through ingest's client
        running.enter_context(ConfigPusher(config, ingest.client, ingest.connected))
        running.enter_context(ReportMailer(config))  # monthly / quarterly reports by e-mail
        if config.province.enabled:  # issue 12: the outbox to the province
            from server.ingest.forward import Forwarder
            running.enter_context(Forwarder(config))
        try:
            from server.ingest.feed import MqttPublisher
            from server.web.serve import WebServer
            # sessions (issue 9) go out through ingest's client, like the configs
            running.enter_context(WebServer(
                config, MqttPublisher(ingest.client, ingest.connected)))
        except OSError as e:  # a busy port must not stop ingest: ratings come first
            log.error("dashboard not started on %s:%s: %s", config.web.host, config.web.port,
                      e.strerror or e)
        log.info("server for commune %s: store %s, broker %s:%s", config.server.commune,
                 describe(config.store), config.broker.host, config.broker.port)
        notify("READY=1")
        ping = watchdog_interval() or 60.0
        while not stop.wait(ping):
            notify("WATCHDOG=1")
    log.info("server stopped")
