"""Derived fields: Python (derive) and SQL (derived_sql) agree, on every engine dialect."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinqing.registry import derived, schema
from qinqing.registry.standards import size

AS_OF = date(2024, 3, 1)
INPUTS = (
    ("industry_code", "VARCHAR"),
    ("established_on", "DATE"),
    ("employees", "INTEGER"),
    ("revenue", "DECIMAL(18,4)"),
    ("revenue_prev", "DECIMAL(18,4)"),
    ("total_assets", "DECIMAL(18,4)"),
    ("industrial_output", "DECIMAL(18,4)"),
    ("industrial_output_prev", "DECIMAL(18,4)"),
    ("rd_expense", "DECIMAL(18,4)"),
    ("rd_expense_prev", "DECIMAL(18,4)"),
)


def test_names_are_the_schema_derived_fields() -> None:
    assert derived.DERIVED_NAMES == tuple(f.name for f in schema.DERIVED_FIELDS)
    assert set(derived.derived_sql(AS_OF)) == set(derived.DERIVED_NAMES)


@pytest.mark.parametrize(
    ("established", "as_of", "years"),
    [
        (date(2020, 2, 29), date(2021, 2, 28), 0),
        (date(2020, 2, 29), date(2021, 3, 1), 1),
        (date(2020, 2, 29), date(2024, 2, 28), 3),
        (date(2020, 2, 29), date(2024, 2, 29), 4),
        (date(2015, 3, 1), date(2024, 3, 1), 9),
        (date(2015, 3, 2), date(2024, 3, 1), 8),
        (date(2023, 12, 31), date(2024, 1, 1), 0),
        (date(2024, 3, 1), date(2024, 3, 1), 0),
        (date(2025, 1, 1), date(2024, 3, 1), -1),
        (None, date(2024, 3, 1), None),
    ],
)
def test_age_years(established: date | None, as_of: date, years: int | None) -> None:
    assert derived.age_years(established, as_of) == years


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {"revenue": Decimal("120"), "revenue_prev": Decimal("100")},
            {"revenue_growth": 0.2},  # (120 - 100) / 100, not 120 / 100 - 1 = 0.19999999999999996
        ),
        ({"revenue": Decimal("120"), "revenue_prev": Decimal("0")}, {"revenue_growth": None}),
        ({"revenue": None, "revenue_prev": Decimal("100")}, {"revenue_growth": None}),
        ({"revenue": Decimal("200"), "rd_expense": Decimal("10")}, {"rd_intensity": 0.05, "rd_growth": None}),
        ({"revenue": Decimal("0"), "rd_expense": Decimal("10")}, {"rd_intensity": None}),
        ({"rd_expense": Decimal("15"), "rd_expense_prev": Decimal("10")}, {"rd_growth": 0.5}),
        (
            {"industrial_output": Decimal("90"), "industrial_output_prev": Decimal("100")},
            {"output_growth": -0.1},
        ),
        ({"industry_code": "C3911", "employees": 300, "revenue": Decimal("2000")}, {"size_class": "中型"}),
        ({"industry_code": "C39", "employees": 300, "revenue": Decimal("2000")}, {"size_class": "中型"}),
        # Not codes of GB/T 4754-2017, though they start like covered ones: NULL, not 工业/软件业.
        ({"industry_code": "C1310", "employees": 300, "revenue": Decimal("2000")}, {"size_class": None}),
        ({"industry_code": "I6510", "employees": 300, "revenue": Decimal("2000")}, {"size_class": None}),
        ({"industry_code": "C39111", "employees": 300, "revenue": Decimal("2000")}, {"size_class": None}),
        # Stored codes are canonical (the importer writes C3911); other spellings are not placed.
        ({"industry_code": "3911", "employees": 300, "revenue": Decimal("2000")}, {"size_class": None}),
        ({"industry_code": "c3911", "employees": 300, "revenue": Decimal("2000")}, {"size_class": None}),
        ({}, {name: None for name in derived.DERIVED_NAMES}),
    ],
)
def test_derive_examples(row: dict[str, Any], expected: dict[str, Any]) -> None:
    values = derived.derive(row, AS_OF)
    assert list(values) == list(derived.DERIVED_NAMES)
    for name, value in expected.items():
        assert values[name] == value, name


# --- Python and SQL agree on DuckDB ------------------------------------------------------------

_THRESHOLDS = sorted(
    {
        int(b) + d
        for row in size.rows()
        for bounds in row.thresholds.values()
        for b in bounds
        for d in (-1, 0, 1)
    }
)
_codes = st.sampled_from(
    [prefix for prefix, _ in size.prefixes() if len(prefix) > 1]
    + ["C3911", "A0111", "E4710", "M7320", "L7211", "J6621", "G5311", "K7040", "S9100", "C3911", "I6513"]
)
# Strings that start like covered codes but are not codes, other spellings of real ones, and noise.
_near_codes = st.one_of(
    st.builds(lambda p, tail: p + tail, st.sampled_from([p for p, _ in size.prefixes()]), st.text("0123456789", max_size=3)),
    st.sampled_from(["C1310", "I6510", "C39111", "3911", "c3911", " C3911", "C3911 ", "G59", "Z", ""]),
    st.text(max_size=6),
)
_money = st.one_of(
    st.none(),
    st.sampled_from([Decimal(0), *(Decimal(t) for t in _THRESHOLDS if t >= 0)]),
    st.decimals(min_value=-1000, max_value=300000, places=4, allow_nan=False, allow_infinity=False),
)
_rows = st.fixed_dictionaries(
    {
        "industry_code": st.one_of(st.none(), _codes, _near_codes),
        "established_on": st.one_of(
            st.none(), st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 12, 31))
        ),
        "employees": st.one_of(
            st.none(), st.sampled_from([t for t in _THRESHOLDS if t >= 0]), st.integers(0, 5000)
        ),
        **{name: _money for name, _ in INPUTS[3:]},
    }
)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


@pytest.fixture(scope="module")
def duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE enterprises (" + ", ".join(f"{n} {t}" for n, t in INPUTS) + ")")
    return con


def _duckdb_select(as_of: date) -> str:
    exprs = derived.derived_sql(as_of)
    return (
        "SELECT "
        + ", ".join(f"{exprs[n].sql(dialect='duckdb')} AS {n}" for n in derived.DERIVED_NAMES)
        + " FROM enterprises"
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(_rows, min_size=1, max_size=20),
    as_of=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
)
def test_sql_on_duckdb_agrees_with_python(
    duck: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], as_of: date
) -> None:
    duck.execute("DELETE FROM enterprises")
    names = [n for n, _ in INPUTS]
    duck.executemany(
        f"INSERT INTO enterprises VALUES ({', '.join('?' for _ in names)})",
        [[r[n] for n in names] for r in rows],
    )
    got = duck.execute(_duckdb_select(as_of) + " ORDER BY rowid").fetchall()
    for row, sql_values in zip(rows, got):
        expected = derived.derive(row, as_of)
        for name, value in zip(derived.DERIVED_NAMES, sql_values):
            assert _same(value, expected[name]), (name, row, value, expected[name])


# --- every dialect renders, and the renderings parse back ----------------------------------------


@pytest.mark.parametrize("dialect", ["duckdb", "spark", "postgres", "sqlite"])
@pytest.mark.parametrize("name", derived.DERIVED_NAMES)
def test_renders_and_parses_back(dialect: str, name: str) -> None:
    sql = derived.derived_sql(AS_OF)[name].sql(dialect=dialect)
    reparsed = sqlglot.parse_one(sql, read=dialect)
    assert reparsed.sql(dialect=dialect) == sql


def test_age_sql_uses_no_function_missing_in_sqlite() -> None:
    sql = derived.derived_sql(AS_OF)["age_years"].sql(dialect="sqlite")
    assert "YEAR(" not in sql and "MONTH(" not in sql and "STRFTIME" in sql


SAMPLE_ROWS = [
    {
        "industry_code": "C3911",
        "established_on": date(2020, 2, 29),
        "employees": 300,
        "revenue": Decimal("2000"),
        "revenue_prev": Decimal("1600"),
    },
    {
        "industry_code": "K7010",
        "established_on": date(2015, 3, 2),
        "revenue": Decimal("1000"),
        "total_assets": Decimal("5000"),
        "rd_expense": Decimal("50"),
    },
    {
        "industry_code": "J6621",
        "established_on": None,
        "revenue": Decimal("0"),
        "rd_expense": Decimal("3"),
        "rd_expense_prev": Decimal("0"),
    },
    {
        "industry_code": "G5920",
        "established_on": date(2015, 3, 1),
        "employees": 99,
        "revenue": Decimal("30000"),
        "industrial_output": Decimal("8"),
        "industrial_output_prev": Decimal("10"),
    },
    {
        "industry_code": "C1310",  # not a GB/T 4754-2017 code: no size class, in every engine
        "employees": 300,
        "revenue": Decimal("2000"),
    },
    {
        "industry_code": None,
        "established_on": date(1999, 12, 31),
        "employees": None,
        "revenue": Decimal("-5.5"),
        "revenue_prev": Decimal("2.25"),
    },
]


def _check_rows(got: list[tuple[Any, ...]], as_of: date = AS_OF) -> None:
    assert len(got) == len(SAMPLE_ROWS)
    for row, values in zip(SAMPLE_ROWS, got):
        expected = derived.derive(row, as_of)
        for name, value in zip(derived.DERIVED_NAMES, values):
            assert _same(value, expected[name]), (name, row, value, expected[name])


def test_sql_on_sqlite_and_postgres_agrees_with_python(database_url: str) -> None:
    """Runs once on SQLite and once on PostgreSQL (when scripts/test.sh provides one)."""
    import sqlalchemy as sa

    dialect = "postgres" if database_url.startswith("postgresql") else "sqlite"
    engine = sa.create_engine(database_url)
    names = [n for n, _ in INPUTS]
    decimal_type = "NUMERIC(18,4)" if dialect == "postgres" else "REAL"
    types = {n: decimal_type if t.startswith("DECIMAL") else t for n, t in INPUTS}
    exprs = derived.derived_sql(AS_OF)
    select = ", ".join(exprs[n].sql(dialect=dialect) for n in derived.DERIVED_NAMES)
    with engine.begin() as con:
        con.exec_driver_sql(
            "CREATE TABLE derived_probe (id INTEGER, " + ", ".join(f"{n} {types[n]}" for n in names) + ")"
        )
        for i, row in enumerate(SAMPLE_ROWS):
            values = {n: row.get(n) for n in names}
            if dialect == "sqlite":  # SQLite has no DECIMAL or DATE type: REAL and ISO text
                values = {
                    k: float(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, date) else v
                    for k, v in values.items()
                }
            con.execute(
                sa.text(f"INSERT INTO derived_probe VALUES (:id, {', '.join(':' + n for n in names)})"),
                {"id": i, **values},
            )
        got = [tuple(r) for r in con.exec_driver_sql(f"SELECT {select} FROM derived_probe ORDER BY id")]
    engine.dispose()
    _check_rows(got)


@pytest.mark.spark
def test_sql_on_spark_agrees_with_python() -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("qinqing-derived-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    spark_types = {"VARCHAR": T.StringType(), "DATE": T.DateType(), "INTEGER": T.IntegerType()}
    struct = T.StructType([T.StructField(n, spark_types.get(t, T.DecimalType(18, 4))) for n, t in INPUTS])
    frame = spark.createDataFrame([tuple(row.get(n) for n, _ in INPUTS) for row in SAMPLE_ROWS], struct)
    frame.createOrReplaceTempView("enterprises")
    exprs = derived.derived_sql(AS_OF)
    select = ", ".join(exprs[n].sql(dialect="spark") for n in derived.DERIVED_NAMES)
    got = [tuple(r) for r in spark.sql(f"SELECT {select} FROM enterprises").collect()]
    _check_rows(got)
