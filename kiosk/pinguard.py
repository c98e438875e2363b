"""Attempts at the technician PIN: limited, with a growing back-off, each failure kept.

Every wrong PIN is an event in the outbox (``pin-failed``): it survives a restart
(pulling the plug does not reset the count), the uplink reports the count of the
last 24 hours in its status, and the server shows it in the fleet and alerts after
``[alerts] pin_failures`` (issue 8 item 8). After :attr:`PinGuard.free` wrong tries
in a row the keypad is refused for ``base`` seconds, doubling with each further
failure up to ``cap``; a right PIN clears the run.
"""

from __future__ import annotations

import time

FAILED, OPENED = "pin-failed", "tech-menu"
DAY = 86400.0


class PinGuard:
    free = 3          # wrong tries before the first wait
    base = 30.0       # seconds of the first wait
    cap = 3600.0      # longest wait

    def __init__(self, outbox, now=time.time):
        self.outbox, self.now = outbox, now

    def _run(self) -> list[float]:
        """Times of the wrong tries since the last right one (within a day)."""
        run: list[float] = []
        for at, kind in self.outbox.db.execute(
                "SELECT at, kind FROM events WHERE kind IN (?, ?) AND at > ? ORDER BY id",
                [FAILED, OPENED, self.now() - DAY]):
            run = [] if kind == OPENED else run + [at]
        return run

    def locked_for(self) -> float:
        """Seconds until the next try is allowed (0: now)."""
        run = self._run()
        if len(run) < self.free:
            return 0.0
        wait = min(self.base * 2 ** (len(run) - self.free), self.cap)
        return max(0.0, run[-1] + wait - self.now())

    def failed(self) -> None:
        n = len(self._run()) + 1
        self.outbox.log_event(FAILED, f"wrong technician PIN ({n} in a row)")

    def opened(self) -> None:
        self.outbox.log_event(OPENED, "opened")


def failures_today(outbox, now: float | None = None) -> int:
    now = time.time() if now is None else now
    return outbox.db.execute("SELECT count(*) FROM events WHERE kind = ? AND at > ?",
                             [FAILED, now - DAY]).fetchone()[0]
