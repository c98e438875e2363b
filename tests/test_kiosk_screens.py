"""Every screen at every size: laid out sanely, every UI string drawable, catalogs current."""

from __future__ import annotations

import subprocess
import sys

import pygame
import pytest
from kiosk_ui_support import make_app, write_config

from kiosk.config import load_kiosk_config
from kiosk.ui import i18n
from kiosk.ui.fonts import Fonts, find_font
from kiosk.ui.layout import SIZES
from kiosk.ui.screenshots import SCENES, render_scene


@pytest.fixture(scope="module")
def fonts():
    pygame.font.init()
    return Fonts(*find_font())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_screen_lays_out(tmp_path, fonts, size):
    config = load_kiosk_config(write_config(tmp_path))
    for scene in SCENES:
        surface, problems = render_scene(config, scene, size, fonts, tmp_path)
        assert problems == [], f"{scene} at {size}: {problems}"
        # something was drawn: not a blank surface
        assert len({tuple(surface.get_at((x, y))) for x in range(0, size[0], 37)
                    for y in range(0, size[1], 41)}) > 2, scene


def test_every_ui_string_has_glyphs(tmp_path, fonts):
    app, _ = make_app(tmp_path)
    strings = app.all_strings()
    assert any("Rất" in s for s in strings)
    assert fonts.missing(strings) == {}


def test_default_pygame_font_lacks_vietnamese(tmp_path):
    # Why the kiosk looks for its own font: pygame's built-in one draws boxes.
    import pygame.freetype
    pygame.freetype.init()
    builtin = pygame.freetype.Font(None, 24)
    assert None in builtin.get_metrics("Rất hài lòng · Ủy ban")


def test_missing_glyphs_are_reported(fonts):
    assert fonts.missing(["Hài lòng", "中文"]) == {"中文": "中文"}


def test_catalogs_cover_every_message():
    for lang in i18n.LANGUAGES:
        t = i18n.Translator(lang)
        missing = [m for m in i18n.MSGIDS if not t.has(m)]
        assert missing == [], f"{lang}: {missing}"
    assert i18n.Translator("vi")("Skip") == "Bỏ qua"


def test_compiled_catalogs_are_current(tmp_path):
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po
    for lang in i18n.LANGUAGES:
        folder = i18n.LOCALE_DIR / lang / "LC_MESSAGES"
        with open(folder / "kiosk.po", "rb") as f:
            po = {m.id: m.string for m in read_po(f) if m.id}
        with open(folder / "kiosk.mo", "rb") as f:
            mo = {m.id: m.string for m in read_mo(f) if m.id}
        assert po == mo, f"{lang}: run python -m kiosk.ui.i18n"


def test_screenshots_command(tmp_path):
    conf = write_config(tmp_path)
    out = tmp_path / "shots"
    result = subprocess.run([sys.executable, "-m", "hailong", "kiosk", "screenshots", "--config",
                             str(conf), "--out", str(out), "--size", "800x480"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    assert len(list(out.glob("*-800x480.png"))) == len(SCENES)


def test_consent_sentence_promises_the_servers_retention(tmp_path):
    from sync.contract import KioskConfig
    app, _ = make_app(tmp_path)
    try:
        assert app.contact_retention_days == 30  # the kiosk's own, until the server says
        app.outbox.save_config(KioskConfig(v=1, revision=1, contact_retention_days=45))
        app.poll()
        assert app.contact_retention_days == 45
        assert "45" in app.screens["phone"].consent_text()
    finally:
        app.close()
