"""``hailong kiosk replay``: the real kiosk app, fed a script of timed input.

Technicians use it to demonstrate a kiosk; the tests use it for every timing of the
citizen flow (issue 9). The app runs on SDL's dummy video driver against a throw-away
outbox (seeded with the real outbox's roster when there is one, so nothing reaches
the server), on a simulated clock by default: a 20-minute script takes seconds.

Script lines (``#`` starts a comment)::

    at SECONDS tap X,Y          a touch at pixel X,Y
    at SECONDS tap @NAME        @face:1..N (1 = lowest score), @reason:1.., @done, @skip,
                                @answer:1..N (a SIPAS survey answer, 1 = lowest level)
    at SECONDS key K            a key: 1..5, return, escape, f12 ...
    at SECONDS button N         a physical button, N = 1 for the lowest level
                                (gpiozero MockFactory pins)
    at SECONDS scan CODE        a USB barcode reader: CODE typed fast, then Enter
    at SECONDS session JSON     a session message as the uplink stores it

The result is one JSON object: each stored rating (score, reasons, suspect flag,
dossier, ...), the final screen, the sounds played and every input ignored (with why).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

from hailong.errors import HailongError
from sync import contract

log = logging.getLogger(__name__)

LINE = re.compile(r"^at\s+(?P<t>\d+(?:\.\d+)?)\s+(?P<kind>tap|key|button|scan|session)"
                  r"\s+(?P<arg>.+?)\s*$")
NAMED = re.compile(r"^@(?:(?P<kind>face|reason|answer):(?P<n>[1-9][0-9]*)|(?P<word>done|skip))$")
SCAN_KEY_GAP = 0.005     # seconds between a scanner's keys (a real reader: 2-10 ms)
MOCK_PINS = (5, 6, 13, 19, 26)  # replay's own buttons when the config has none
TAIL = 600.0             # seconds of simulated time to let the last citizen finish


class ScriptError(HailongError, ValueError):
    """A replay script line that cannot be understood."""


@dataclass(frozen=True)
class Step:
    at: float
    kind: str
    arg: object
    line: int


def parse(text: str) -> list[Step]:
    """The script's steps in time order; a bad line raises one clear ScriptError."""
    steps = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if " session " not in line:  # a session's JSON may hold a '#'
            line = line.split("#", 1)[0].strip()
        m = LINE.match(line)
        if not m:
            raise ScriptError(f"line {n}: {raw.strip()[:80]!r}: expected 'at SECONDS "
                              "tap X,Y|tap @NAME|key K|button N|scan CODE|session JSON'")
        kind, arg = m["kind"], m["arg"]
        steps.append(Step(float(m["t"]), kind, _argument(kind, arg, n), n))
    return sorted(steps, key=lambda s: s.at)  # stable: same-time lines keep their order


def _argument(kind: str, arg: str, n: int):
    if kind == "tap":
        if arg.startswith("@"):
            if not NAMED.match(arg):
                raise ScriptError(f"line {n}: unknown target {arg!r}: use @face:N, "
                                  "@reason:N, @answer:N, @done or @skip")
            return arg
        m = re.fullmatch(r"(\d+)\s*,\s*(\d+)", arg)
        if not m:
            raise ScriptError(f"line {n}: tap needs X,Y in pixels or @NAME, not {arg!r}")
        return int(m[1]), int(m[2])
    if kind == "key":
        import pygame
        try:
            code = pygame.key.key_code(arg)
        except ValueError:
            raise ScriptError(f"line {n}: unknown key {arg!r}") from None
        return code, arg if len(arg) == 1 else ""
    if kind == "button":
        if not arg.isdigit() or not 1 <= int(arg) <= 5:
            raise ScriptError(f"line {n}: button needs a number 1..5, not {arg!r}")
        return int(arg)
    if kind == "scan":
        if not arg.isprintable() or len(arg) > 200:
            raise ScriptError(f"line {n}: scan needs a printable code up to 200 characters")
        return arg
    try:
        return msgspec.json.decode(arg.encode(), type=contract.Session)
    except msgspec.ValidationError as e:
        raise ScriptError(f"line {n}: not a valid session: {e}") from None
    except msgspec.DecodeError as e:
        raise ScriptError(f"line {n}: session is not JSON: {e}") from None


