"""`qinqing audit verify` and `qinqing audit show` on the configured database."""

from __future__ import annotations

import pytest
from audit_support import append_rows, tamper
from typer.testing import CliRunner

from qinqing.cli import app
from qinqing.settings import get_settings

runner = CliRunner()


@pytest.fixture
def configured(engine, database_url, monkeypatch):
    monkeypatch.setenv("QINQING_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


def test_verify_prints_the_head_and_checks_an_exported_one(configured):
    entries = append_rows(configured, 3)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "审计链完好：共 3 行" in result.output
    exported = f"3:{entries[-1].row_hash}"
    assert result.output.strip().splitlines()[-1] == exported
    assert runner.invoke(app, ["audit", "verify", "--anchor", exported]).exit_code == 0
    assert runner.invoke(app, ["audit", "verify", "--anchor", "2:" + "f" * 64]).exit_code == 1
    assert runner.invoke(app, ["audit", "verify", "--anchor", "2:xyz"]).exit_code == 2


def test_verify_fails_on_an_edited_row(configured):
    append_rows(configured, 3)
    tamper(configured, "UPDATE audit_log SET reason = '改过' WHERE seq = 2")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "第 2 行：内容与哈希不符" in result.output


def test_show_lists_an_objects_rows_with_chinese_labels(configured, monkeypatch):
    from qinqing.cli import audit as audit_cli

    monkeypatch.setattr(audit_cli.console, "_width", 200)  # one line per row, whatever the terminal
    append_rows(configured, 2, object_id="zj-001")
    append_rows(configured, 1, object_id="other")
    result = runner.invoke(app, ["audit", "show", "policy", "zj-001"])
    assert result.exit_code == 0, result.output
    assert "政策 zj-001 的操作记录：2 条" in result.output and "保存草稿" in result.output
