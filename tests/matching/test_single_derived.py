"""single.py binds the derived fields computed in Python (registry.derived.derive) instead of computing
them in DuckDB per call: the same values, of the same DuckDB types, as the SQL (derived_sql) over the
stored fields cast to their types — whatever Python values the one-row table holds (a float for money,
a Decimal of more than 4 places, a string for a date, ...)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinqing.matching.engines.plan import plan_from_sql
from qinqing.matching.single import _SQL_TYPES, EnterpriseMatcher, _facts_sql
from qinqing.registry.derived import DERIVED_NAMES, derive, derived_sql
from qinqing.registry.schema import FIELDS_BY_NAME
from qinqing.registry.standards import size
from qinqing.rules.inputs import stored_inputs

INPUTS = sorted(set().union(*(stored_inputs(n) for n in DERIVED_NAMES)))
_BOUNDS = sorted({b for r in size.rows() for bounds in r.thresholds.values() for b in bounds})
_UNIT = Decimal("0.0001")
_CODES = sorted(size.rows_by_stored_code())[::40] + ["C3911", "C1310", "c3911", "C39", "I6510", ""]

_money = st.one_of(
    st.none(),
    st.sampled_from([b + d for b in _BOUNDS for d in (-_UNIT, 0, _UNIT)] + [Decimal(0), Decimal("-0.0000")]),
    st.decimals(min_value=-10**13, max_value=10**13, places=4, allow_nan=False, allow_infinity=False),
    # not of their type: DuckDB casts them (rounding to 4 places), as it did when it computed the fields
    st.decimals(min_value=-10**6, max_value=10**6, places=6, allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.sampled_from([b + Decimal("0.00005") for b in _BOUNDS] + [float(b) - 0.00005 for b in _BOUNDS]),
    st.integers(-10**9, 10**9),
)
_employees = st.one_of(st.none(), st.sampled_from([int(b) + d for b in _BOUNDS for d in (-1, 0, 1)]),
                       st.integers(-10, 10**7), st.floats(-10, 1e6, allow_nan=False), st.booleans())
_dates = st.one_of(st.none(), st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
                   st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)).map(str),
                   st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 12, 31)))
_rows = st.fixed_dictionaries({
    "industry_code": st.one_of(st.none(), st.sampled_from(_CODES)),
    "established_on": _dates,
    "employees": _employees,
    **{n: _money for n in INPUTS if FIELDS_BY_NAME[n].type.value == "money"},
})


@cache
def _sql(as_of: date) -> str:
    """What single.py computed before: the stored inputs cast, the derived fields in DuckDB SQL."""
    cols = ", ".join(f'CAST(? AS {_SQL_TYPES[FIELDS_BY_NAME[n].type.value]}) AS "{n}"' for n in INPUTS)
    exprs = [e.sql(dialect="duckdb") for e in derived_sql(as_of).values()]
    select = ", ".join(exprs + [f"typeof({e})" for e in exprs])
    return f"SELECT {select} FROM (SELECT {cols})"


@cache
def _matcher(as_of: date) -> EnterpriseMatcher:
    return EnterpriseMatcher([], as_of, plans=[])


def _bound_facts(m: EnterpriseMatcher, row: dict[str, Any]) -> tuple:
    """What single.py binds now: derive() over the inputs typed as the SQL would, cast to the SQL's types."""
    sql, params, derived, inputs = _facts_sql(set(DERIVED_NAMES))
    assert derived == set(DERIVED_NAMES) and params == list(DERIVED_NAMES) and {n for n, _ in inputs} == set(INPUTS)
    computed = derive(m._typed(row, inputs), m.as_of)
    select = ", ".join([f'"{n}"' for n in DERIVED_NAMES] + [f'typeof("{n}")' for n in DERIVED_NAMES])
    return m._con.execute(f"SELECT {select} FROM ({sql})", [computed[n] for n in params]).fetchone()


@pytest.fixture(scope="module")
def duck() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


# Reference dates around 29 February and the turn of a year (age_years over any as_of: test_derived.py).
_AS_OF = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1), date(2023, 2, 28), date(2023, 3, 1),
          date(2024, 6, 1), date(2024, 12, 31), date(2025, 1, 1)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=_rows, as_of=st.sampled_from(_AS_OF))
def test_bound_derived_fields_equal_the_sql(duck: duckdb.DuckDBPyConnection, row: dict[str, Any], as_of: date):
    # Exact equality, types included (age_years is INTEGER in the SQL, and bound as INTEGER).
    expected = duck.execute(_sql(as_of), [row[n] for n in INPUTS]).fetchone()
    assert _bound_facts(_matcher(as_of), row) == expected


def test_values_not_of_their_type_match_as_their_casts():
    """A table of floats for money and strings for dates matches as the same values typed by DuckDB."""
    plans = [plan_from_sql("p", [("size", "size_class = '中型'"), ("growth", "revenue_growth >= 0.2"),
                                 ("age", "age_years >= 4")], "least(revenue * 0.01, 50)")]
    m = EnterpriseMatcher([], date(2024, 2, 29), plans=plans)
    raw = pa.table({"uscc": ["A"], "industry_code": ["C3911"], "employees": [300.4],
                    "revenue": [2000.00005], "revenue_prev": [1666.66663], "established_on": ["2020-02-29"]})
    typed = m._typed(raw.to_pylist()[0], (("employees", "BIGINT"), ("revenue", "DECIMAL(18,4)"),
                                          ("revenue_prev", "DECIMAL(18,4)"), ("established_on", "DATE")))
    assert typed == {"employees": 300, "revenue": Decimal("2000.0001"), "revenue_prev": Decimal("1666.6666"),
                     "established_on": date(2020, 2, 29)}
    cast = pa.table({"uscc": ["A"], "industry_code": ["C3911"], **{k: [v] for k, v in typed.items()}})
    got = [m.match(t).decode().to_pylist() for t in (raw, cast)]
    assert got[0] == got[1]
    assert [(r["status"], r["missing"]) for r in got[0]] == [("eligible", [])]
