"""Helpers for the kiosk screen tests: a config, a clock the test moves, an app on
SDL's dummy display, and posting real pygame events into its one handler."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402

from hailong.demo import kiosk_toml  # noqa: E402
from kiosk.config import load_kiosk_config  # noqa: E402
from sync.outbox import Outbox  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def write_config(folder: Path, extra: str = "", kiosk: str = "k01") -> Path:
    path = folder / f"{kiosk}.toml"
    path.write_text(kiosk_toml(kiosk=kiosk, commune="xa-test", store=str(folder / f"{kiosk}.db"),
                               port=1883, extra="\n[sound]\nenabled = false\n" + extra))
    return path


def make_app(folder: Path, extra: str = "", size=(800, 480), inputs=None):
    config = load_kiosk_config(write_config(folder, extra))
    outbox = Outbox(config.store.path)
    pygame.display.init()
    surface = pygame.display.set_mode(size)
    clock = FakeClock()
    app = KioskApp(config, outbox, surface, inputs=inputs, clock=clock)
    app.step([])
    return app, clock


def pump(app) -> None:
    app.step(pygame.event.get())


def tap(app, pos, *, double: bool = False, gap: float = 1.5) -> None:
    """A touch as SDL delivers it: FINGERDOWN, and with ``double`` also the mouse copy."""
    app.clock.advance(gap)  # deliberate taps: past the settle time that drops a double tap
    w, h = app.surface.get_size()
    pygame.event.post(pygame.event.Event(pygame.FINGERDOWN, x=pos[0] / w, y=pos[1] / h,
                                         dx=0.0, dy=0.0, touch_id=1, finger_id=0, pressure=1.0))
    if double:
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1,
                                             touch=True))
    pump(app)


def click(app, pos) -> None:
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1, touch=False))
    pump(app)


def key(app, char: str) -> None:
    code = pygame.key.key_code(char) if len(char) == 1 else getattr(pygame, f"K_{char}")
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=code, unicode=char if len(char) == 1
                                         else "", mod=0, scancode=0))
    pump(app)
    app.clock.advance(0.1)  # past [scanner] key_gap: a lone key is a key, not a scan
    app.step([])


def target(app, name: str) -> pygame.Rect:
    for t in app.screen.targets:
        if t.name == name:
            return t.rect
    raise AssertionError(f"no target {name} on {app.screen.name}: "
                         f"{[t.name for t in app.screen.targets]}")


def ratings(app) -> list[dict]:
    import json
    rows = app.outbox.db.execute("SELECT body, sealed FROM ratings ORDER BY id").fetchall()
    return [{**json.loads(body), "_sealed": sealed} for body, sealed in rows]
