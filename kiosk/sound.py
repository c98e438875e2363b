"""Optional sounds: a short chime inviting a rating and one saying thank you.

Tones are generated (no sound files needed); a recorded voice prompt can be
configured instead (``[sound] prompt_file`` / ``thanks_file``). Where there is no
sound device (a Pi without speakers, a test machine) it stays silent: a kiosk never
fails for want of a speaker.
"""

from __future__ import annotations

import array
import logging
import math
from pathlib import Path

import pygame

log = logging.getLogger(__name__)

# (frequency Hz, seconds) notes: a rising invitation and a settling thank-you.
TUNES = {"prompt": ((660, 0.12), (880, 0.18)),
         "thanks": ((880, 0.12), (660, 0.12), (990, 0.25))}


class Sound:
    def __init__(self, enabled: bool = True, volume: float = 0.6,
                 files: dict[str, Path | str | None] | None = None):
        self.sounds: dict[str, pygame.mixer.Sound] = {}
        self.ok = False
        if not enabled or volume <= 0:
            return
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=22050, size=-16, channels=1, buffer=512)
        except pygame.error as e:
            log.info("no sound device (%s): running silently", e)
            return
        self.ok = True
        rate, _, channels = pygame.mixer.get_init()
        for name, notes in TUNES.items():
            path = (files or {}).get(name)
            try:
                sound = pygame.mixer.Sound(str(path)) if path else _tune(notes, rate, channels)
            except (pygame.error, FileNotFoundError) as e:
                log.warning("sound %s: %s; using a tone", name, e)
                sound = _tune(notes, rate, channels)
            sound.set_volume(volume)
            self.sounds[name] = sound

    def play(self, name: str) -> None:
        sound = self.sounds.get(name)
        if sound is not None:
            try:
                sound.play()
            except pygame.error:  # the device went away: stay quiet
                pass


def _tune(notes, rate: int, channels: int) -> pygame.mixer.Sound:
    samples = array.array("h")
    for freq, seconds in notes:
        n = int(rate * seconds)
        for i in range(n):
            envelope = min(1.0, i / (rate * 0.01), (n - i) / (rate * 0.03))  # no clicks
            value = int(12000 * envelope * math.sin(2 * math.pi * freq * i / rate))
            samples.extend([value] * channels)
    return pygame.mixer.Sound(buffer=samples.tobytes())