class SimClock:
    """Monotonic seconds that move only when the replay says so."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


def replay(config, script: str, size: tuple[int, int], *, real_time: bool = False) -> dict:
    """Run ``script`` against the real app; return what was stored and seen."""
    steps = parse(script)
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    if not real_time or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    import pygame
    from gpiozero.pins.mock import MockFactory

    from kiosk.inputs import KioskInputs
    from sync.outbox import Outbox
    from kiosk.sound import Sound
    from kiosk.ui.app import KioskApp
    from kiosk.ui.events import BUTTON

    with tempfile.TemporaryDirectory(prefix="hailong-replay-") as tmp:
        store = Path(tmp) / "replay.db"
        _seed(config.store.path, store)
        pygame.display.init()
        pygame.font.init()
        surface = pygame.display.set_mode(size)
        pygame.event.set_allowed(None)
        factory = MockFactory()
        scale_hint = config.kiosk.scale
        pins = list(config.gpio.buttons) or list(MOCK_PINS)
        inputs = KioskInputs(factory, pins[:5], bounce=None)  # no debounce on a sim clock
        sim = SimClock()
        started_wall = time.time()
        if real_time:
            t0 = time.monotonic()

            def mono() -> float:
                return 1000.0 + time.monotonic() - t0
        else:
            mono = sim

        def wall() -> float:
            return started_wall + mono() - 1000.0
        sound = Sound.from_config(config)
        outbox = Outbox(store)
        app = KioskApp(config, outbox, surface, inputs=inputs, sound=sound, clock=mono,
                       wall=wall)
        seen: dict[str, pygame.Rect] = {}
        try:
            app.step([])
            _remember(app, seen)
            for step in steps:
                _run_until(app, sim, 1000.0 + step.at, real_time, seen)
                _do(app, step, sim, real_time, seen, factory, pins, scale_hint, BUTTON)
            _finish(app, sim, real_time, seen)
            result = _result(app, outbox)
        finally:
            app.close()
            inputs.close()
            outbox.close()
            pygame.display.quit()
    return result


def _seed(source: Path, store: Path) -> None:
    """The real outbox's roster and sign-ins, not its ratings or sessions."""
    if not Path(source).is_file():
        return
    from sync.outbox import Outbox

    copy = store.with_name("source-copy.db")
    shutil.copy(source, copy)
    for suffix in ("-wal", "-shm"):
        if Path(str(source) + suffix).exists():
            shutil.copy(str(source) + suffix, str(copy) + suffix)
    with Outbox(copy) as src, Outbox(store) as dst:
        remote = src.config()
        if remote is not None:
            dst.save_config(remote)
        for row in src.db.execute("SELECT official, action, at FROM kiosk_duty ORDER BY id"):
            dst.db.execute("INSERT INTO kiosk_duty (official, action, at) VALUES (?, ?, ?)",
                           list(row))
        dst.db.conn.commit()


def _advance(app, sim: SimClock, to: float, real_time: bool) -> None:
    if real_time:
        delay = to - app.clock()
        if delay > 0:
            time.sleep(delay)
    else:
        sim.now = max(sim.now, to)


def _run_until(app, sim: SimClock, until: float, real_time: bool, seen) -> None:
    """Let the app's timers run (thank-you, timeouts, polls) up to ``until``."""
    import pygame

    while True:
        # A hair past what is due: "due" computed as now + (due - now) can round to
        # just before it, and the timer would never fire on a simulated clock.
        due = app.clock() + app.wait_time() + 1e-4
        if due >= until:
            break
        _advance(app, sim, due, real_time)
        app.step(pygame.event.get())
        _remember(app, seen)
    _advance(app, sim, until, real_time)
    app.step(pygame.event.get())
    _remember(app, seen)


