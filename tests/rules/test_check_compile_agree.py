"""Review issue 10: `name = 'O''Brien' OR TRUE` passed the checker, the save and `qinqing policy check`, and
the compiler refused it (check.py and safety.py had two whitelists). Now one (safety.SOURCE_NODES and
safety.string_literal_problem), and a property: every expression the checker accepts compiles and gives the
same status and amount on DuckDB, on Spark, with rules.evaluate and with the reference evaluator."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinqing.matching.engines import ENTERPRISE_SCHEMA
from qinqing.matching.engines import duckdb as duckdb_engine
from qinqing.rules import RuleError, compile_policy, evaluate
from qinqing.rules.check import check_expression
from qinqing.rules.evaluate import coerce
from qinqing.rules.reference import reference_outcome
from qinqing.rules.safety import SOURCE_NODES, unsafe_parts
from rules_helpers import make_policy

AS_OF = date(2023, 12, 1)


def test_quoted_name_compiles_and_runs_issue_10():
    policy = make_policy({"a": "name = 'O''Brien' OR TRUE", "b": "name IN ('O''Brien', '甲')"})
    for dialect in ("duckdb", "spark"):
        compile_policy(policy, dialect, AS_OF)  # raised CompileError: string literal "O'Brien"
    rows = [{"uscc": "A", "name": "O'Brien"}, {"uscc": "B", "name": "乙"}]
    assert [s for _, s, _ in _duckdb([policy], rows)] == ["eligible", "ineligible"]
    assert evaluate(policy, {"name": "O'Brien"}, AS_OF).status == "eligible"


def test_checker_accepts_only_the_shared_whitelist_issue_10():
    for text in ["name = 'O''Brien'", "revenue > 1 AND YEAR(established_on) < 2020", "LEAST(revenue, 2) > 1"]:
        tree = check_expression(text, "boolean")
        assert all(type(n) in SOURCE_NODES for n in tree.walk()) and unsafe_parts(tree) == []


# --- a small grammar over a few fields of every kind -------------------------------------------
FIELDS = {"revenue": "n", "employees": "n", "layoff_rate": "n", "name": "s", "is_dishonest": "b", "established_on": "d"}
_NUMBERS = ["0", "1", "2", "10", "0.5", "1.25", "100.0001", "-3", "YEAR(established_on)", "YEAR(as_of)"]
_STRINGS = ["'O''Brien'", "'甲'", "'a_b'", "''"]
_PATTERNS = ["'O%'", "'%甲%'", "'a\\_b'", "'_'", "'%'", "'%''%'"]
_DATES = ["DATE '2020-01-01'", "as_of", "established_on"]


def _leaf(kind: str) -> st.SearchStrategy[str]:
    fields = [f for f, k in FIELDS.items() if k == kind]
    extra = {"n": _NUMBERS, "s": _STRINGS, "b": ["TRUE", "FALSE"], "d": _DATES}[kind]
    return st.sampled_from(fields + extra)


@lru_cache(maxsize=None)
def _expr(kind: str, depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return _leaf(kind)
    sub = lambda k: _expr(k, depth - 1)  # noqa: E731
    n, b = sub("n"), sub("b")
    options = [_leaf(kind), st.builds("({})".format, sub(kind)),
               st.builds("CASE WHEN {} THEN {} ELSE {} END".format, b, sub(kind), sub(kind)),
               st.builds("COALESCE({}, {})".format, sub(kind), sub(kind))]  # fmt: skip
    if kind == "n":
        options += [
            st.builds("{} {} {}".format, n, st.sampled_from(["+", "-", "*", "/"]), n),
            st.builds("-{}".format, n),
            st.builds("{}({}, {})".format, st.sampled_from(["LEAST", "GREATEST"]), n, n),
            st.builds("{}({})".format, st.sampled_from(["ABS", "FLOOR", "CEIL", "ROUND"]), n),
            st.builds("ROUND({}, {})".format, n, st.sampled_from(["0", "2"])),
        ]
    if kind == "b":
        any_kind = st.sampled_from("nsdb").flatmap(sub)  # sometimes ill-typed: the checker must refuse it
        options += [
            st.builds("NOT {}".format, b),
            st.builds("{} {} {}".format, b, st.sampled_from(["AND", "OR"]), b),
            st.builds("{} {} {}".format, n, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), n),
            st.builds("{} = {}".format, sub("s"), sub("s")),
            st.builds("{} < {}".format, sub("d"), sub("d")),
            st.builds("{} BETWEEN {} AND {}".format, n, n, n),
            st.builds("{} IN ({}, {})".format, n, st.sampled_from(["1", "2.5", "-3"]), st.sampled_from(["0", "10"])),
            st.builds("{} IN ({})".format, sub("s"), st.sampled_from(_STRINGS)),
            st.builds("{} LIKE {}".format, sub("s"), st.sampled_from(_PATTERNS)),
            st.builds("STARTS_WITH({}, {})".format, sub("s"), st.sampled_from(_STRINGS)),
            st.builds("{} IS {}NULL".format, any_kind, st.sampled_from(["", "NOT "])),
            st.builds("{} = {}".format, any_kind, any_kind),
        ]
    return st.one_of(options)


_ROW_VALUES = {
    "revenue": [None, Decimal("0"), Decimal("0.5"), Decimal("10"), Decimal("2500.125"), Decimal("40000")],
    "employees": [None, 0, 1, 2, 3, 10, 300],
    "layoff_rate": [None, 0.0, 0.03, 0.5, 1.0 / 3],
    "name": [None, "O'Brien", "甲", "a_b", "", "O甲"],
    "is_dishonest": [None, True, False],
    "established_on": [None, date(2019, 12, 31), date(2020, 1, 1), date(2023, 12, 1)],
}
ROWS = [
    {"uscc": f"R{i:03d}", **{name: values[(i * (k + 3) + k) % len(values)] for k, (name, values) in enumerate(_ROW_VALUES.items())}}
    for i in range(60)
]  # fmt: skip


@st.composite
def policies(draw, count: int):
    """Up to ``count`` policies whose condition and benefit the checker accepts (refused ones are skipped)."""
    out = []
    for i in range(count):
        condition, benefit = draw(_expr("b", draw(st.integers(0, 3)))), draw(_expr("n", draw(st.integers(0, 3))))
        try:
            check_expression(condition, "boolean")
            check_expression(benefit, "numeric")
        except RuleError:
            continue
        cap = draw(st.sampled_from([None, 100]))
        out.append(make_policy({"a": condition}, {"expr": benefit, "cap": cap}, id=f"test-agree-{i}"))
    return out


def _table(rows: list[dict]) -> pa.Table:
    return pa.table({n: [coerce(n, r.get(n)) for r in rows] for n in ENTERPRISE_SCHEMA.names}, schema=ENTERPRISE_SCHEMA)


def _rows_of(table: pa.Table) -> list[tuple]:
    return sorted((r["policy_id"] + "/" + r["uscc"], r["status"], r["amount"]) for r in table.to_pylist())


def _duckdb(policies, rows=ROWS) -> list[tuple]:
    return _rows_of(duckdb_engine.match(policies, _table(rows), AS_OF))


def _evaluated(policies, rows=ROWS) -> list[tuple]:
    out = []
    for policy in policies:
        for row in rows:
            facts = {k: v for k, v in row.items() if k != "uscc"}
            o = evaluate(policy, facts, AS_OF)
            r = reference_outcome(policy, facts, AS_OF)
            assert (o.status, o.amount) == (r["status"], r["amount"]), (policy.conditions[0].expr, policy.benefit.expr, row)
            out.append((policy.id + "/" + row["uscc"], o.status, o.amount))
    return sorted(out)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(policies(count=12))
def test_accepted_expressions_agree_on_duckdb_and_evaluate_issue_10(batch):
    if batch:
        _assert_same(batch, _duckdb(batch), _evaluated(batch))


def _assert_same(batch, got: list[tuple], want: list[tuple]) -> None:
    """Equal results; else the first pair that differs, with its policy's expressions and row."""
    exprs = {p.id: (p.conditions[0].expr, p.benefit.expr, p.benefit.cap) for p in batch}
    rows = {r["uscc"]: r for r in ROWS}
    for a, b in zip(got, want):
        policy_id, uscc = a[0].split("/")
        assert a == b, (exprs[policy_id], rows.get(uscc))
    assert len(got) == len(want)


