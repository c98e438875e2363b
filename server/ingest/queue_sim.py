"""A simulated queue-number system for ``hailong demo`` and the session benchmark
(issue 9): it calls the next citizen to a counter the way a real one would, by
``POST /api/v1/sessions`` with its integration token, so every demo rating that
follows carries a dossier code, a procedure and a field, and the dashboard's field
and procedure pages fill from the real session path.

:func:`prepare` enrols the demo kiosks at their counters, puts the demo officials on
the roster and makes the token; :class:`QueueSystem` sends the sessions;
:func:`rate_session` is the simulated citizen at the kiosk who rates the session that
arrived (through :class:`kiosk.recorder.Recorder`, the screen's path).
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime

import requests

from hailong import domain

from server.ingest.seed import PROCEDURES, demo_kiosks, enrol_demo

log = logging.getLogger(__name__)

TOKEN_NAME = "demo-queue"


def counters(kiosks: int) -> list[tuple[str, str, list[str]]]:
    """(kiosk, counter, official ids) of the demo's kiosks k01..kNN (seed.demo_kiosks)."""
    return demo_kiosks(kiosks)


def prepare(config_path, kiosks: int) -> str:
    """Enrol the demo's kiosks, put their officials on the roster; returns a fresh token."""
    from server.ingest import feed
    from server.config import load_server_config
    from server.ingest.store import connect

    enrol_demo(config_path, kiosks)
    config = load_server_config(config_path)
    db = connect(config.store)
    try:
        return feed.add_token(db.conn, TOKEN_NAME)
    finally:
        db.close()


class QueueSystem:
    """Calls citizens to counters through the commune server's session API."""

    def __init__(self, base_url: str, token: str, *, agency: str = "000.31.12.H29",
                 rng: random.Random | None = None, timeout: float = 5.0):
        self.url = base_url.rstrip("/") + "/api/v1/sessions"
        self.agency = agency
        self.rng = rng or random.Random()
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.serial = 0

    def call_next(self, counter: str, officials: tuple[str, ...] = ()) -> dict:
        """Open a session for the next citizen at ``counter``; returns the API's answer
        (raises ``requests.RequestException`` if the server refused or is not up)."""
        self.serial += 1
        procedure, field = self.rng.choice(PROCEDURES)
        # a dossier code as the one-stop software prints it: agency, date, serial
        dossier = f"{self.agency}-{datetime.now():%y%m%d}-{self.serial:04d}"
        body = {"counter": counter, "dossier": dossier, "procedure": procedure,
                "field": field, "transaction": f"ticket-{time.time_ns():x}"}
        if officials:
            body["official"] = self.rng.choice(officials)
        r = self.http.post(self.url, json=body, timeout=self.timeout)
        if r.status_code != 202:
            raise requests.HTTPError(f"{r.status_code}: {r.text.strip()[:200]}")
        return r.json()

    def close(self) -> None:
        self.http.close()


def rate_session(recorder, rng: random.Random, *, wait: float = 3.0) -> str | None:
    """The simulated citizen at the kiosk: waits for the session the queue system sent,
    rates it like the screen would (reasons after a low score); returns the rating id,
    or None if no session came in time."""
    from kiosk.recorder import Transaction
    from kiosk.simulate import WEIGHTS

    deadline = time.monotonic() + wait
    session = None
    while session is None and time.monotonic() < deadline:
        session = recorder.outbox.take_session()
        if session is None:
            time.sleep(0.05)
    if session is None:
        return None
    recorder.transaction = Transaction(id=session.transaction, official=session.official,
                                       dossier=session.dossier, procedure=session.procedure,
                                       field=session.field)
    scale = recorder.scale
    score = rng.choices([lv.score for lv in domain.LEVELS[scale]], WEIGHTS[scale])[0]
    low = domain.is_low(score, scale)
    # citizens minutes apart, as simulate spaces them: a demo press is no burst
    rating = recorder.press(score, sealed=not low, at=(recorder.guard.last or 0.0) + 30.0)
    if low:
        recorder.amend(rating.id, reasons=rng.sample([r.code for r in domain.LOW_REASONS],
                                                     k=rng.randint(1, 2)))
    return rating.id
