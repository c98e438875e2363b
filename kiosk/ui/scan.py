"""Telling a USB barcode/QR reader from a citizen at the keyboard.

A scanner on the Pi is an HID keyboard: it types the code a few milliseconds per
character and then Enter. A citizen (or a keypad wired as a keyboard) presses one
key at a time, hundreds of milliseconds apart. So printable keys are held back for
``key_gap`` seconds: keys that keep coming faster than that and end in Enter are one
scan; a key left alone is passed on as a key (keys 1-5 still rate, only ``key_gap``
later). With no dossier pattern configured, keys pass straight through.
"""

from __future__ import annotations

import re

import pygame

MIN_SCAN = 3  # characters: shorter bursts ending in Enter are keys, not a code
ENTER = (pygame.K_RETURN, pygame.K_KP_ENTER)


class ScanReader:
    def __init__(self, pattern: str, key_gap: float = 0.05):
        self.pattern = re.compile(pattern) if pattern else None
        self.key_gap = key_gap
        self._held: list[tuple[int, str]] = []
        self._last = 0.0

    def matches(self, code: str) -> bool:
        return bool(self.pattern and self.pattern.search(code))

    def key(self, key: int, char: str, now: float) -> list[tuple[str, object]]:
        """Take one key press; return what to act on now: ("key", (key, char)) items
        and at most one ("scan", code)."""
        if self.pattern is None:
            return [("key", (key, char))]
        out: list[tuple[str, object]] = []
        if self._held and now - self._last > self.key_gap:
            out += self._release()
        if key in ENTER:
            if len(self._held) >= MIN_SCAN:
                code = "".join(c for _, c in self._held)
                self._held = []
                return out + [("scan", code)]
            return out + self._release() + [("key", (key, char))]
        if char and char.isprintable():
            self._held.append((key, char))
            self._last = now
            return out
        return out + self._release() + [("key", (key, char))]

    def due(self) -> float | None:
        """When held keys are to be let through as keys (monotonic), or None."""
        return self._last + self.key_gap if self._held else None

    def flush(self, now: float) -> list[tuple[str, object]]:
        """Keys held longer than ``key_gap`` with no Enter: a person's key presses."""
        if self._held and now - self._last >= self.key_gap:
            return self._release()
        return []

    def _release(self) -> list[tuple[str, object]]:
        held, self._held = self._held, []
        return [("key", k) for k in held]
