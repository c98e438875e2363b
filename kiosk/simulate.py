"""Simulated citizens: N ratings through the same path as a real press.

For technicians checking a kiosk end to end, for load tests and for the demo. Each
rating goes through :meth:`Recorder.press` (one durable commit each), low scores get
reasons through :meth:`Recorder.amend`, exactly as the screen does. Presses are
spaced ``interval`` seconds apart on the guard's clock, each for its own transaction,
so none is flagged (that is the guard's own test).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence

from hailong import domain

from kiosk.recorder import Recorder, Transaction

# A commune counter's usual spread, best level first (sums to 1 per scale).
WEIGHTS = {3: (0.75, 0.18, 0.07), 4: (0.58, 0.30, 0.08, 0.04),
           5: (0.52, 0.30, 0.10, 0.05, 0.03)}
PROCEDURES = (("Đăng ký khai sinh", "Hộ tịch"), ("Đăng ký kết hôn", "Hộ tịch"),
              ("Chứng thực bản sao", "Chứng thực"), ("Xác nhận tình trạng hôn nhân", "Hộ tịch"),
              ("Đăng ký thường trú", "Cư trú"), ("Cấp giấy chứng nhận quyền sử dụng đất", "Đất đai"))


def simulate(recorder: Recorder, count: int, *, seed: int | None = None,
             officials: Sequence[str] = (), interval: float = 60.0,
             first: Transaction | None = None) -> list[str]:
    """``first``: an open session's transaction, rated first (as the screen would)."""
    rng = random.Random(seed)
    scale = recorder.scale
    levels = [lv.score for lv in domain.LEVELS[scale]]
    t = recorder.guard.last or 0.0  # carry on from earlier simulated presses
    ids = []
    for n in range(count):
        t += interval
        score = rng.choices(levels, WEIGHTS[scale])[0]
        procedure, field = rng.choice(PROCEDURES)
        recorder.transaction = first if n == 0 and first is not None else Transaction(
            # unique: the server keeps one rating per transaction (issue 9), so a
            # reused "sim-0" would reject every later simulated citizen
            id=f"sim-{uuid.uuid4().hex[:16]}", official=rng.choice(officials) if officials else None,
            dossier=f"H{rng.randrange(10**9):09d}", procedure=procedure, field=field)
        low = domain.is_low(score, scale)
        rating = recorder.press(score, sealed=not low, at=t)
        if low:
            picks = rng.sample([r.code for r in domain.LOW_REASONS], k=rng.randint(1, 2))
            recorder.amend(rating.id, reasons=picks)
        ids.append(rating.id)
    return ids
