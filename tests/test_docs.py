"""Docs kept honest by tests: every command has help, every setting and command is in
docs/reference.md, and the README opens with the two commands."""

from __future__ import annotations

from pathlib import Path

from hailong import reference

ROOT = Path(__file__).resolve().parent.parent


def test_every_command_has_help():
    missing = [path for path, command in reference.commands() if not (command.help or "").strip()]
    assert not missing, f"commands without help: {missing}"


def test_reference_is_in_step_with_the_code():
    written = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert written == reference.render(), (
        "docs/reference.md is stale: run `python -m hailong.reference > docs/reference.md`")


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:400]
    assert "make demo" in head and "make test" in head
