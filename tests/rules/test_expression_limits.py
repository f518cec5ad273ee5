"""Review issue 12: 49 nested parentheses, 108 NOT or 54 nested CASE raised RecursionError (HTTP 500 in the
editor, a traceback from `qinqing policy check`). Nesting, tree depth and compiled size are bounded with a
Chinese error carrying the span; no input makes check, compile or evaluate raise anything but a RuleError."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinqing.rules import PolicyErrors, RuleError, compile_policy, evaluate
from qinqing.rules.check import MAX_COMPILED_NODES, MAX_LENGTH, check_expression, compiled_size
from qinqing.rules.compile import lower
from qinqing.rules.errors import ExpressionError
from qinqing.rules.parse import MAX_NESTING, MAX_TREE_DEPTH, parse_expression
from rules_helpers import make_policy

AS_OF = date(2024, 1, 1)
REVIEW_CASES = {
    "49 parentheses": "(" * 49 + "revenue > 0" + ")" * 49,
    "108 NOT": "NOT " * 108 + "is_dishonest",
    "54 nested CASE": "CASE WHEN " * 54 + "TRUE" + " THEN TRUE ELSE FALSE END" * 54,
    "42 nested LEAST": "LEAST(" * 42 + "revenue" + ", 2)" * 42 + " > 0",
}


def _deep_stack(frames: int, fn):
    """Run ``fn`` under ``frames`` more Python frames, as a web handler or the CLI would."""
    return fn() if frames == 0 else _deep_stack(frames - 1, fn)


@pytest.mark.parametrize("text", REVIEW_CASES.values(), ids=REVIEW_CASES.keys())
def test_review_inputs_give_a_located_chinese_error_issue_12(text):
    with pytest.raises(ExpressionError) as failure:
        _deep_stack(200, lambda: check_expression(text, "boolean"))
    (issue,) = failure.value.issues
    assert "嵌套过深" in issue.message and f"最多 {MAX_NESTING} 层" in issue.message
    assert 0 <= issue.start < issue.end <= len(text)


def test_nesting_error_names_file_line_and_column_issue_12():
    with pytest.raises(PolicyErrors) as failure:
        make_policy({"a": REVIEW_CASES["49 parentheses"]})
    (error,) = failure.value.errors
    assert "嵌套过深" in error.message and "test.yaml:" in str(error) and error.span.col > 1


@pytest.mark.parametrize(
    "text",
    ["(" * (MAX_NESTING - 1) + "revenue > 0" + ")" * (MAX_NESTING - 1), "NOT " * MAX_NESTING + "is_dishonest",
     "LEAST(LEAST(LEAST(revenue, 1), 2), 3) > 0", "employees > 1 AND NOT (revenue > 2 OR NOT is_dishonest)"],
)  # fmt: skip
def test_nesting_up_to_the_limit_is_accepted_and_runs(text):
    policy = make_policy({"a": text})
    for dialect in ("duckdb", "spark"):
        compile_policy(policy, dialect, AS_OF).select_sql("t")
    assert evaluate(policy, {"revenue": 5, "is_dishonest": False}, AS_OF).status in ("eligible", "ineligible")


def test_long_chains_are_balanced_not_refused_issue_12():
    text = " OR ".join(f"employees = {i}" for i in range(200))  # 3,686 characters
    tree = parse_expression(text)
    depth, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        depth = max(depth, d)
        stack.extend((c, d + 1) for c in node.iter_expressions())
    assert depth <= 20  # log2(200) levels of OR, not 200
    assert tree.sql() == text  # the same SQL text
    policy = make_policy({"a": text})
    assert evaluate(policy, {"employees": 199}, AS_OF).status == "eligible"
    assert evaluate(policy, {"employees": 200}, AS_OF).status == "ineligible"


def test_deep_arithmetic_is_refused_at_a_bound_issue_12():
    with pytest.raises(ExpressionError, match=f"超过 {MAX_TREE_DEPTH} 层"):
        check_expression("revenue" + " + 1" * 200 + " > 0", "boolean")


def test_doubling_under_lowering_is_bounded_issue_12():
    """Lowering writes LEAST's arguments twice: 15 nested LEAST were 2^15 compiled nodes."""
    text = "LEAST(" * 15 + "revenue" + ", 2)" * 15 + " > 0"
    with pytest.raises(ExpressionError, match=str(MAX_COMPILED_NODES)):
        check_expression(text, "boolean")


def test_many_industries_compile_issue_12():
    """A policy's industries became one OR of STARTS_WITH, held to the authors' 4,000 characters: 150 codes
    loaded, then every evaluation failed."""
    codes = [f"C{n}" for n in range(1300, 1450)]
    policy = make_policy({"a": "revenue > 1"}, industries=codes)
    assert evaluate(policy, {"revenue": 5, "industry_code": "C1449"}, AS_OF).status == "eligible"
    assert evaluate(policy, {"revenue": 5, "industry_code": "C1450"}, AS_OF).status == "ineligible"


# Random nesting of every construct that recurses in sqlglot, the checker, lowering or the evaluators.
_WRAPPERS = [
    lambda x: f"({x})", lambda x: f"NOT {x}", lambda x: f"- {x}", lambda x: f"LEAST({x}, 1)",
    lambda x: f"GREATEST(1, {x})", lambda x: f"COALESCE({x}, 0)", lambda x: f"ABS({x})", lambda x: f"ROUND({x}, 2)",
    lambda x: f"CASE WHEN {x} THEN 1 ELSE 0 END", lambda x: f"CASE WHEN TRUE THEN {x} ELSE 2 END",
    lambda x: f"{x} + 1", lambda x: f"1 / {x}", lambda x: f"{x} > 0", lambda x: f"{x} AND TRUE",
    lambda x: f"{x} = {x}", lambda x: f"FLOOR({x})",
]  # fmt: skip


@st.composite
def nested(draw) -> str:
    text = draw(st.sampled_from(["revenue", "employees", "is_dishonest", "1", "TRUE"]))
    for i in draw(st.lists(st.integers(0, len(_WRAPPERS) - 1), max_size=120)):
        text = _WRAPPERS[i](text)
        if len(text) > 20_000:
            break
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(nested(), st.sampled_from(["boolean", "numeric"]))
def test_no_recursion_error_for_any_nesting_issue_12(text, want):
    def run():
        try:
            tree = check_expression(text, want, max_length=None)
        except RuleError:
            return
        assert compiled_size(tree) >= sum(1 for _ in lower(tree).walk())
        if len(text) > MAX_LENGTH:
            return  # the loader refuses it for its length alone
        policy = make_policy({"a": text} if want == "boolean" else {"a": "TRUE"}, None if want == "boolean" else {"expr": text})
        for dialect in ("duckdb", "spark"):
            compile_policy(policy, dialect, AS_OF).select_sql("t")
        evaluate(policy, {"revenue": 5, "employees": 3, "is_dishonest": False}, AS_OF)

    _deep_stack(150, run)  # a RecursionError fails the test
