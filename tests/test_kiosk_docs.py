"""docs/kiosk.md and the README stay true: every kiosk screen setting documented, every
screenshot they show exists, every kiosk command has help."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from hailong.cli import main
from hailong.settings import render_reference
from kiosk.config import KIOSK_SETTINGS
from kiosk.ui.screenshots import SCENES

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("display", "flow", "gpio", "sound")


def test_every_screen_setting_is_documented():
    text = (ROOT / "docs" / "kiosk.md").read_text()
    for line in render_reference([s for s in KIOSK_SETTINGS if s.section in SECTIONS]).splitlines()[2:]:
        assert line in text, f"docs/kiosk.md lacks or misstates: {line}"


def test_every_screenshot_shown_exists_and_every_scene_is_shown():
    for doc in ("README.md", "docs/kiosk.md"):
        text = (ROOT / doc).read_text()
        for path in re.findall(r"\((?:docs/)?(screenshots/kiosk/[^)]+\.png)\)", text):
            assert (ROOT / "docs" / path).is_file(), f"{doc} shows missing {path}"
    text = (ROOT / "docs" / "kiosk.md").read_text()
    for scene in SCENES:
        for size in ("800x480", "1920x1080"):
            assert f"screenshots/kiosk/{scene}-{size}.png" in text


def test_kiosk_commands_have_help():
    runner = CliRunner()
    for command in ("run", "screenshots", "doctor"):
        result = runner.invoke(main, ["kiosk", command, "--help"])
        assert result.exit_code == 0 and len(result.output) > 100, command
