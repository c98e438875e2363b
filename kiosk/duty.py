"""Who is on duty at this counter: the server's roster, or a sign-in at the kiosk.

Sign-ins happen in the technician menu and are kept in the outbox file (table
``kiosk_duty``, made by the outbox's migrations), so they survive a restart. The newest word
wins: a sign-in or sign-out made after the last config from the server overrides the
roster's ``on_duty``; a config that arrives later overrides the sign-in.
"""

from __future__ import annotations

import logging
import time

from sync.outbox import Outbox

log = logging.getLogger(__name__)

class Duty:
    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    def _record(self, official: str | None, action: str) -> None:
        with self.outbox.transaction():
            self.outbox.db.execute("INSERT INTO kiosk_duty (official, action, at) VALUES (?, ?, ?)",
                                   [official, action, time.time()])
        self.outbox.log_event(f"duty-{action}", official or "")
        log.info("duty: %s %s", action, official or "")

    def sign_in(self, official: str) -> None:
        self._record(official, "in")

    def sign_out(self) -> None:
        self._record(None, "out")

    def latest(self) -> tuple[str | None, str, float] | None:
        row = self.outbox.db.execute(
            "SELECT official, action, at FROM kiosk_duty ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0], row[1], row[2]) if row else None

    def config_received_at(self) -> float | None:
        return self.outbox.db.execute("SELECT max(received_at) FROM remote_config").fetchone()[0]

    def on_duty(self, roster_on_duty: str | None) -> str | None:
        """The official id ratings are attributed to now (None: nobody)."""
        local = self.latest()
        received = self.config_received_at()
        if local is not None and (received is None or local[2] >= received):
            return local[0] if local[1] == "in" else None
        return roster_on_duty
