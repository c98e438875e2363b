"""Sounds and the spoken prompts: the rating question, the reasons, thank you.

Each prompt (``prompt``, ``reasons``, ``thanks``) is, in order of preference: the
file named by ``[sound] prompt_file`` / ``thanks_file``; ``<voice_dir>/<name>.wav``
when ``[sound] voice`` is on (made by ``hailong kiosk voice`` with Debian's espeak-ng
Vietnamese voice, or recorded by the commune under the same names); else a generated
chime. Where there is no sound device (a Pi without speakers, a test machine) it stays
silent: a kiosk never fails for want of a speaker.

``played`` lists what was played, as ``name:source`` (voice, file or chime), so tests
under SDL's dummy audio driver can check a prompt was spoken.
"""

from __future__ import annotations

import array
import logging
import math
from pathlib import Path

import pygame

log = logging.getLogger(__name__)

# (frequency Hz, seconds) notes: a rising invitation, a question, a settling thank-you.
TUNES = {"prompt": ((660, 0.12), (880, 0.18)),
         "reasons": ((880, 0.12), (740, 0.18)),
         "thanks": ((880, 0.12), (660, 0.12), (990, 0.25))}
PROMPTS = tuple(TUNES)


class Sound:
    def __init__(self, enabled: bool = True, volume: float = 0.6,
                 files: dict[str, Path | str | None] | None = None,
                 voice_dir: Path | str | None = None):
        self.sounds: dict[str, pygame.mixer.Sound] = {}
        self.sources: dict[str, str] = {}
        self.played: list[str] = []
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
            candidates = [((files or {}).get(name), "file")]
            if voice_dir:
                candidates.append((Path(voice_dir) / f"{name}.wav", "voice"))
            sound, source = None, "chime"
            for path, kind in candidates:
                if not path or not Path(path).is_file():
                    continue
                try:
                    sound, source = pygame.mixer.Sound(str(path)), kind
                    break
                except pygame.error as e:
                    log.warning("sound %s: %s; trying the next", path, e)
            if sound is None:
                sound = _tune(notes, rate, channels)
            sound.set_volume(volume)
            self.sounds[name] = sound
            self.sources[name] = source
        log.info("sounds: %s", ", ".join(f"{k} {v}" for k, v in self.sources.items()))

    @classmethod
    def from_config(cls, config, **kw) -> Sound:
        s = config.sound
        return cls(s.enabled, s.volume, {"prompt": s.prompt_file or None,
                                         "thanks": s.thanks_file or None},
                   voice_dir=s.voice_dir if s.voice and str(s.voice_dir) else None)

    def play(self, name: str) -> None:
        sound = self.sounds.get(name)
        if sound is not None:
            try:
                sound.play()
                self.played.append(f"{name}:{self.sources[name]}")
                del self.played[:-100]
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