def _remember(app, seen: dict) -> None:
    """Where each named target was last drawn: a double tap's second tap lands where
    the first one's target was, whatever screen is up by then."""
    for t in app.screen.targets:
        seen[t.name] = t.rect
    reasons = [t for t in app.screen.targets if t.name.startswith("reason:")]
    for i, t in enumerate(reasons, 1):
        seen[f"@reason:{i}"] = t.rect


def _resolve(app, name: str, seen: dict, line: int):
    m = NAMED.match(name)
    key = (f"score:{m['n']}" if m["kind"] == "face" else
           f"answer:{m['n']}" if m["kind"] == "answer" else
           f"@reason:{m['n']}" if m["kind"] == "reason" else m["word"])
    rect = seen.get(key)
    if rect is None:
        raise ScriptError(f"line {line}: target {name} has not been on screen (now: "
                          f"{app.screen.name})")
    return rect.center


def _do(app, step: Step, sim, real_time, seen, factory, pins, scale_hint, BUTTON) -> None:
    import pygame

    if step.kind == "tap":
        pos = step.arg if isinstance(step.arg, tuple) else _resolve(app, step.arg, seen,
                                                                       step.line)
        w, h = app.surface.get_size()
        pygame.event.post(pygame.event.Event(
            pygame.FINGERDOWN, x=pos[0] / w, y=pos[1] / h, dx=0.0, dy=0.0, touch_id=1,
            finger_id=0, pressure=1.0))
    elif step.kind == "key":
        code, char = step.arg
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=code, unicode=char, mod=0,
                                             scancode=0))
    elif step.kind == "button":
        # N = 1 for the lowest; the config lists buttons best first.
        levels = len(app.survey_levels if app.screen.name == "survey" else app.levels)
        index = levels - step.arg
        if not 0 <= index < min(levels, len(pins)):
            raise ScriptError(f"line {step.line}: button {step.arg}: this kiosk has "
                              f"{min(levels, len(pins))} levels")
        pin = factory.pin(pins[index])
        pin.drive_low()   # gpiozero's callback posts the BUTTON event (its thread or ours)
        pin.drive_high()
        _wait_for(BUTTON)
    elif step.kind == "scan":
        for char in step.arg:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(
                char.lower()) if char.isalnum() else 0, unicode=char, mod=0, scancode=0))
            app.step(pygame.event.get())
            _advance(app, sim, app.clock() + SCAN_KEY_GAP, real_time)
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN,
                                             unicode="\r", mod=0, scancode=0))
    elif step.kind == "session":
        app.outbox.add_session(step.arg, received_at=app.wall())
        app._next_poll = 0.0  # the uplink stored it: the app reads it on its next poll
    app.step(pygame.event.get())
    _remember(app, seen)


def _wait_for(kind: int, timeout: float = 2.0) -> None:
    """gpiozero may call back on its own thread: wait until the event is queued."""
    import pygame

    end = time.monotonic() + timeout
    while not pygame.event.peek(kind) and time.monotonic() < end:
        time.sleep(0.001)


def _finish(app, sim, real_time: bool, seen) -> None:
    """Let the last citizen walk away: run until idle with nothing open."""
    _run_until(app, sim, app.clock() + 1.0, real_time, seen)  # held keys, a scan
    end = app.clock() + TAIL
    while app.clock() < end and (app.screen.name != "idle" or app.open_rating):
        _run_until(app, sim, min(end, app.clock() + app.wait_time() + 0.001), real_time, seen)


def _result(app, outbox) -> dict:
    rows = outbox.db.execute("SELECT body, sealed FROM ratings ORDER BY rowid").fetchall()
    ratings = []
    for body, sealed in rows:
        r = json.loads(body)
        ratings.append({"score": r["score"], "scale": r["scale"], "reasons": r["reasons"],
                        "suspect": r["suspect"], "dossier": r["dossier"],
                        "transaction": r["transaction"], "official": r["official"],
                        "contact": bool(r.get("contact")), "sealed": bool(sealed),
                        # SIPAS survey answers (issue 12): {question: level}
                        "survey": {a["q"]: a["level"] for a in r.get("survey", [])}})
    return {"ratings": ratings, "count": len(ratings), "screen": app.screen.name,
            "sounds": list(app.sound.played), "ignored": list(app.ignored)}
