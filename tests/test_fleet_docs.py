"""The technician guide stays true: every [fleet] setting and every fleet command
it is about appears in it, and every such command has help."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hailong.cli import main
from server.config import SERVER_SETTINGS

GUIDE = (Path(__file__).resolve().parent.parent / "docs" / "technician-guide.md").read_text()
COMMANDS = [["server", c] for c in ("broker-config", "add-kiosk", "remove-kiosk", "fleet")] + \
    [["server", "roster", c] for c in ("add-official", "remove-official", "set-on-duty",
                                       "set-counter", "set-scale", "set-reasons", "push", "show")]


def test_every_fleet_setting_is_in_the_guide():
    for s in SERVER_SETTINGS:
        if s.section == "fleet":
            assert f"`[fleet] {s.name}`" in GUIDE, s.name


def test_every_fleet_command_has_help_and_is_in_the_guide():
    runner = CliRunner()
    for words in COMMANDS:
        result = runner.invoke(main, [*words, "--help"])
        assert result.exit_code == 0 and len(result.output.splitlines()) > 3, words
        assert words[-1] in GUIDE, words
