"""The kiosk's smaller parts: duty sign-in against the roster, photos from the cache,
sound that stays silent without a device."""

from __future__ import annotations

import hashlib
import time

import pygame
from kiosk_ui_support import make_app, pump, target

from kiosk.duty import Duty
from sync.outbox import Outbox
from kiosk.photos import cache_folder
from kiosk.sound import Sound
from sync import contract


def test_newest_word_wins_between_roster_and_sign_in(tmp_path):
    with Outbox(tmp_path / "k.db") as outbox:
        duty = Duty(outbox)
        assert duty.on_duty("cb-an") == "cb-an"            # roster only
        outbox.save_config(contract.KioskConfig(v=1, revision=1, on_duty="cb-an"))
        time.sleep(0.01)
        duty.sign_in("cb-binh")
        assert duty.on_duty("cb-an") == "cb-binh"          # signed in after the config
        duty.sign_out()
        assert duty.on_duty("cb-an") is None               # signed out: nobody
        time.sleep(0.01)
        outbox.save_config(contract.KioskConfig(v=1, revision=2, on_duty="cb-chi"))
        assert duty.on_duty("cb-chi") == "cb-chi"          # a newer roster wins again
        assert Duty(outbox).latest()[1] == "out"           # kept across restarts


def test_cached_photo_is_shown_on_idle(tmp_path):
    url = "http://127.0.0.1/photos/an.png"
    app, clock = make_app(tmp_path)
    folder = cache_folder(app.config.store.path)
    folder.mkdir(parents=True, exist_ok=True)
    photo = pygame.Surface((60, 60))
    photo.fill((250, 0, 250))  # a colour nothing else on the screen has
    pygame.image.save(photo, str(folder / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".png")))
    app.outbox.save_config(contract.KioskConfig(
        v=1, revision=1, on_duty="cb-an",
        officials=[contract.Official(id="cb-an", name="Nguyễn Thị Ân", photo=url)]))
    clock.advance(1)
    app.step([])
    pump(app)
    w, h = app.surface.get_size()
    pixels = {tuple(app.surface.get_at((x, y)))[:3] for x in range(0, w, 10) for y in range(0, h, 10)}
    assert (250, 0, 250) in pixels
    assert target(app, "lang")


def test_sound_without_a_device_is_silent():
    sound = Sound(enabled=True, volume=0.5)  # SDL_AUDIODRIVER=dummy in tests, or no device
    sound.play("thanks")
    sound.play("no-such-sound")
    assert Sound(enabled=False).sounds == {}
