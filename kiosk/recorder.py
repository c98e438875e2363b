"""Turning a press into a stored rating: the one path every score takes.

The screen, the physical buttons and ``hailong kiosk simulate`` all call
:meth:`Recorder.press`; it builds the record (who served, which transaction, the
clock facts), flags presses no citizen would make, and commits it to the outbox
before returning. What the citizen adds after the score goes through
:meth:`Recorder.amend`.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass

from sync.contract import Contact, Rating, SurveyAnswer

from kiosk.clock import Clock, uuid7
from sync.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transaction:
    """What the counter's queue system said about the citizen now being served."""
    id: str | None = None
    official: str | None = None
    dossier: str | None = None
    procedure: str | None = None
    field: str | None = None
    expires_at: float | None = None  # wall clock; past it the transaction is not used


def session_expiry(session, received_at: float, default: float) -> float:
    """When a session stops being usable, on the wall clock: its own ``expires_at``
    (server time) if it says, else ``default`` seconds after the kiosk received it."""
    expires_at = getattr(session, "expires_at", None)
    return expires_at if expires_at is not None else received_at + default


class PressGuard:
    """Flags presses no citizen would make: a rating too soon after the previous one
    with no new transaction between them, and bursts.

    The rule (docs/kiosk.md, issue 9): a rating stored less than ``min_interval``
    seconds (default 30) after the previous stored rating is flagged ``too-fast``
    unless a new transaction (a session from the queue system, the counter page or a
    scanned receipt) opened between the two; ``burst_count`` ratings within
    ``burst_window`` seconds without new transactions are flagged ``burst``. A counter
    serves one citizen in a minute or more, so a real queue is never flagged, while
    a hand on the buttons is flagged from its second stored rating on (the cooldown
    lets one rating through every few seconds, each one close to the last).

    Flagged ratings are stored all the same (nothing a person pressed is lost); the
    server leaves them out of the indices. Times are seconds on a monotonic clock.
    """

    def __init__(self, min_interval: float = 30.0, burst_count: int = 6,
                 burst_window: float = 60.0):
        self.min_interval = min_interval
        self.burst_count = burst_count
        self.burst_window = burst_window
        self._recent: collections.deque[float] = collections.deque(maxlen=burst_count)
        self._last_transaction: str | None = None

    @property
    def last(self) -> float | None:
        """When the last press was, on the guard's clock."""
        return self._recent[-1] if self._recent else None

    def check(self, at: float, transaction: str | None = None) -> str | None:
        """Note a press at ``at`` for ``transaction`` (None: no session); say why it
        looks like no citizen's, or None."""
        recent = self._recent
        fresh = transaction is not None and transaction != self._last_transaction
        self._last_transaction = transaction
        if fresh:  # the queue system said a new citizen is here: start counting anew
            recent.clear()
        recent.append(at)
        if len(recent) >= 2 and at - recent[-2] < self.min_interval:
            return "too-fast"
        if len(recent) == self.burst_count and at - recent[0] < self.burst_window:
            return "burst"
        return None


class Recorder:
    def __init__(self, outbox: Outbox, *, kiosk: str, commune: str, counter: str,
                 scale: int = 4, clock: Clock | None = None, guard: PressGuard | None = None):
        self.outbox = outbox
        self.kiosk, self.commune, self.counter, self.scale = kiosk, commune, counter, scale
        self.clock = clock or Clock()
        self.guard = guard or PressGuard()
        self.official: str | None = None           # on duty at this counter (roster/sign-in)
        self.transaction: Transaction | None = None  # set by a session message

    @classmethod
    def from_config(cls, config, outbox: Outbox, *, wall=None, mono=None, **kw) -> Recorder:
        """``wall`` / ``mono``: clock functions to use instead of the system's (replay)."""
        clock_kw = {k: v for k, v in (("wall", wall), ("mono", mono)) if v is not None}
        return cls(outbox, kiosk=config.kiosk.id, commune=config.kiosk.commune,
                   counter=config.kiosk.counter, scale=config.kiosk.scale,
                   clock=Clock(config.clock.assume, **clock_kw), **kw)

    def press(self, score: int, *, sealed: bool = True, at: float | None = None,
              lang: str = "vi") -> Rating:
        """Store a citizen's score durably and return the record.

        ``at`` is the press time on the monotonic clock (defaults to now); leave
        ``sealed`` False when the citizen will be asked for reasons next.
        """
        if not 1 <= score <= self.scale:
            raise ValueError(f"score {score} outside 1..{self.scale}")
        reading = self.clock.read()
        tx = self.transaction or Transaction()
        suspect = self.guard.check(reading.mono if at is None else at, tx.id)
        rating = Rating(
            id=uuid7(reading.wall), v=1, kiosk=self.kiosk, commune=self.commune,
            counter=self.counter, score=score, scale=self.scale,
            created_at=reading.wall, clock_synced=reading.synced,
            boot_id=reading.boot_id, mono=reading.mono,
            official=tx.official or self.official, dossier=tx.dossier,
            procedure=tx.procedure, field=tx.field, transaction=tx.id,
            suspect=suspect, lang=lang)
        self.outbox.add(rating, sealed=sealed)
        self.transaction = None  # one transaction, one rating
        if suspect:
            log.warning("rating %s flagged %s", rating.id, suspect)
        return rating

    def amend(self, rating_id: str, *, reasons: list[str] | None = None,
              contact: Contact | None = None, seal: bool = True) -> bool:
        changes: dict = {}
        if reasons is not None:
            changes["reasons"] = list(reasons)
        if contact is not None:
            changes["contact"] = contact
        return self.outbox.amend(rating_id, seal=seal, **changes)

    def answer(self, rating_id: str, answers: list[SurveyAnswer], *, seal: bool = False
               ) -> bool:
        """Store the SIPAS survey answers given so far (issue 12), each as it is given,
        so a citizen who walks away keeps what they answered."""
        return self.outbox.amend(rating_id, seal=seal, survey=list(answers))
