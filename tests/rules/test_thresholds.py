"""Each threshold word of Chinese policy texts, written as its operator, at its boundary (docs/semantics.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qinqing.rules import evaluate
from rules_helpers import make_policy

AS_OF = date(2023, 12, 1)

# (word, clause, expression, below, at, above) — "营业收入 X 2000万元" with revenue 1999.9999 / 2000 / 2000.0001.
WORDS = [
    ("以上", "营业收入2000万元以上", "revenue >= 2000", False, True, True),
    ("以下", "营业收入2000万元以下", "revenue <= 2000", True, True, False),
    ("以内", "营业收入2000万元以内", "revenue <= 2000", True, True, False),
    ("不低于", "营业收入不低于2000万元", "revenue >= 2000", False, True, True),
    ("不高于", "营业收入不高于2000万元", "revenue <= 2000", True, True, False),
    ("不超过", "营业收入不超过2000万元", "revenue <= 2000", True, True, False),
    ("达到", "营业收入达到2000万元", "revenue >= 2000", False, True, True),
    ("超过", "营业收入超过2000万元", "revenue > 2000", False, False, True),
    ("高于", "营业收入高于2000万元", "revenue > 2000", False, False, True),
    ("低于", "营业收入低于2000万元", "revenue < 2000", True, False, False),
    ("不满", "营业收入不满2000万元", "revenue < 2000", True, False, False),
    ("不足", "营业收入不足2000万元", "revenue < 2000", True, False, False),
]
VALUES = (Decimal("1999.9999"), Decimal("2000"), Decimal("2000.0001"))


@pytest.mark.parametrize(("word", "clause", "expr", "below", "at", "above"), WORDS, ids=[w[0] for w in WORDS])
def test_threshold_word(word, clause, expr, below, at, above):
    policy = make_policy({"threshold": expr})
    got = [evaluate(policy, {"revenue": v}, AS_OF).trace[0].result for v in VALUES]
    assert got == [below, at, above], f"{word}: {clause}"
    assert evaluate(policy, {}, AS_OF).trace[0].result is None  # missing revenue: unknown, never false


def test_the_table_in_the_docs_lists_every_word():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs/semantics.md").read_text(encoding="utf-8")
    for word, _, expr, *_ in WORDS:
        operator = expr.split()[1]
        assert f"| {word} | `{operator}` |" in doc, word
