"""Length limits (issue 16.5): a title of at most 200 characters, a clause (condition or benefit) of at most
2,000, refused with a Chinese message at the key's line; the model and the schema agree (the shipped
catalogue is within them: tests/rules/test_load.py::test_catalogue_passes)."""

from __future__ import annotations

import json
from pathlib import Path

import pydantic
import pytest
import yaml
from rules_helpers import BASE

from qinqing.rules import PolicyErrors, parse_policy_text
from qinqing.rules.model import CLAUSE_MAX_LENGTH, TITLE_MAX_LENGTH, Condition

ROOT = Path(__file__).resolve().parents[2]


def _text(title: str = "测试政策", clause: str = "条款", benefit_clause: str = "奖励条款") -> str:
    data = {**BASE, "title": title,
            "conditions": [{"id": "c", "clause": clause, "expr": "employees >= 1"}],
            "benefit": {"clause": benefit_clause, "expr": "10"}}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100_000)


@pytest.mark.parametrize(
    ("text", "message", "key"),
    [
        (_text(title="政" * 200), None, None),
        (_text(title="政" * 201), "“政策名称”过长：201 个字符，最多 200 个字符", "title"),
        (_text(clause="条" * 2000), None, None),
        (_text(clause="条" * 2001), "“原文条款”过长：2001 个字符，最多 2000 个字符", "clause"),
        (_text(benefit_clause="奖" * 8000), "“原文条款”过长：8000 个字符，最多 2000 个字符", "clause"),
    ],
)
def test_limits(text, message, key):
    if message is None:
        parse_policy_text(text, "p.yaml")
        return
    with pytest.raises(PolicyErrors) as failure:
        parse_policy_text(text, "p.yaml")
    (error,) = [e for e in failure.value.errors if message in e.message]
    assert text.splitlines()[error.span.line - 1].lstrip(" -").startswith(key.strip())  # at the key's line


def test_the_model_holds_the_same_limits_as_the_schema():
    schema = json.loads((ROOT / "src/qinqing/rules/policy.schema.json").read_text(encoding="utf-8"))
    props = schema["properties"]
    assert props["title"]["maxLength"] == TITLE_MAX_LENGTH == 200
    assert props["conditions"]["items"]["properties"]["clause"]["maxLength"] == CLAUSE_MAX_LENGTH == 2000
    assert props["benefit"]["properties"]["clause"]["maxLength"] == CLAUSE_MAX_LENGTH
    with pytest.raises(pydantic.ValidationError):
        Condition(id="c", clause="条" * 2001, expr="true")
