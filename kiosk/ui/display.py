"""Opening the screen: full screen on the Pi (SDL kmsdrm), a window elsewhere,
the dummy driver for ``--headless``.

On Raspberry Pi OS Lite, pygame silently falls back to the "offscreen" driver
when kmsdrm cannot be opened (wrong permissions, no DRM device) and the kiosk would
run blind. In full-screen mode we check the driver we actually got and refuse.
"""

from __future__ import annotations

import logging
import os

import pygame

from hailong.errors import ConfigError, HailongError

log = logging.getLogger(__name__)

BLIND_DRIVERS = ("offscreen", "dummy")


class DisplayError(HailongError, RuntimeError):
    """The screen cannot be opened as configured."""


def parse_size(value: str, where: str = "[display] size") -> tuple[int, int]:
    try:
        w, h = (int(part) for part in value.lower().split("x"))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not WIDTHxHEIGHT, e.g. 800x480") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise ConfigError(f"{where}: {value!r} is out of range")
    return w, h


def has_desktop() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def wants_fullscreen(mode: str, headless: bool) -> bool:
    if headless:
        return False
    return mode == "fullscreen" or (mode == "auto" and not has_desktop())


def open_display(config, *, headless: bool = False) -> pygame.Surface:
    """Initialise SDL's video and return the surface to draw on."""
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    fullscreen = wants_fullscreen(config.display.mode, headless)
    size = parse_size(config.display.size, f"{config.path}: [display] size")
    try:
        pygame.display.init()
    except pygame.error as e:
        raise DisplayError(f"cannot open a display: {e} (on a Pi without a desktop, the "
                           "kiosk user needs the 'video' and 'render' groups)") from None
    driver = pygame.display.get_driver()
    if fullscreen and driver in BLIND_DRIVERS:
        pygame.display.quit()
        raise DisplayError(f"full-screen mode got SDL's '{driver}' video driver, which shows "
                           "nothing: check SDL_VIDEODRIVER=kmsdrm and access to /dev/dri "
                           "(or use --headless for tests)")
    pygame.display.set_caption("Hài Lòng")
    if fullscreen:
        surface = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        pygame.mouse.set_visible(False)  # a touchscreen kiosk: no arrow on screen
    else:
        surface = pygame.display.set_mode(size)
    # Only what the kiosk reacts to: fewer wake-ups for an idle kiosk.
    pygame.event.set_blocked(None)
    from kiosk.ui.events import BUTTON
    pygame.event.set_allowed([pygame.QUIT, pygame.KEYDOWN, pygame.MOUSEBUTTONDOWN,
                              pygame.FINGERDOWN, pygame.WINDOWEXPOSED, pygame.VIDEOEXPOSE,
                              BUTTON])
    log.info("display: driver %s, %dx%d%s", driver, *surface.get_size(),
             " full screen" if fullscreen else "")
    return surface
