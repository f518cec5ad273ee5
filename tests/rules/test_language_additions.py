"""FLOOR / CEIL, the built-in reference date ``as_of``, and precise ``missing`` lists for size_class.

Every case is computed by hand and checked twice: by evaluate() (the Python interpreter of the compiled
tree) and by the DuckDB engine on the same enterprise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from qinqing.matching.engines import ENTERPRISE_SCHEMA
from qinqing.matching.engines import duckdb as duckdb_engine
from qinqing.registry.derived import derive, derived_sql
from qinqing.rules import PolicyErrors, evaluate
from qinqing.rules.evaluate import coerce
from rules_helpers import make_policy

AS_OF = date(2024, 6, 1)


_DUCKDB: dict[tuple, tuple] = {}  # one engine run per (policy, as_of, facts) batch: DuckDB plans slowly


def both(policy, facts: dict, as_of: date = AS_OF, batch: list[dict] | None = None) -> tuple:
    """(status, amount, failed, missing) from evaluate(), after checking that DuckDB says the same.

    ``batch`` (which holds ``facts``) is matched by DuckDB in one run, its results kept for the other cases."""
    o = evaluate(policy, facts, as_of)
    mine = (o.status, o.amount, o.failed, o.missing)
    key = (id(policy), as_of, repr(facts))
    if key not in _DUCKDB:
        rows = batch or [facts]
        table = {name: [coerce(name, f.get(name)) for f in rows] for name in ENTERPRISE_SCHEMA.names}
        table["uscc"] = [str(i) for i in range(len(rows))]
        result = duckdb_engine.match([policy], pa.table(table, schema=ENTERPRISE_SCHEMA), as_of).to_pylist()
        for r in result:
            f = rows[int(r["uscc"])]
            _DUCKDB[(id(policy), as_of, repr(f))] = (r["status"], r["amount"], r["failed"], r["missing"])
    assert _DUCKDB[key] == mine
    return mine


# (expression, facts, amount in 万元) — revenue_growth = revenue / revenue_prev - 1
WHOLE_UNITS = [
    ("FLOOR(revenue_growth * 100)", {"revenue": 1049, "revenue_prev": 1000}, "4"),
    ("FLOOR(revenue_growth * 100)", {"revenue": 1070, "revenue_prev": 1000}, "7"),  # 7.000000000000001 in DOUBLE
    ("FLOOR((revenue - revenue_prev) * 100 / revenue_prev)", {"revenue": 1029, "revenue_prev": 1000}, "2"),
    ("FLOOR((revenue - revenue_prev) * 100 / revenue_prev)", {"revenue": 1140, "revenue_prev": 1000}, "14"),
    ("FLOOR(revenue * 0.3)", {"revenue": "10.5"}, "3"),  # exact 3.15
    ("CEIL(revenue * 0.3)", {"revenue": "10.5"}, "4"),
    ("CEIL(revenue * 0.3)", {"revenue": "10"}, "3"),  # exactly 3.0 stays 3
    ("FLOOR(0 - revenue)", {"revenue": "2.5"}, "-3"),
    ("CEIL(0 - revenue)", {"revenue": "2.5"}, "-2"),
    ("FLOOR(employees) + CEIL(employees)", {"employees": 7}, "14"),
    ("CEIL(employees / 10)", {"employees": 21}, "3"),
    ("CEIL(employees / 10)", {"employees": 20}, "2"),
]


@pytest.mark.parametrize("expr, facts, amount", WHOLE_UNITS, ids=[f"{e}|{f}" for e, f, _ in WHOLE_UNITS])
def test_floor_and_ceil(expr, facts, amount):
    policy = make_policy({"any": "TRUE"}, {"expr": expr})
    status, got, _, _ = both(policy, facts)
    assert status == "eligible"
    assert got == Decimal(amount)


def test_floor_of_a_missing_value_is_unknown_and_names_the_field():
    policy = make_policy({"growth": "FLOOR(revenue_growth * 100) >= 1"})
    assert both(policy, {"revenue": 1000}) == ("unknown", None, [], ["revenue_prev", "revenue_growth"])


THIS_YEAR = make_policy({"new": "is_above_scale AND above_scale_since = YEAR(as_of)", "older": "established_on < as_of"})


@pytest.mark.parametrize(
    "since, as_of, status, failed",
    [
        (2024, date(2024, 6, 1), "eligible", []),
        (2023, date(2024, 6, 1), "ineligible", ["new"]),
        (2023, date(2023, 3, 1), "eligible", []),  # the same policy, read in 2023: no year pinned
        (2024, date(2024, 1, 1), "eligible", []),
        (2024, date(2023, 12, 31), "ineligible", ["new"]),
    ],
)
def test_as_of_is_the_reference_date(since, as_of, status, failed):
    facts = {"is_above_scale": True, "above_scale_since": since, "established_on": date(2020, 5, 1)}
    assert both(THIS_YEAR, facts, as_of)[:3] == (status, None, failed)


def test_as_of_is_never_missing():
    assert both(THIS_YEAR, {"is_above_scale": True}) == ("unknown", None, [], ["established_on", "above_scale_since"])


def test_as_of_is_bound_in_both_renderings():
    from qinqing.rules import compile_policy

    for dialect in ("duckdb", "spark"):
        sql = compile_policy(THIS_YEAR, dialect, AS_OF).conditions[0].sql
        assert "CAST('2024-06-01' AS DATE)" in sql and "as_of" not in sql


@pytest.mark.parametrize(
    "expr, message",
    [
        ("FLOOR(name) > 1", "FLOOR只能用于数值"),
        ("FLOOR(revenue, 2) > 1", "FLOOR 只接受一个参数"),
        ("CEIL(is_dishonest) > 1", "CEIL只能用于数值"),
        ("as_of > 3", "不能比较日期和整数"),
        ("YEAR(as_of) = '2024'", "不能比较整数和文本"),
        ("as_of", "条件必须是判断"),
    ],
)
def test_type_errors(expr, message):
    with pytest.raises(PolicyErrors) as failure:
        make_policy({"c": expr})
    assert message in str(failure.value)


SIZE = make_policy({"sme": "size_class IN ('中型', '小型', '微型')"})
INDUSTRIAL = {"region_code": "330106", "industry_code": "C3911"}


SIZE_CASES = [
        # 工业 reads employees and revenue, never total_assets
        ({**INDUSTRIAL, "revenue": 800}, ["employees", "size_class"]),
        ({**INDUSTRIAL}, ["employees", "revenue", "size_class"]),
        # 租赁和商务服务业 reads employees and total_assets, not revenue
        ({"industry_code": "L7211", "employees": 50}, ["total_assets", "size_class"]),
        # 房地产开发经营 reads revenue and total_assets
        ({"industry_code": "K7010", "total_assets": 900}, ["revenue", "size_class"]),
        # 农、林、牧、渔业 reads revenue only
        ({"industry_code": "A0111"}, ["revenue", "size_class"]),
        # no industry: the row is unknown, so every indicator may be needed
        ({"revenue": 800}, ["industry_code", "employees", "total_assets", "size_class"]),
        # a code not in GB/T 4754-2017 (C1310) has no row: no indicator can decide the class
        ({"industry_code": "C1310", "revenue": 800}, ["size_class"]),
]


@pytest.mark.parametrize("facts, missing", SIZE_CASES)
def test_missing_names_only_the_indicators_of_the_industry_row(facts, missing):
    assert both(SIZE, facts, batch=[f for f, _ in SIZE_CASES]) == ("unknown", None, [], missing)


def test_size_class_of_a_code_outside_the_standard_is_null_in_python_and_sql():
    # C1310 starts like C13 (农副食品加工业) but is not a class of GB/T 4754-2017.
    import duckdb

    row = {"industry_code": "C1310", "employees": 500, "revenue": Decimal(5000), "total_assets": Decimal(100)}
    assert derive(row, AS_OF)["size_class"] is None
    sql = derived_sql(AS_OF)["size_class"].sql(dialect="duckdb")
    got = duckdb.sql(
        f"SELECT {sql} FROM (SELECT 'C1310' AS industry_code, 500 AS employees,"
        " 5000::DECIMAL(18,4) AS revenue, 100::DECIMAL(18,4) AS total_assets)"
    ).fetchall()[0][0]
    assert got is None


def test_money_facts_are_exact_to_one_yuan():
    from qinqing.rules.errors import InputError

    policy = make_policy({"big": "revenue >= 2000"})
    assert evaluate(policy, {"revenue": "1999.9999"}, AS_OF).status == "ineligible"
    with pytest.raises(InputError, match="最多 4 位小数") as error:
        evaluate(policy, {"revenue": "1999.99999"}, AS_OF)
    assert error.value.place.field == "revenue" and error.value.code == "rules.invalid_input"


def test_cache_follows_policy_content_not_only_its_id():
    first = make_policy({"big": "revenue >= 2000"}, {"expr": "10"})
    changed = make_policy({"big": "revenue >= 2000"}, {"expr": "20"})
    assert first.id == changed.id
    facts = {"revenue": 3000}
    assert evaluate(first, facts, AS_OF).amount == Decimal("10.0000")
    assert evaluate(changed, facts, AS_OF).amount == Decimal("20.0000")
    assert evaluate(first, facts, AS_OF).amount == Decimal("10.0000")