@pytest.mark.spark
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(policies(count=15))
def test_accepted_expressions_agree_on_spark_issue_10(batch):
    from qinqing.matching.engines import spark as spark_engine

    if batch:
        got = _rows_of(spark_engine.match(batch, _table(ROWS), AS_OF, spark=spark_engine.session()))
        _assert_same(batch, got, _duckdb(batch))


@pytest.mark.parametrize(
    "benefit",
    ["CASE WHEN NOT is_dishonest THEN 1 ELSE 2 END", "CASE WHEN is_dishonest AND employees > 1 THEN 1 ELSE 2 END",
     "LEAST(-revenue, 5) + 10", "CASE WHEN employees = 2 THEN 1 ELSE 2 END"],
)  # fmt: skip
def test_null_guards_keep_their_operand_whole_issue_10(benefit):
    """Found by the property below: lowering's guard `WHEN NOT is_dishonest IS NULL` was read by DuckDB and
    Spark as NOT (is_dishonest IS NULL), so an unknown WHEN fell through to ELSE instead of making it unknown."""
    policy = make_policy({"a": "TRUE"}, {"expr": benefit})
    rows = [{"uscc": "A"}, {"uscc": "B", "is_dishonest": False, "employees": 2, "revenue": Decimal("1")}]
    got = _duckdb([policy], rows)
    assert got == _evaluated([policy], rows)
    assert got[0][2] is None  # unknown inputs, no amount


