"""The leader guide stays true: every dashboard setting is in its table exactly as
the config table says, every API route is documented, the new commands have help."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hailong.cli import main
from hailong.settings import render_reference
from server.config import SERVER_SETTINGS
from server.web import create_app

from dashboard_support import load

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "leader-guide.md"
SECTIONS = ("web", "followup", "alerts", "privacy")


def test_every_dashboard_setting_is_documented():
    text = GUIDE.read_text(encoding="utf-8")
    rows = render_reference([s for s in SERVER_SETTINGS if s.section in SECTIONS])
    for line in rows.splitlines()[2:]:
        assert line in text, f"docs/leader-guide.md lacks or misstates: {line}"


def test_every_api_route_is_documented(tmp_path):
    text = GUIDE.read_text(encoding="utf-8")
    app = create_app(load(tmp_path))
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = rule.rule.replace("<int:case_id>", "<id>")
            assert f"`{path}" in text, f"{rule.rule} is not in docs/leader-guide.md"


def test_new_commands_have_help():
    runner = CliRunner()
    for command in ("add-user", "users", "disable-user", "enable-user", "remove-user",
                    "reset-password", "seed"):
        out = runner.invoke(main, ["server", command, "--help"])
        assert out.exit_code == 0 and len(out.output.splitlines()) > 3
