"""`qinqing appeals …` on a database of its own."""

from __future__ import annotations

from typer.testing import CliRunner

from qinqing.cli import app


def test_appeals_commands(tmp_path, monkeypatch):
    from qinqing.settings import get_settings

    monkeypatch.setenv("QINQING_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        shown = runner.invoke(app, ["appeals", "config", "show"])
        assert shown.exit_code == 0 and "dispatch_office" in shown.output
        config = tmp_path / "appeals.yaml"
        config.write_text(shown.output.replace("min_count: 20", "min_count: 10"), encoding="utf-8")
        assert "修订 1" in runner.invoke(app, ["appeals", "config", "load", str(config)]).output
        result = runner.invoke(app, ["appeals", "rankings", "--month", "2026-09", "--out", str(tmp_path / "r.xlsx")])
        assert result.exit_code == 0 and (tmp_path / "r.xlsx").exists()
        assert runner.invoke(app, ["appeals", "sweep"]).exit_code == 0
        result = runner.invoke(app, ["appeals", "classifier", "--samples", "90"])
        assert result.exit_code == 0 and "accuracy" in result.output
    finally:
        get_settings.cache_clear()
