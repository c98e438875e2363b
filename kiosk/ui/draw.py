"""Drawing primitives: faces, buttons, chips, avatars and wrapped text.

Faces are drawn with pygame primitives (no image files), so they stay sharp at any
size. Colours are high-contrast: near-black on white, white on dark blue.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pygame

from kiosk.ui.fonts import Fonts

WHITE = (255, 255, 255)
INK = (20, 20, 20)
MUTED = (70, 74, 80)
BRAND = (0, 61, 130)        # header band, primary buttons
BRAND_TEXT = WHITE
LIGHT = (228, 232, 238)     # secondary buttons
BORDER = (40, 44, 52)
SELECTED = (0, 90, 170)
WARNING = (176, 96, 0)
FAULT_BG = (60, 60, 66)

# Best to worst, per scale: green to red, as counter terminals do everywhere.
FACE_COLOURS = {
    3: ((0, 130, 60), (240, 180, 0), (200, 30, 40)),
    # "Bình thường" is neutral: yellow, as on 3 and 5 levels (it used to be orange
    # and frowning, and mildly unhappy citizens picked it and left no reason).
    4: ((0, 130, 60), (120, 190, 60), (240, 190, 0), (200, 30, 40)),
    5: ((0, 130, 60), (120, 190, 60), (240, 190, 0), (240, 120, 30), (200, 30, 40)),
}


def mood(position: int, count: int) -> float:
    """+1 for the best level (position 0) down to -1 for the worst."""
    return 1.0 - 2.0 * position / (count - 1)


def neutral_score(scale: int) -> int:
    """The middle level, "Bình thường": 2 of 3 or 4, 3 of 5."""
    return (scale + 1) // 2


def mood_for(score: int, scale: int) -> float:
    """+1 for the best level, 0 (a flat mouth) for the neutral one, -1 for the worst."""
    mid = neutral_score(scale)
    if score >= mid:
        return (score - mid) / (scale - mid)
    return -(mid - score) / (mid - 1)


def face(surface: pygame.Surface, center: tuple[int, int], radius: int, colour,
         moodv: float) -> None:
    """A round face; the mouth bends up for +1, is flat for 0, bends down for -1."""
    cx, cy = center
    pygame.draw.circle(surface, colour, center, radius)
    pygame.draw.circle(surface, INK, center, radius, max(2, radius // 22))
    eye = max(3, radius // 8)
    for dx in (-1, 1):
        pygame.draw.circle(surface, INK, (cx + dx * radius * 0.36, cy - radius * 0.22), eye)
    half = radius * 0.45
    base = cy + radius * 0.38 - moodv * radius * 0.14
    bend = moodv * radius * 0.28
    points = [(cx + t * half, base + bend * (1 - t * t))
              for t in (i / 10 - 1 for i in range(21))]
    width = max(3, radius // 11)
    pygame.draw.lines(surface, INK, False, points, width)
    for point in points:  # round joins and ends: thick polylines are jagged otherwise
        pygame.draw.circle(surface, INK, point, width / 2)


def wrap(font: pygame.font.Font, text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}".strip()
            if not line or font.size(candidate)[0] <= width:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def text(surface: pygame.Surface, fonts: Fonts, value: str, rect: pygame.Rect, *,
         size: int, colour=INK, bold: bool = False, align: str = "center",
         valign: str = "center", min_size: int | None = None) -> pygame.Rect:
    """Draw ``value`` wrapped inside ``rect``, shrinking the font until it fits, but
    never below ``fonts.min_px`` (the physical minimum, issue 9: the most serious
    reason used to shrink to 2.8 mm). Text that cannot fit is drawn at the minimum,
    clipped, and reported in ``fonts.report`` for the layout check.
    Returns the rectangle actually covered."""
    if min_size is None:
        min_size = getattr(fonts, "min_px", 10)
    size = max(min_size, size)
    while True:
        font = fonts.get(size, bold)
        lines = wrap(font, value, rect.w)
        step = font.get_linesize()
        height = step * len(lines)
        widest = max(font.size(line)[0] for line in lines) if lines else 0
        if (height <= rect.h and widest <= rect.w) or size <= min_size:
            break
        size = max(min_size, int(size * 0.9))
    if (height > rect.h or widest > rect.w) and hasattr(fonts, "report"):
        fonts.report.append(f"text {value[:40]!r} does not fit {tuple(rect)} at "
                            f"{size} px (the minimum)")
    y = {"top": rect.y, "bottom": rect.bottom - height}.get(valign, rect.centery - height // 2)
    covered = pygame.Rect(rect.x, y, 0, 0)
    for line in lines:
        img = font.render(line, True, colour)
        x = {"left": rect.x, "right": rect.right - img.get_width()}.get(
            align, rect.centerx - img.get_width() // 2)
        surface.blit(img, (x, y))
        covered.union_ip(pygame.Rect(x, y, img.get_width(), img.get_height()))
        y += step
    return covered


def button(surface: pygame.Surface, fonts: Fonts, rect: pygame.Rect, label: str, *,
           primary: bool = False, size: int = 28, radius: int = 14,
           fill=None, colour=None) -> None:
    bg = fill or (BRAND if primary else LIGHT)
    fg = colour or (BRAND_TEXT if primary else INK)
    pygame.draw.rect(surface, bg, rect, border_radius=radius)
    pygame.draw.rect(surface, BORDER, rect, width=max(2, radius // 6), border_radius=radius)
    pad = max(6, rect.h // 10)
    text(surface, fonts, label, rect.inflate(-2 * pad, -pad), size=size, colour=fg,
         bold=primary)


def chip(surface: pygame.Surface, fonts: Fonts, rect: pygame.Rect, label: str,
         selected: bool, *, size: int, radius: int) -> None:
    """A reason the citizen can tick: selected chips are filled and carry a tick."""
    bg, fg = (SELECTED, WHITE) if selected else (WHITE, INK)
    pygame.draw.rect(surface, bg, rect, border_radius=radius)
    pygame.draw.rect(surface, BORDER, rect, width=max(2, radius // 5), border_radius=radius)
    side = min(rect.h * 0.38, rect.w * 0.16)
    box = pygame.Rect(0, 0, side, side)
    box.midleft = (rect.x + side * 0.5, rect.centery)
    pygame.draw.rect(surface, WHITE, box, border_radius=4)
    pygame.draw.rect(surface, INK, box, width=max(2, box.w // 10), border_radius=4)
    if selected:
        tick(surface, box, SELECTED)
    label_rect = pygame.Rect(box.right + side * 0.4, rect.y + 4,
                             rect.right - box.right - side * 0.6, rect.h - 8)
    text(surface, fonts, label, label_rect, size=size, colour=fg, align="left")


def tick(surface: pygame.Surface, box: pygame.Rect, colour) -> None:
    w = max(3, box.w // 7)
    pts = [(box.x + box.w * 0.18, box.y + box.h * 0.52), (box.x + box.w * 0.42, box.y + box.h * 0.78),
           (box.x + box.w * 0.84, box.y + box.h * 0.22)]
    pygame.draw.lines(surface, colour, False, pts, w)


def initials(name: str) -> str:
    """The given name's first letter: Vietnamese names end with the given name."""
    words = [w for w in name.split() if w]
    return words[-1][0].upper() if words else "?"


