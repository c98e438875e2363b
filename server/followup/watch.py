"""The leader side's background work, next to ingest in ``hailong server run``.

* On new ratings (the ingest callback, on the writer thread, after commit): open
  follow-up cases for the low ones, add them to the daily figures, and wake the
  housekeeper. That is all the writer thread does for us: a few indexed inserts.
* At start-up: bring the daily figures up to date and open cases for any low rating
  that has none (ratings committed just before a crash, before the callback ran).
* The housekeeper thread: rebuilds the daily figures now and then, escalates
  overdue cases, deletes expired call-back numbers, raises alerts; it writes only
  when there is something new, in as few transactions as it can.
* The delivery thread: sends alerts (webhooks, Telegram, e-mail), retrying with backoff.
"""

from __future__ import annotations

import logging
import threading
import time

import requests

from sync import contract

from server.reports import addressee, rollup
from server.followup import alerts, cases as followup
from server.ingest import clock, engine
from server.ingest.store import connect

log = logging.getLogger(__name__)

TICK = 5.0            # seconds between housekeeping rounds when nothing wakes us
PURGE_EVERY = 3600.0  # seconds between deletions of expired call-back numbers


class Watcher:
    def __init__(self, config):
        self.config = config
        self._callback_db = connect(config.store)
        # What the callback writes (cases, daily figures) is derived from ratings that
        # ingest has already committed with FULL sync, and start-up derives it again, so
        # its commits need not wait for the disk: the writer thread stays quick.
        if engine.name(self._callback_db) == "sqlite":  # PostgreSQL: the server's setting
            self._callback_db.execute("PRAGMA synchronous=NORMAL")
        self._db = connect(config.store)
        self._delivery_db = connect(config.store)
        self._wake = threading.Event()
        self._deliver = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_rebuild = 0.0
        self._last_purge = 0.0
        self._round_lock = threading.Lock()  # round() runs on the housekeeper or a test

    # --- the ingest callback ------------------------------------------------------------

    def on_new_ratings(self, ratings: list[contract.Rating]) -> None:
        # Both writes happen here, on the writer thread between two ingest transactions,
        # not on the housekeeper: ingest never waits for the write lock because of them.
        f = self.config.followup
        conn = self._callback_db.conn
        followup.open_cases(conn, low_at_or_below=f.low_at_or_below,
                            deadline_days=f.deadline_days,
                            rating_ids=[r.id for r in ratings])
        rollup.catch_up(conn, wait=False)  # during a rebuild: the housekeeper's next round
        self._wake.set()

    # --- start-up and threads -----------------------------------------------------------

    def catch_up(self) -> None:
        """What a restart needs: figures rebuilt, no low rating without its case."""
        conn = self._db.conn
        # Data can never block start-up (issue 8: a rating placed tens of thousands of
        # years away once made the figures' catch-up fail here, and the server exit):
        # what cannot be placed is quarantined first, and each step that still fails is
        # logged and left to the housekeeper's next round.
        try:
            clock.quarantine_unplaceable(conn)
        except Exception:
            log.exception("quarantine of unplaceable ratings failed; starting anyway")
        try:
            # Incremental: a full rebuild of a large store would hold ingest back at
            # every start; the periodic rebuild picks up ratings re-placed in time.
            rollup.catch_up(conn)
        except Exception:
            log.exception("daily figures could not catch up; starting anyway")
        self._last_rebuild = time.monotonic()
        f = self.config.followup
        try:
            opened = followup.open_cases(conn, low_at_or_below=f.low_at_or_below,
                                         deadline_days=f.deadline_days)
        except Exception:
            log.exception("opening follow-up cases at start failed; starting anyway")
            opened = 0
        if opened:
            log.info("opened %d follow-up case(s) for ratings stored before a restart", opened)

    def start(self) -> None:
        self.catch_up()
        self.start_threads()

    def start_threads(self) -> None:
        for target, name in ((self._housekeep, "housekeeper"),
                             (self._deliver_loop, "alert-delivery")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._deliver.set()
        for t in self._threads:
            t.join(timeout=15)
        for db in (self._callback_db, self._db, self._delivery_db):
            db.close()

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def round(self) -> None:
        """One housekeeping round (also called by tests)."""
        with self._round_lock:
            self._round()

    def _round(self) -> None:
        conn = self._db.conn
        c = self.config
        if time.monotonic() - self._last_rebuild > c.web.rollup_rebuild_minutes * 60:
            rollup.rebuild(conn)
            self._last_rebuild = time.monotonic()
        rollup.catch_up(conn)  # what a callback left during a rebuild (one query if none)
        followup.escalate_overdue(conn)
        if time.monotonic() - self._last_purge > PURGE_EVERY or not self._last_purge:
            followup.purge_contacts(conn, c.privacy.contact_retention_days)
            addressee.purge(conn, c.privacy.contact_retention_days)
            self._last_purge = time.monotonic()
        if alerts.check(conn, c.alerts, alerts.channels(c.alerts)):
            self._deliver.set()

    def _housekeep(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # keep watching; the next round tries again
                log.exception("housekeeping round failed")
            self._wake.wait(TICK)
            self._wake.clear()

    def _deliver_loop(self) -> None:
        a = self.config.alerts
        with requests.Session() as session:
            while not self._stop.is_set():
                try:
                    if alerts.channels(a) or a.assignee_emails:
                        alerts.deliver_due(self._delivery_db.conn, style=a.style,
                                           chat_id=a.telegram_chat_id, smtp=self.config.smtp,
                                           max_attempts=a.max_attempts, session=session)
                except Exception:
                    log.exception("alert delivery failed")
                self._deliver.wait(TICK)
                self._deliver.clear()
