"""Geometry that scales: every screen is laid out from its size, never from constants.

The unit ``u`` is the short side over 480 px, so the official 7" touchscreen
(800x480, about 155 mm wide: 5.2 px/mm) has ``u = 1``; a touch target must be at
least ``MIN_TARGET * u`` px on its short side there (15 mm). Portrait screens
(taller than wide) get stacked layouts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

MIN_TARGET = 78  # px at u = 1: 15 mm on the 7" screen
SIZES = ((800, 480), (1024, 600), (1280, 800), (1920, 1080), (480, 800), (1080, 1920))


@dataclass(frozen=True)
class Target:
    """Something a citizen can touch: ``name`` is what the screen acts on."""
    name: str
    rect: pygame.Rect
    small_ok: bool = False  # technician-only controls may be smaller than MIN_TARGET


class Metrics:
    def __init__(self, size: tuple[int, int]):
        self.w, self.h = size
        self.u = min(self.w, self.h) / 480
        self.portrait = self.h > self.w
        self.margin = round(14 * self.u)
        self.gap = round(12 * self.u)
        self.min_target = round(MIN_TARGET * self.u)

    def px(self, value: float) -> int:
        return round(value * self.u)

    @property
    def screen(self) -> pygame.Rect:
        return pygame.Rect(0, 0, self.w, self.h)

    @property
    def inner(self) -> pygame.Rect:
        return self.screen.inflate(-2 * self.margin, -2 * self.margin)


def grid(area: pygame.Rect, rows: int, cols: int, gap: int) -> list[pygame.Rect]:
    """Cells row by row, filling ``area`` with ``gap`` between them."""
    cw = (area.w - gap * (cols - 1)) / cols
    ch = (area.h - gap * (rows - 1)) / rows
    cells = []
    for r in range(rows):
        for c in range(cols):
            x = area.x + round(c * (cw + gap))
            y = area.y + round(r * (ch + gap))
            cells.append(pygame.Rect(x, y, round(cw), round(ch)))
    return cells


def _split(length: int, start: int, sizes: tuple[float, ...], gap: int) -> list[tuple[int, int]]:
    """(position, size) of each part; a size <= 1 is a share of what the fixed ones leave."""
    fixed = sum(v for v in sizes if v > 1) + gap * (len(sizes) - 1)
    rest = max(0, length - fixed)
    shares = sum(v for v in sizes if v <= 1) or 1
    pos, out = start, []
    for v in sizes:
        size = round(v if v > 1 else rest * v / shares)
        out.append((pos, size))
        pos += size + gap
    return out


def stack(area: pygame.Rect, *heights: float, gap: int = 0) -> list[pygame.Rect]:
    """Split ``area`` top to bottom (see :func:`_split` for the sizes)."""
    return [pygame.Rect(area.x, y, area.w, h) for y, h in _split(area.h, area.y, heights, gap)]


def row(area: pygame.Rect, *widths: float, gap: int = 0) -> list[pygame.Rect]:
    """Split ``area`` left to right, like :func:`stack`."""
    return [pygame.Rect(x, area.y, w, area.h) for x, w in _split(area.w, area.x, widths, gap)]


def problems(targets: list[Target], size: tuple[int, int]) -> list[str]:
    """Layout sanity: each target on screen, big enough, and not overlapping another."""
    m = Metrics(size)
    out = []
    for t in targets:
        if not m.screen.contains(t.rect):
            out.append(f"{t.name} {tuple(t.rect)} is off the {size} screen")
        if not t.small_ok and min(t.rect.w, t.rect.h) < m.min_target:
            out.append(f"{t.name} {tuple(t.rect)} is smaller than {m.min_target} px")
    for i, a in enumerate(targets):
        for b in targets[i + 1:]:
            if a.rect.colliderect(b.rect):
                out.append(f"{a.name} overlaps {b.name}")
    return out
