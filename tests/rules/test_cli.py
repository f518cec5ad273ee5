"""`qinqing policy check`, `qinqing match` and `qinqing explain` end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
from typer.testing import CliRunner

from qinqing.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "policies/heilongjiang/hlj-2021-new-above-scale-industrial.yaml"
runner = CliRunner()
ROWS = pa.table({
    "uscc": ["A", "B"], "name": ["甲公司", "乙公司"], "region_code": ["230102", "230102"], "industry_code": ["C3911", "C3911"],
    "legal_person": [True, True], "is_above_scale": [True, True], "above_scale_since": [2021, 2020],
    "is_dishonest": [False, False], "in_abnormal_list": [False, False], "in_safety_blacklist": [False, None],
})  # fmt: skip


def test_policy_check_reports_every_error_with_place(tmp_path):
    bad = tmp_path / "bad.yaml"
    seed = SEED.read_text(encoding="utf-8")
    bad.write_text(seed.replace("expr: legal_person", "expr: read_csv('/etc/passwd')").replace("level: 省", "level: 州"), encoding="utf-8")
    result = runner.invoke(app, ["policy", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{bad}:24:11: 不支持函数 READ_CSV()" in result.output
    assert f"{bad}:9:8:" in result.output and "2 处错误" in result.output


def test_policy_check_passes_the_seed():
    result = runner.invoke(app, ["policy", "check", str(SEED)])
    assert result.exit_code == 0, result.output


def test_match_writes_csv_and_jsonl(tmp_path):
    pacsv.write_csv(ROWS, tmp_path / "e.csv")
    for suffix in ("csv", "jsonl"):
        out = tmp_path / f"out.{suffix}"
        result = runner.invoke(app, ["match", "--all-pairs", "--draft-policies", str(SEED), "--enterprises", str(tmp_path / "e.csv"),
                                     "--out", str(out), "--as-of", "2021-12-01"])  # fmt: skip
        assert result.exit_code == 0, result.output
        if suffix == "csv":
            rows = sorted(csv.DictReader(out.open(encoding="utf-8")), key=lambda r: r["uscc"])
            assert [(r["uscc"], r["status"], r["amount"], r["failed"], r["missing"]) for r in rows] == [
                ("A", "eligible", "50.0000", "", ""),
                ("B", "ineligible", "", "newly_above_scale", ""),
            ]
        else:
            rows = sorted((json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()), key=lambda r: r["uscc"])
            assert rows[0]["amount"] == "50.0000" and rows[1]["failed"] == ["newly_above_scale"]


def test_match_skips_expired_policies(tmp_path):
    pacsv.write_csv(ROWS, tmp_path / "e.csv")
    result = runner.invoke(app, ["match", "--all-pairs", "--draft-policies", str(SEED), "--enterprises", str(tmp_path / "e.csv"),
                                 "--out", str(tmp_path / "o.csv"), "--as-of", "2023-01-01"])  # fmt: skip
    assert result.exit_code == 0 and "0 项政策" in result.output


def test_explain_in_chinese(tmp_path):
    pacsv.write_csv(ROWS, tmp_path / "e.csv")
    result = runner.invoke(app, ["explain", "--draft-policies", str(SEED), "--enterprise", str(tmp_path / "e.csv"),
                                 "--uscc", "B", "--policy", "hlj-2021-new-above-scale-industrial", "--as-of", "2021-12-01"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "【不符合】经统计部门审核认定新纳入规模以上工业统计范围" in result.output
    assert "纳统年份（above_scale_since）= 2020" in result.output
    assert "是否列入安全生产黑名单（in_safety_blacklist）= 缺失" in result.output
    assert "结论：不符合" in result.output
