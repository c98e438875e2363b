"""One input path: touch, mouse, keys and physical buttons become taps, keys and presses.

gpiozero calls its callbacks on its own threads; they only post a :data:`BUTTON`
event (pibooth's ``BUTTONDOWN = pygame.USEREVENT + 1``), so everything meets in one
handler on the UI thread. A tap on a Pi touchscreen may arrive twice, as
``FINGERDOWN`` and as the ``MOUSEBUTTONDOWN(touch=True)`` SDL synthesises from it:
:class:`TapFilter` lets one through.
"""

from __future__ import annotations

import math
import time

import pygame

BUTTON = pygame.event.custom_type()  # a physical button: attribute ``index`` (0 = best)


def post_button(index: int) -> None:
    """Thread-safe (SDL_PushEvent): safe to call from a gpiozero callback."""
    pygame.event.post(pygame.event.Event(BUTTON, index=index))


class TapFilter:
    """Turns pointer events into tap positions, counting one physical tap once."""

    window = 0.35        # seconds within which a second tap at the same spot is the same tap
    finger_shadow = 1.0  # seconds after a FINGERDOWN in which touch-made mouse events are echoes

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._last: tuple[float, tuple[float, float]] | None = None
        self._last_finger = -math.inf

    def tap(self, event: pygame.event.Event, size: tuple[int, int]) -> tuple[int, int] | None:
        now = self.clock()
        if event.type == pygame.FINGERDOWN:
            pos = (event.x * size[0], event.y * size[1])
            self._last_finger = now
        elif event.type == pygame.MOUSEBUTTONDOWN:
            if event.button != 1:
                return None
            if getattr(event, "touch", False) and now - self._last_finger < self.finger_shadow:
                return None  # SDL's mouse copy of a finger we already counted
            pos = event.pos
        else:
            return None
        if self._last is not None:
            then, (x, y) = self._last
            near = math.dist(pos, (x, y)) < 0.06 * math.hypot(*size)
            if now - then < self.window and near:
                return None
        self._last = (now, pos)
        return int(pos[0]), int(pos[1])
