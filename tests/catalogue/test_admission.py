"""Admission's dry run: each condition and amount of a policy, as the fast path runs them in DuckDB,
held to the single-enterprise interpreter on the sample rows; each distinct expression checked once."""

from __future__ import annotations

from datetime import date

import pytest

from qinqing.catalogue import admission
from qinqing.rules import parse_policy_text

POLICY = """
id: dry-run-{n}
title: 试运行测试政策
issuer: 西湖区经济和信息化局
document: 测试〔2025〕1号
level: 区县
region: "330106"
support_type: 奖励
mode: 申报
valid_from: 2025-01-01
valid_to: 2026-12-31
source:
  url: https://example.org/qinqing/test
  publisher: qinqing 测试
  retrieved: 2026-12-04
conditions:
  - id: revenue_min
    clause: 上年度营业收入{revenue}万元以上
    expr: revenue >= {revenue}
benefit:
  clause: 按上年度营业收入的1%给予奖励，最高不超过50万元
  expr: revenue * 0.01
  cap: 50
"""


def _policy(n: int, revenue: int = 2000):
    return parse_policy_text(POLICY.format(n=n, revenue=revenue), f"dry-run-{n}.yaml")


def test_a_sound_policy_is_admitted() -> None:
    assert admission.admission_problems(_policy(1), date(2025, 6, 30)) == []


def test_a_disagreement_with_the_interpreter_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: an interpreter that reads a condition the other way round is caught."""
    from qinqing.rules import interpret

    real = interpret.to_python

    def inverted(tree):
        fn = real(tree)
        return lambda row: (None if fn(row) is None else not fn(row)) if isinstance(fn(row), bool) else fn(row)

    monkeypatch.setattr(interpret, "to_python", inverted)
    monkeypatch.setattr(admission, "_CHECKED", set())
    problems = admission.admission_problems(_policy(2, revenue=1234), date(2025, 6, 30))
    assert len(problems) == 1
    assert "不一致" in problems[0].message and problems[0].path == "conditions"


def test_each_distinct_expression_is_run_once(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: set = set()
    monkeypatch.setattr(admission, "_CHECKED", checked)
    admission.admission_problems(_policy(3, revenue=3000), date(2025, 6, 30))
    first = set(checked)
    # region, revenue >= 3000 and the amount (the county scope adds the region condition)
    assert len(first) == 3
    admission.admission_problems(_policy(4, revenue=3000), date(2025, 6, 30))  # same expressions
    assert checked == first
    admission.admission_problems(_policy(5, revenue=4000), date(2025, 6, 30))  # one new threshold
    assert len(checked - first) == 1


def test_the_sample_rows_are_read_in_the_interpreter_s_order() -> None:
    """Row i of the DuckDB query is row i of the interpreter's rows (a parallel CREATE TABLE AS may
    reorder; the check then compared one enterprise's SQL value with another's)."""
    sample = admission._sample("330000", date(2025, 6, 30))
    usccs = [u for (u,) in sample.con.execute("SELECT uscc FROM samples ORDER BY _row").fetchall()]
    assert usccs == [row["uscc"] for row in sample.rows]
