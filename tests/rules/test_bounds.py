"""Static range of the amount (rules.bounds): hand-computed ranges, refusals, soundness against the evaluator."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinqing.registry import validate
from qinqing.registry.schema import FIELDS_BY_NAME, HEADCOUNT_MAX, MONEY_MAX, VALUE_RANGES, YEAR_RANGE, FieldType
from qinqing.rules import evaluate, load_policies
from qinqing.rules.bounds import Interval, amount_range, check_amount_bounds
from qinqing.rules.errors import AmountRangeError, RuleError
from tests.rules.rules_helpers import make_policy, policy_text

D = Decimal
TRUE = {"always": "legal_person OR NOT legal_person"}


def _policy(expr: str, cap=None, conditions=None, digits=None):
    benefit = {"expr": expr, **({"cap": cap} if cap is not None else {})}
    if digits is not None:
        benefit["rounding"] = {"digits": digits}
    return make_policy(conditions or TRUE, benefit)


# --- ranges over every enterprise, worked by hand (money in [0, 1e10], headcount in [0, 1e7]) -------------
@pytest.mark.parametrize(
    ("expr", "cap", "low", "high"),
    [
        ("50", None, "50", "50"),
        ("LEAST(revenue * 0.1, 50)", None, "0", "50"),
        ("revenue * 0.1", 300, "0", "300"),
        ("employees * -1", None, "-10000000", "0"),
        ("employees * 0.15", None, "0", "1500000"),
        ("revenue - revenue", None, "0", "0"),  # the same field cancels (affine form), not [-1e10, 1e10]
        ("GREATEST(revenue - revenue_prev, 0) * 0.01", None, "0", "100000000"),
        ("CASE WHEN revenue > 100 THEN 20 WHEN employees > 5 THEN 5 ELSE 10 END", None, "5", "20"),
        ("COALESCE(rd_expense * 0.5, 3)", None, "0", "5000000000"),
        ("ABS(revenue_prev - revenue) * 0.001", None, "0", "10000000"),
        ("ROUND(employees / 3, 1)", None, "0", "3333333.3"),  # 10^7 / 3 = 3333333.33…, half up
        ("FLOOR(layoff_rate * 10) * 2", None, "0", "20"),
        ("(YEAR(DATE '2024-06-01') - 2020) * 5", None, "20", "20"),
        ("revenue / 1000", 25, "0", "25"),
    ],
)
def test_range_over_every_enterprise(expr, cap, low, high):
    assert amount_range(_policy(expr, cap), eligible=False) == Interval(D(low).quantize(D("0.0001")), D(high).quantize(D("0.0001")))


def test_division_by_money_uses_its_smallest_step():
    # revenue / revenue_prev: revenue_prev is 0 (NULL result) or at least 0.0001, so at most 1e10 / 0.0001
    iv = amount_range(_policy("revenue / revenue_prev", cap=10), eligible=False)
    assert iv.low <= 0 and iv.high == 10
    issues = check_amount_bounds(_policy("revenue / revenue_prev"))
    assert len(issues) == 1 and "超过 99,999,999,999,999.9999" in issues[0].message


def test_division_by_a_double_that_may_be_zero_is_unbounded():
    # layoff_rate may be any tiny double: no bound, so compile's cast to DECIMAL(38,10) may overflow
    errors = check_amount_bounds(_policy("1 / layoff_rate", cap=10))
    assert any("转换为 DECIMAL(38,10) 时可能溢出" in e.message for e in errors)
    assert check_amount_bounds(_policy("LEAST(1 / layoff_rate, 10)", cap=10)) != []  # LEAST does not tame NaN
    assert check_amount_bounds(_policy("CASE WHEN layoff_rate > 0.5 THEN 2 ELSE 1 END / (1 + layoff_rate)")) == []


# --- refusals --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "cap", "message"),
    [
        ("employees * -1", None, "金额可能为负数（最低 -10,000,000 万元）"),
        ("999999999999999999", None, "金额可能超过 99,999,999,999,999.9999（DECIMAL(18,4) 的上限"),
        ("revenue - revenue_prev", None, "金额可能为负数（最低 -10,000,000,000 万元）"),
        ("revenue * 100000", None, "中间结果可能超出 DECIMAL(18,4)"),  # DuckDB keeps money × integer in 18 digits
        ("revenue * 1.5000", None, "中间结果可能超出 DECIMAL(18,8)"),  # 1.5 is (2,1), 1.5000 is (5,4)
        ("employees * 999999999999999999", 10, "整数运算可能溢出 INT64"),
        ("age_years * 1000000", 10, "整数运算可能溢出 INT32"),  # age_years is an INT
        ("100000 * 100000", 10, "整数运算可能溢出 INT32"),
        ("revenue_growth * 100000000000000000", 10, "DECIMAL(38,10) 时可能溢出"),
        ("0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001 * 0.0001", None, "DECIMAL(0,40)"),
        ("CASE WHEN revenue * 1000000 > 5 THEN 1 ELSE 0 END", None, "中间结果可能超出"),  # inside a WHEN
    ],
)
def test_refused(expr, cap, message):
    errors = check_amount_bounds(_policy(expr, cap))
    assert errors and all(isinstance(e, AmountRangeError) and isinstance(e, RuleError) for e in errors)
    assert any(message in e.message for e in errors), [e.message for e in errors]


@pytest.mark.parametrize(
    "expr",
    ["employees * -1 + 10000000", "GREATEST(revenue - revenue_prev, 0)", "revenue * 9999", "revenue * 1.5", "LEAST(revenue * 0.1, 50)"],
)
def test_accepted(expr):
    assert check_amount_bounds(_policy(expr)) == []


def test_cap_and_rounding_are_part_of_the_range():
    assert amount_range(_policy("employees * 0.15", cap=100), eligible=False).high == 100
    assert amount_range(_policy("revenue * 0.00001", digits=0), eligible=False) == Interval(D(0), D(100000))
    # a cap does not lift a negative amount
    assert check_amount_bounds(_policy("employees * -1", cap=100))[0].message.startswith("金额可能为负数")


# --- conditions narrow the range for eligible enterprises ----------------------------------------------
@pytest.mark.parametrize(
    ("conditions", "expr", "low", "high"),
    [
        ({"big": "revenue >= 1000"}, "revenue * 0.01", "10", "100000000"),
        ({"band": "employees BETWEEN 10 AND 20"}, "employees * 2 - 15", "5", "25"),
        ({"inc": "industrial_output - industrial_output_prev >= 10000"}, "(industrial_output - industrial_output_prev) * 0.003", "30", "30000000"),
        # growth >= 40% on prev >= 10000 ⇒ output - prev >= 0.4 · prev >= 4000 (slack for the DOUBLE comparison)
        ({"band": "industrial_output_prev >= 10000", "g": "output_growth >= 0.4"}, "LEAST(industrial_output - industrial_output_prev, 100)", "100", "100"),
        ({"g": "revenue_growth <= 0.1", "r": "revenue_prev <= 1000"}, "GREATEST(revenue - revenue_prev, 0) * 0.5", "0", "50"),
    ],
)
def test_range_over_eligible_enterprises(conditions, expr, low, high):
    iv = amount_range(_policy(expr, conditions=conditions))
    assert abs(iv.low - D(low)) <= D("0.0001") and abs(iv.high - D(high)) <= D("0.0001"), iv


def test_conditions_do_not_excuse_an_overflow():
    # the engines compute the amount on every row before the eligibility test
    policy = _policy("revenue * 1.5000", conditions={"small": "revenue <= 1000"})
    assert any("DECIMAL(18,8)" in e.message for e in check_amount_bounds(policy))


def test_negative_only_for_ineligible_enterprises_is_accepted():
    policy = _policy("(revenue - revenue_prev) * 0.01", conditions={"grew": "revenue > revenue_prev"})
    assert check_amount_bounds(policy) == []
    assert amount_range(policy, eligible=False).low < 0


# --- the error's place and text -------------------------------------------------------------------------
def test_error_names_the_amount_expression_in_the_file():
    text = policy_text(TRUE, {"expr": "employees * -1"})
    policy = make_policy(TRUE, {"expr": "employees * -1"})
    [error] = check_amount_bounds(policy, text)
    line = text.splitlines().index(next(x for x in text.splitlines() if "employees * -1" in x)) + 1
    assert (error.span.file, error.span.line, error.span.key) == ("test.yaml", line, "benefit.expr")
    assert "employees * -1" in error.span.source_line
    assert str(error).startswith(f"test.yaml:{line}:")


def test_intermediate_overflow_points_at_the_subexpression():
    text = policy_text(TRUE, {"expr": "LEAST(revenue * 1.5000, 50)"})
    [error] = check_amount_bounds(make_policy(TRUE, {"expr": "LEAST(revenue * 1.5000, 50)"}), text)
    start = error.span.source_line.index("revenue * 1.5000") + 1
    assert (error.span.col, error.span.width) == (start, len("revenue * 1.5000"))


def test_no_benefit_no_range():
    policy = make_policy(TRUE)
    assert amount_range(policy) is None and check_amount_bounds(policy) == []


# --- declared ranges agree with what the importer accepts ------------------------------------------------
def test_declared_ranges_cover_every_numeric_field():
    numeric = {n for n, f in FIELDS_BY_NAME.items() if f.type in (FieldType.MONEY, FieldType.INTEGER, FieldType.NUMBER)}
    assert set(VALUE_RANGES) == numeric
    assert all(low <= high for low, high in VALUE_RANGES.values())
    assert HEADCOUNT_MAX == validate.MAX_HEADCOUNT and YEAR_RANGE[0] == validate.EARLIEST_YEAR


def test_derived_ranges_follow_from_their_inputs():
    # the extremes of each derived field over the declared inputs lie within its declared range
    from qinqing.registry.derived import age_years, ratio

    step = D("0.0001")
    for num, den in [(D(0), step), (MONEY_MAX, step), (D(0), MONEY_MAX), (MONEY_MAX, MONEY_MAX)]:
        for name in ("revenue_growth", "rd_intensity"):
            low, high = VALUE_RANGES[name]
            assert low <= D(ratio(num, den, name != "rd_intensity")) <= high * (1 + D("1e-15"))
    low, high = VALUE_RANGES["age_years"]
    assert age_years(date(YEAR_RANGE[0], 1, 1), date(YEAR_RANGE[1], 12, 31)) == high
    assert age_years(date(YEAR_RANGE[1], 12, 31), date(YEAR_RANGE[0], 1, 1)) >= low


# --- soundness: evaluated amounts lie within the computed range ------------------------------------------
EXPRESSIONS = [
    "LEAST(revenue * 0.1, 50)",
    "employees * -1",
    "revenue * 0.0365 * 2 - rd_expense",
    "(revenue - revenue_prev) * 100 / revenue_prev",
    "GREATEST(FLOOR((revenue - revenue_prev) * 100 / revenue_prev), 0) * 5",
    "3 + GREATEST(FLOOR((revenue * 100 - revenue_prev * 125) / revenue_prev), 0) * 0.5",
    "CASE WHEN revenue >= 20000 THEN LEAST(revenue * 0.073, 2500) ELSE LEAST(revenue * 0.0365, 800) END",
    "COALESCE(rd_expense, revenue) * 0.2 + ROUND(energy_saved_tce * 0.05, 2)",
    "ABS(revenue_growth) * 10 - age_years",
    "rd_intensity * 100 + employees / (insured_employees + 1)",
    "-(employees - insured_employees) * 0.5",
    "CEIL(layoff_rate * 7) + ROUND(revenue / 3, 3)",
    "LEAST(industrial_output - industrial_output_prev, industrial_output_prev * 0.6) * 0.01"
    " + GREATEST(industrial_output - industrial_output_prev - industrial_output_prev * 0.6, 0) * 0.012",
]
CONDITIONS = [
    TRUE,
    {"band": "revenue_prev >= 100 AND revenue_prev < 5000", "g": "revenue_growth >= 0.4"},
    {"inc": "industrial_output - industrial_output_prev >= 100", "e": "employees BETWEEN 3 AND 300"},
    {"g": "output_growth >= 0.05", "r": "rd_intensity <= 0.2"},
]
AS_OF = date(2024, 6, 30)


def _money(high: Decimal = MONEY_MAX) -> st.SearchStrategy:
    edge = st.sampled_from([D(0), D("0.0001"), D(100), D(10000), high])
    return st.one_of(edge, st.decimals(min_value=0, max_value=high, places=4), st.decimals(min_value=0, max_value=20000, places=4))


def _facts() -> st.SearchStrategy:
    people = st.one_of(st.sampled_from([0, 1, 300, HEADCOUNT_MAX]), st.integers(0, HEADCOUNT_MAX))
    return st.fixed_dictionaries(
        {},
        optional={
            **{name: _money() for name in ("revenue", "revenue_prev", "rd_expense", "industrial_output", "industrial_output_prev")},
            "employees": people,
            "insured_employees": people,
            "energy_saved_tce": st.floats(0, float(VALUE_RANGES["energy_saved_tce"][1])),
            "layoff_rate": st.one_of(st.sampled_from([0.0, 1e-300, 1.0]), st.floats(0, 1)),
            "established_on": st.dates(date(YEAR_RANGE[0], 1, 1), AS_OF),
            "legal_person": st.booleans(),
        },
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=st.sampled_from(EXPRESSIONS), conditions=st.sampled_from(CONDITIONS), digits=st.sampled_from([0, 2, 4]),
       cap=st.sampled_from([None, 50]), facts=_facts())  # fmt: skip
def test_evaluated_amount_lies_in_the_range(expr, conditions, digits, cap, facts):
    policy = _policy(expr, cap, conditions, digits)
    outcome = evaluate(policy, facts, AS_OF)
    if outcome.status != "eligible" or outcome.amount is None:
        return
    if not check_amount_bounds(policy):  # a refused policy may overflow: the evaluator has no DECIMAL limits
        assert outcome.amount in amount_range(policy, eligible=False)
        assert outcome.amount >= 0
    assert outcome.amount in amount_range(policy)


@settings(max_examples=60, deadline=None)
@given(facts=_facts())
def test_duckdb_never_overflows_on_an_accepted_policy(facts):
    # the engine evaluates the amount on every row: an accepted policy runs on any registry row within range
    for expr in EXPRESSIONS[2:9]:
        policy = _policy(expr)
        if check_amount_bounds(policy):
            continue
        from qinqing.rules.compile import compile_policy
        from qinqing.rules.evaluate import enterprise_values

        compiled = compile_policy(policy, "duckdb", AS_OF)
        row = enterprise_values(facts, AS_OF)
        columns = ", ".join(f"{_sql(row[n])} AS {n}" for n in ("revenue", "revenue_prev", "rd_expense", "energy_saved_tce",
                                                               "employees", "insured_employees", "revenue_growth", "age_years"))  # fmt: skip
        sql = f"SELECT {compiled.amount_sql} FROM (SELECT {columns})"
        duckdb.sql(sql).fetchall()  # raises on overflow


def _sql(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, Decimal):
        return f"CAST({value} AS DECIMAL(18, 4))"
    if isinstance(value, float):
        return f"CAST({value!r} AS DOUBLE)"
    return f"CAST({value} AS BIGINT)" if not isinstance(value, date) else f"DATE '{value}'"


# --- the shipped catalogue ---------------------------------------------------------------------------------
def test_no_shipped_policy_is_refused():
    policies, errors = load_policies(["policies"])
    assert not errors and len(policies) >= 40
    refused = {p.id: [str(e) for e in check_amount_bounds(p)] for p in policies}
    assert {k: v for k, v in refused.items() if v} == {}
    for p in policies:
        iv = amount_range(p)
        if iv is not None:
            assert 0 <= iv.low <= iv.high <= (p.benefit.cap if p.benefit.cap is not None else MONEY_MAX)


@pytest.mark.parametrize(
    ("expr", "cap", "overflows"),
    [
        ("revenue * 1.5000", None, True),  # DECIMAL(18,8): at most 1e10
        ("revenue * 1.5", None, False),  # DECIMAL(18,5)
        ("revenue * 100000", None, True),  # DECIMAL(18,4) × INTEGER stays DECIMAL(18,4)
        ("revenue * 9999", None, False),
        ("employees * 999999999999999999", 10, True),
        ("100000 * 100000", 10, True),
        ("999999999999999999", None, True),
        ("revenue * 0.0365 * 2", None, False),
    ],
)
def test_duckdb_agrees_at_the_extremes(expr, cap, overflows):
    from qinqing.rules.compile import compile_policy

    policy = _policy(expr, cap)
    refused = [e for e in check_amount_bounds(policy) if not e.message.startswith("金额可能为负数")]
    assert bool(refused) is overflows
    sql = compile_policy(policy, "duckdb", AS_OF).amount_sql
    row = f"CAST({MONEY_MAX} AS DECIMAL(18, 4)) AS revenue, CAST({HEADCOUNT_MAX} AS BIGINT) AS employees"
    if overflows:
        with pytest.raises(duckdb.Error):
            duckdb.sql(f"SELECT {sql} FROM (SELECT {row})").fetchall()
    else:
        duckdb.sql(f"SELECT {sql} FROM (SELECT {row})").fetchall()
