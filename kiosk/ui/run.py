"""``hailong kiosk run``: wire config, outbox, screen, inputs and sound, then loop."""

from __future__ import annotations

import logging
import signal
import time

import pygame

from kiosk.inputs import KioskInputs
from sync.outbox import Outbox
from kiosk.sound import Sound
from kiosk.ui.app import KioskApp
from kiosk.ui.display import open_display
from kiosk.ui.fonts import Fonts, find_font

log = logging.getLogger(__name__)


def run_kiosk(config, *, headless: bool = False, pin_factory=None) -> None:
    started = time.monotonic()
    inputs = None
    pygame.font.init()
    fonts = Fonts(*find_font(config.display.font or None))
    surface = open_display(config, headless=headless)
    try:
        inputs = KioskInputs.from_config(config.gpio, pin_factory)
        sound = Sound.from_config(config)
        with Outbox(config.store.path) as outbox:
            app = KioskApp(config, outbox, surface, inputs=inputs, sound=sound, fonts=fonts)
            # Every string the screens can show, in both languages, drawn by this font.
            fonts.verify(app.all_strings(remote=False))
            lacking = fonts.missing(app.all_strings())
            if lacking:  # names from the server: draw what we can, but say so
                log.warning("font %s cannot draw %s", fonts.regular, lacking)
            log.info("font %s covers every UI string", fonts.regular)

            def stop(*_):
                app.running = False
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            from kiosk.ui.snapshot import serve
            serve(app, config.store.path)

            def first_frame():
                log.info("first frame after %.2f s", time.monotonic() - started)
            try:
                app.run(first_frame)
            finally:
                app.close()
    finally:
        if inputs is not None:
            inputs.close()
        pygame.quit()
