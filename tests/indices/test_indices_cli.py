"""`qinqing indices compute | list | supervise` as a user runs them."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from qinqing.cli import app

runner = CliRunner()

CONFIG = """\
id: cli_demo
name: 命令行示例
period: month
missing: {unit_availability: 0.5}
tables:
  d: {path: data.csv, unit_column: code, name_column: name, period_column: month}
supervision: {bottom_k: 1, consecutive: 2}
tiers:
  levels:
    - {id: green, label: 绿, colour: "#2e7d32", min: 60}
    - {id: red, label: 红, colour: "#c62828"}
tree:
  id: total
  name: 总
  children:
    - {id: x, name: X, source: {table: d, column: x}}
    - {id: y, name: Y, source: {table: d, column: y}, impute: mean}
"""


def _write(tmp_path):
    rows = [("2025-01", "330100", "杭州市", 9, 8), ("2025-01", "330200", "宁波市", 5, ""),
            ("2025-01", "330300", "温州市", 1, 2), ("2025-02", "330100", "杭州市", 8, 9),
            ("2025-02", "330200", "宁波市", 6, 5), ("2025-02", "330300", "温州市", 2, 1)]
    with open(tmp_path / "data.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["month", "code", "name", "x", "y"])
        writer.writerows(rows)
    (tmp_path / "demo.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path / "demo.yaml"


def test_compute_a_builtin_index_writes_its_ranking(tmp_path) -> None:
    out = tmp_path / "ranking.csv"
    result = runner.invoke(app, ["indices", "compute", "doing_business_topics", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "NZL" in result.output and "CHN" in result.output
    with open(out, encoding="utf-8") as handle:
        rows = {row["unit"]: row for row in csv.DictReader(handle)}
    assert abs(float(rows["NZL"]["overall"]) - 87.01) <= 0.005 + 1e-9 and rows["NZL"]["rank"] == "1.0"


def test_compute_save_and_supervise(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QINQING_DATABASE_URL", f"sqlite:///{tmp_path / 'q.db'}")
    from qinqing.settings import get_settings

    get_settings.cache_clear()
    config = _write(tmp_path)
    first = runner.invoke(app, ["indices", "compute", str(config), "--period", "2025-01", "--save"])
    assert first.exit_code == 0, first.output
    assert "y:mean" in first.output  # 宁波's missing y imputed by the mean, flagged
    second = runner.invoke(app, ["indices", "compute", str(config), "--period", "2025-02", "--save",
                                 "--uncertainty", "--leave-one-out", "--sensitivity", "16"])
    assert second.exit_code == 0, second.output
    assert "Sobol" in second.output and "weight:total/x" in second.output
    listed = runner.invoke(app, ["indices", "list"])
    assert "cli_demo" in listed.output and "2025-02" in listed.output
    supervised = runner.invoke(app, ["indices", "supervise", "cli_demo", "--actor", "supervisor:li"])
    assert supervised.exit_code == 0, supervised.output
    assert "新列入督办 1 个" in supervised.output and "温州市" in supervised.output
    get_settings.cache_clear()


def test_a_bad_configuration_is_reported_with_its_place(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(CONFIG.replace("column: x}", "column: x}, direction: sideways}").replace("x}}", "x}"),
                   encoding="utf-8")
    result = runner.invoke(app, ["indices", "compute", str(bad)])
    assert result.exit_code != 0
    assert "bad.yaml" in result.output
