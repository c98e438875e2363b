"""Pushes each enrolled kiosk's config, retained at QoS 1, from the running server.

Every ``[fleet] push_interval`` seconds it turns roster changes into new revisions
(:meth:`server.fleet.roster.Roster.refresh`) and publishes the unpublished ones; after
every (re)connect it publishes every kiosk's newest config again, so a broker that
lost its retained messages gets them back (a kiosk ignores a revision it has).

The retained config of a removed kiosk is deleted from the broker (an empty retained
message). It publishes through ingest's MQTT client: the broker names sessions by username
(``use_username_as_clientid``), so a second client with the server's account would
throw ingest off the broker.
"""

from __future__ import annotations

import logging
import threading

from sync import contract

from server.fleet.kiosks import Fleet
from server.fleet.roster import Roster, photo_base_url
from server.ingest.store import connect

log = logging.getLogger(__name__)


class ConfigPusher:
    def __init__(self, config, client, connected: threading.Event):
        self.config = config
        self.client = client
        self.connected = connected
        self.commune = config.server.commune
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.published = 0

    def start(self) -> ConfigPusher:
        self._thread = threading.Thread(target=self._run, name="config-pusher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def __enter__(self) -> ConfigPusher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while True:
            try:
                db = connect(self.config.store)
                break
            except Exception:  # e.g. locked while another process creates the store
                log.exception("config pusher cannot open the store; retrying")
                if self._stop.wait(2):
                    return
        roster = Roster(db, contact_retention_days=self.config.privacy.contact_retention_days)
        fleet = Fleet(db, self.commune)
        was_connected = False
        try:
            while not self._stop.is_set():
                try:
                    kiosks = fleet.active()
                    made = roster.refresh(kiosks, photo_base_url(self.config))
                    for kiosk, revision in made:
                        log.info("new config for kiosk %s: revision %d", kiosk, revision)
                    now_connected = self.connected.is_set()
                    if now_connected:
                        ids = [k["id"] for k in kiosks]
                        self._publish(roster, roster.latest(ids, unpublished=was_connected))
                        self._clear_removed(roster, set(ids))
                    was_connected = now_connected
                except Exception:  # never stop pushing for one bad moment; try again
                    log.exception("config push failed; will retry")
                    was_connected = False
                self._stop.wait(self.config.fleet.push_interval)
        finally:
            db.close()

    def _clear_removed(self, roster: Roster, active: set[str]) -> None:
        """A removed kiosk's retained config (names of officials) leaves the broker: an
        empty retained message deletes it."""
        for kiosk in sorted(roster.kiosks_with_configs() - active):
            info = self.client.publish(contract.topic(self.commune, kiosk, "config"), b"",
                                       qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=10)
            except (RuntimeError, ValueError):
                continue
            if info.is_published():
                roster.forget(kiosk)
                log.info("cleared the retained config of removed kiosk %s", kiosk)

    def _publish(self, roster: Roster, configs: list[tuple[str, int, bytes]]) -> None:
        for kiosk, revision, body in configs:
            info = self.client.publish(contract.topic(self.commune, kiosk, "config"), body,
                                       qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=10)  # the broker has it: mark it
            except (RuntimeError, ValueError) as e:
                log.warning("config for %s not published yet: %s", kiosk, e)
                continue
            if info.is_published():
                roster.mark_published(kiosk, revision)
                self.published += 1
