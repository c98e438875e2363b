"""The citizen flow's truth figures (issue 9), through `hailong kiosk replay`.

- ghost ratings: slow double taps (0.45 / 0.6 / 0.9 s) on a grid of idle points and
  on each face, each compared with the same script's single tap (target: 0 differences);
- mashing: a key every 0.15 s for 25 s, stored ratings and how many after the first
  are flagged (target: all);
- realistic schedule: one citizen every 60-300 s (touch, key or button) for 2 hours of
  simulated clock (target: 0 flagged); and the wall time that took.

The last line is one JSON object.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong.demo import kiosk_toml  # noqa: E402
from kiosk.config import load_kiosk_config  # noqa: E402
from kiosk.replay import replay  # noqa: E402

from common import emit  # noqa: E402

SIZE = (800, 480)
DELAYS = (0.45, 0.6, 0.9)
BUTTONS = '\n[gpio]\npin_factory = "mock"\nbuttons = [5, 6, 13, 19]\n[sound]\nenabled = false\n'


def config(folder: Path):
    path = folder / "k.toml"
    path.write_text(kiosk_toml(kiosk="k01", commune="xa-bench", store=str(folder / "k.db"),
                               port=1883, extra=BUTTONS))
    return load_kiosk_config(path)


def stored(result: dict) -> list:
    return [(r["score"], tuple(r["reasons"]), r["suspect"]) for r in result["ratings"]]


def double_tap_scripts(delay: float | None) -> str:
    lines, t = [], 1.0
    for i in range(6):
        for j in range(4):
            x, y = int(SIZE[0] * (i + 0.5) / 6), int(SIZE[1] * (j + 0.5) / 4)
            lines.append(f"at {t:.2f} tap {x},{y}")
            if delay:
                lines.append(f"at {t + delay:.2f} tap {x},{y}")
            t += 40
    for face in (1, 2, 3, 4):
        lines += [f"at {t:.2f} tap 400,250", f"at {t + 3:.2f} tap @face:{face}"]
        if delay:
            lines.append(f"at {t + 3 + delay:.2f} tap @face:{face}")
        t += 100
    return "\n".join(lines)


def main() -> None:
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        c = config(Path(tmp))
        single = stored(replay(c, double_tap_scripts(None), SIZE))
        ghosts, double_taps = 0, 0
        for delay in DELAYS:
            double = stored(replay(c, double_tap_scripts(delay), SIZE))
            ghosts += abs(len(double) - len(single)) + sum(a != b for a, b in zip(double, single))
            double_taps += 28
        mash = replay(c, "\n".join(f"at {1 + 0.15 * i:.2f} key 1" for i in range(166)), SIZE)
        flags = [r["suspect"] for r in mash["ratings"]]
        rng = random.Random(1)
        lines, t = [], 1.0
        while t < 2 * 3600:
            level = rng.randint(1, 4)
            how = rng.choice(["touch", "key", "button"])
            if how == "touch":
                lines += [f"at {t:.1f} tap 400,250", f"at {t + 2.5:.1f} tap @face:{level}"]
            elif how == "key":
                lines.append(f"at {t:.1f} key {5 - level}")
            else:
                lines.append(f"at {t:.1f} button {level}")
            t += rng.uniform(60, 300)
        started = time.perf_counter()
        real = replay(c, "\n".join(lines), SIZE)
        took = time.perf_counter() - started
    emit({"double_taps": double_taps, "ghost_ratings": ghosts,
          "mash_ratings": len(flags), "mash_flagged_after_first": sum(bool(f) for f in flags[1:]),
          "mash_first_flagged": bool(flags and flags[0]),
          "realistic_ratings": real["count"],
          "realistic_false_flags": sum(bool(r["suspect"]) for r in real["ratings"]),
          "realistic_2h_replay_seconds": round(took, 2)})


if __name__ == "__main__":
    main()