def _palette_for(name: str) -> tuple[int, int, int]:
    palette = ((0, 93, 160), (0, 120, 90), (130, 60, 150), (170, 70, 30), (60, 90, 120))
    return palette[sum(map(ord, name)) % len(palette)]


@functools.lru_cache(maxsize=8)
def _load_photo(path: str, diameter: int) -> pygame.Surface | None:
    try:
        img = pygame.image.load(path)
    except (pygame.error, FileNotFoundError, OSError):
        return None
    side = min(img.get_width(), img.get_height())
    crop = img.subsurface(pygame.Rect((img.get_width() - side) // 2,
                                      (img.get_height() - side) // 2, side, side))
    scaled = pygame.transform.smoothscale(crop, (diameter, diameter))
    out = pygame.Surface((diameter, diameter), pygame.SRCALPHA)
    out.blit(scaled, (0, 0))
    mask = pygame.Surface((diameter, diameter), pygame.SRCALPHA)
    pygame.draw.circle(mask, (255, 255, 255, 255), (diameter // 2, diameter // 2), diameter // 2)
    out.blit(mask, (0, 0), special_flags=pygame.BLEND_RGBA_MIN)
    return out


def avatar(surface: pygame.Surface, fonts: Fonts, center: tuple[int, int], radius: int,
           name: str, photo: Path | None = None) -> None:
    """The official's photo in a circle, or their initial on a coloured disc."""
    img = _load_photo(str(photo), radius * 2) if photo else None
    if img is not None:
        surface.blit(img, (center[0] - radius, center[1] - radius))
    else:
        pygame.draw.circle(surface, _palette_for(name), center, radius)
        letter = fonts.get(int(radius * 1.1), True).render(initials(name), True, WHITE)
        surface.blit(letter, letter.get_rect(center=center))
    pygame.draw.circle(surface, WHITE, center, radius, max(2, radius // 20))
