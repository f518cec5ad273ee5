"""Loading policy files: every error with its file, line, column and a Chinese message."""

from __future__ import annotations

from pathlib import Path

import pytest

from qinqing.rules import PolicyErrors, check_files, load_policy, parse_policy_text
from rules_helpers import policy_text

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "policies/heilongjiang/hlj-2021-new-above-scale-industrial.yaml"


def _errors(text: str) -> list:
    with pytest.raises(PolicyErrors) as failure:
        parse_policy_text(text, "bad.yaml")
    return failure.value.errors


def test_seed_policy_loads():
    policy = load_policy(SEED)
    assert policy.id == "hlj-2021-new-above-scale-industrial"
    assert [c.id for c in policy.conditions] == ["legal_person", "newly_above_scale", "not_dishonest", "not_abnormal"]
    assert policy.benefit.rounding.digits == 4


# (what is wrong, the replacement in the seed text, expected message fragment, the text the error must point at)
BROKEN = [
    ("misspelt field", ("expr: legal_person", "expr: legal_persn"), "未知字段“legal_persn”，是否想写“legal_person”", "legal_persn"),
    ("number vs text", ("above_scale_since = 2021", "above_scale_since = '2021'"), "不能比较整数和文本", "above_scale_since = '2021'"),
    ("arithmetic on boolean", ("expr: NOT is_dishonest", "expr: is_dishonest + 1 > 1"), "算术运算只能用于数值", "is_dishonest +"),
    ("file reader", ("expr: NOT is_dishonest", "expr: read_csv('/etc/passwd') IS NULL"), "不支持函数 READ_CSV()", "read_csv("),
    ("unknown key", ("materials:", "material:"), "未知的键“material”", "material:"),
    ("bad level", ("level: 省", "level: 州"), "“州”不是允许的取值", "州"),
    ("unquoted region", ('region: "230000"', "region: 230000"), "“region”应为文本", "230000"),
    ("unknown region", ('region: "230000"', 'region: "239999"'), "行政区划代码“239999”不存在", '"239999"'),
    ("bad industry", ('industries: ["B", "C", "D"]', 'industries: ["B", "制造业"]'), "行业代码“制造业”格式不正确", '"制造业"'),
    ("reserved id", ("id: legal_person", "id: region"), "保留字", "region"),
    ("yaml syntax", ("title: 黑龙江", "title: [黑龙江"), "YAML 格式错误", None),
]


@pytest.mark.parametrize(("what", "change", "message", "pointed"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_names_place_and_reason(what, change, message, pointed):
    text = SEED.read_text(encoding="utf-8")
    assert change[0] in text
    broken = text.replace(change[0], change[1], 1)
    errors = _errors(broken)
    hits = [e for e in errors if message in e.message]
    assert hits, [str(e) for e in errors]
    span = hits[0].span
    assert span.file == "bad.yaml"
    line_of_change = broken[: broken.index(change[1])].count("\n") + 1
    if pointed is None:  # YAML reports a syntax error where it notices it: that line or the next
        assert span.line in (line_of_change, line_of_change + 1), str(hits[0])
    else:
        assert span.line == line_of_change, str(hits[0])
        assert broken.splitlines()[span.line - 1][span.col - 1 :].startswith(pointed), str(hits[0])
    assert "bad.yaml:" in str(hits[0]) and "^" in str(hits[0])


def test_every_error_of_a_file_at_once():
    text = SEED.read_text(encoding="utf-8")
    text = text.replace("expr: legal_person", "expr: legal_persn").replace("level: 省", "level: 州")
    text = text.replace("expr: NOT is_dishonest", "expr: is_dishonest + 1 > 1")
    assert len(_errors(text)) == 3


def test_block_scalar_expression_points_into_the_block():
    text = policy_text({"a": "revenue > 1"}).replace("expr: revenue > 1", "expr: |\n      revenue > 1\n        AND revenu < 5")
    errors = _errors(text)
    assert len(errors) == 1 and "revenu" in errors[0].message
    lines = text.splitlines()
    span = errors[0].span
    assert lines[span.line - 1][span.col - 1 : span.col - 1 + 6] == "revenu"


def test_check_files_recurses_skips_scenarios_and_reports_duplicates(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a/one.yaml").write_text(policy_text({"x": "revenue > 1"}), encoding="utf-8")
    (tmp_path / "a/two.yaml").write_text(policy_text({"x": "revenue > 2"}), encoding="utf-8")
    (tmp_path / "a/one.scenarios.yaml").write_text("policy: test-policy\ncases: []\n", encoding="utf-8")
    errors = check_files([tmp_path])
    assert len(errors) == 1 and "重复" in errors[0].message


def test_catalogue_passes():
    assert [str(e) for e in check_files([ROOT / "policies"])] == []


def test_each_missing_key_is_named_once_in_chinese():
    messages = [e.message for e in _errors("id: test-missing-keys\ntitle: 缺少多项\n")]
    required = [m for m in messages if m.startswith("缺少必填项")]
    assert "缺少必填项“发布机关”（issuer）" in required
    assert "缺少必填项“适用地区”（region）" in required
    assert len(required) == len(set(required)) >= 5
