"""The README stays true to the code: every setting and every command it should name, it names."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command

from qinqing.cli import app
from qinqing.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
CLI = get_command(app)


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"QINQING_{name.upper()}" in README


@pytest.mark.parametrize("name", sorted(CLI.commands))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"qinqing {name}" in README


@pytest.mark.parametrize("name", sorted(CLI.commands))
def test_every_command_has_help(name: str) -> None:
    command = CLI.commands[name]
    assert (command.help or "").strip(), f"qinqing {name} has no --help text"
    for sub in getattr(command, "commands", {}).values():
        assert (sub.help or "").strip(), f"qinqing {name} {sub.name} has no --help text"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in README and "scripts/test.sh" in ci