@pytest.mark.parametrize(
    "condition", ["is_dishonest = employees > 1", "is_dishonest = employees IS NULL", "(employees > 1) = (revenue > 1)",
                  "is_dishonest = name LIKE 'O%'", "is_dishonest IN (employees > 1)"],
)  # fmt: skip
def test_predicate_operands_are_parenthesised_issue_10(condition):
    """Found by the property below: `is_dishonest = employees > 1` was written as a chained comparison,
    which DuckDB refuses, and `a = b IS NULL` was read by the engines as a = (b IS NULL)."""
    try:
        check_expression(condition, "boolean")
    except RuleError:
        return  # refused by the checker: nothing to compile
    policy = make_policy({"a": condition})
    rows = [{"uscc": "A", "is_dishonest": True, "employees": 2, "name": "O甲"}, {"uscc": "B", "is_dishonest": False}]
    assert _duckdb([policy], rows) == _evaluated([policy], rows)


@pytest.mark.parametrize(
    "benefit", ["COALESCE(COALESCE(revenue, 1.25), ROUND(layoff_rate))", "LEAST(1.25, FLOOR(layoff_rate + 2))",
                "CASE WHEN employees > 1 THEN 1.25 ELSE CEIL(layoff_rate) END", "GREATEST(ROUND(layoff_rate, 1), 0.75)"],
)  # fmt: skip
def test_rounded_doubles_keep_the_scale_of_their_neighbours(benefit):
    """Found by the property above: DuckDB types ROUND(DECIMAL(38, 10), 0) as DECIMAL(38, 0), and a
    COALESCE (or CASE, LEAST, GREATEST) of it with 1.25 stayed at scale 0, so 1.25 became 1."""
    policy = make_policy({"a": "TRUE"}, {"expr": benefit})
    rows = [{"uscc": "A"}, {"uscc": "B", "employees": 2, "layoff_rate": 0.4},
            {"uscc": "C", "employees": 1, "layoff_rate": 2.5, "revenue": Decimal("3")}]
    assert _duckdb([policy], rows) == _evaluated([policy], rows)


def test_a_floor_of_a_rounded_double_keeps_its_neighbour_s_scale():
    """Found by the property: FLOOR(ROUND(layoff_rate, 2)) is DECIMAL(38, 0) in DuckDB, and the CASE
    beside -100.0001 + 1 gave -99 instead of -99.0001."""
    policy = make_policy({"a": "TRUE"}, {"expr": "CASE WHEN is_dishonest THEN -100.0001 + 1 ELSE FLOOR(ROUND(layoff_rate, 2)) END"})
    rows = [{"uscc": "A", "is_dishonest": True, "layoff_rate": 0.03}, {"uscc": "B", "is_dishonest": False, "layoff_rate": 2.5}]
    assert _duckdb([policy], rows) == _evaluated([policy], rows)
