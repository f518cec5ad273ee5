"""Pages in Chinese: conditions numbered 条件一/二…, fields by their 中文名 with the department holding
the data, identifiers only in attributes; the label helpers themselves."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from web_support import ELIGIBLE, UNKNOWN

from qinqing.catalogue.labels import chinese_number, path_label
from qinqing.registry.schema import ALL_FIELDS, DERIVED_FIELDS
from qinqing.web.services.labels import DERIVED_EXPLAINED, fields_read, industry_label

HLJ_POLICY = "hlj-2021-new-above-scale-industrial"
CONDITION_IDS = ("region", "industries", "legal_person", "newly_above_scale", "not_dishonest", "not_abnormal")
FIELD_NAMES = tuple(f.name for f in ALL_FIELDS)


class _VisibleText(HTMLParser):
    """The text a reader sees: no tags, no attributes, no scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_words(html: str) -> set[str]:
    parser = _VisibleText()
    parser.feed(html)
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(parser.parts)))


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (6, "六"), (10, "十"), (12, "十二"), (20, "二十"), (99, "九十九"),
                                         (100, "100"), (0, "0")])
def test_chinese_number(n, text):
    assert chinese_number(n) == text


@pytest.mark.parametrize(("path", "shown"), [
    ("conditions.0.expr", "申报条件 › 条件一 › 表达式"),
    ("$.conditions[11].clause", "申报条件 › 条件十二 › 原文条款"),
    (("benefit", "cap"), "扶持标准 › 最高金额"),
    ("materials.2", "申报材料 › 第3项"),
])
def test_path_label(path, shown):
    assert path_label(path) == shown


def test_fields_read_names_the_data_and_who_holds_it():
    read = fields_read("is_above_scale AND above_scale_since = 2021 AND region_code LIKE '23%'")
    names = {f.name for f in read}
    assert names == {"is_above_scale", "above_scale_since", "region_code"}
    assert all(f.department and f.label != f.name for f in read)


def test_every_derived_field_is_explained_in_chinese():
    assert set(DERIVED_EXPLAINED) == {f.name for f in DERIVED_FIELDS}
    assert not any(re.search(r"[A-Za-z_]{3,}", text) for text in DERIVED_EXPLAINED.values())


def test_industry_label():
    assert industry_label("C39") == "计算机、通信和其他电子设备制造业（C39）"


def test_my_policies_numbers_conditions_and_keeps_ids_in_attributes(client_for):
    html = client_for("ent_eligible").get(f"/enterprises/{ELIGIBLE}/policies").text
    for i, cid in enumerate(CONDITION_IDS):
        assert f'data-condition="{cid}"' in html
        assert f"条件{chinese_number(i + 1)}" in html
    leaked = visible_words(html) & set(CONDITION_IDS + FIELD_NAMES)
    assert not leaked, leaked


def test_missing_data_is_named_in_chinese_with_its_department(client_for):
    html = client_for("ent_unknown").get(f"/enterprises/{UNKNOWN}/policies").text
    assert "<strong>是否列入安全生产黑名单</strong>（数据来源：应急管理部门）" in html
    assert 'data-field="in_safety_blacklist"' in html
    assert not visible_words(html) & set(CONDITION_IDS + FIELD_NAMES)


def test_profile_and_policy_pages_show_no_identifiers_to_an_enterprise(client_for):
    client = client_for("ent_eligible")
    profile = client.get(f"/enterprises/{ELIGIBLE}").text
    assert "营业收入 ÷ 上年营业收入 − 1" in profile
    policy = client.get(f"/policies/{HLJ_POLICY}").text
    assert "判断所用数据：" in policy and "规则表达式" not in policy
    for html in (profile, policy):
        leaked = visible_words(html) & set(CONDITION_IDS + FIELD_NAMES)
        assert not leaked, leaked


def test_officers_also_see_the_rule_expressions(client_for):
    html = client_for("officer_hlj").get(f"/policies/{HLJ_POLICY}").text
    assert "规则表达式：<code>" in html and "is_above_scale" in html


def test_an_invalid_policy_file_is_explained_in_chinese_at_its_places():
    from qinqing.catalogue.errors import PolicyInvalid
    from qinqing.catalogue.parse import parse_policy

    with pytest.raises(PolicyInvalid) as caught:
        parse_policy("id: x\ntitle: 标题\n", "x.yaml")
    problems = caught.value.problems
    assert problems[0].message == "缺少必填项“发布机关”（issuer）" and (problems[0].line, problems[0].column) == (1, 1)
    bad_id = next(p for p in problems if p.path == "id")
    assert (bad_id.line, bad_id.column) == (1, 5) and bad_id.message.startswith("“x”格式不正确")
    assert all(re.search(r"[\u4e00-\u9fff]", p.message) for p in problems)
    assert caught.value.details["filename"] == "x.yaml"
