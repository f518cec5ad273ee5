"""Derived fields of the enterprise profile, in Python and in SQL from one definition each.

:func:`derive` computes them for one row; :func:`derived_sql` gives one sqlglot expression
per field over the stored column names, rendered per engine with ``.sql(dialect=...)``.
A property test runs both on DuckDB and requires equal results.

Conventions shared by both:
- a missing input gives NULL (None), never 0;
- a ratio with a zero or missing denominator is NULL;
- money is converted to DOUBLE before dividing (ratios are NUMBER fields);
- ``size_class`` reads industry_code as stored: canonical (``C3911``) and a code of GB/T 4754-2017,
  else NULL — a prefix alone (``C1310`` starts like ``C13``) does not place an enterprise;
- ``age_years`` counts whole years: the anniversary of a 29 February establishment falls
  on 1 March in common years (2020-02-29 is 0 years old on 2021-02-28, 1 on 2021-03-01).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import sqlglot.expressions as exp

from qinqing.registry.schema import DERIVED_FIELDS
from qinqing.registry.standards import size

DERIVED_NAMES: tuple[str, ...] = tuple(f.name for f in DERIVED_FIELDS)

# ratio fields: name -> (numerator, denominator, subtract one)
_RATIOS: dict[str, tuple[str, str, bool]] = {
    "revenue_growth": ("revenue", "revenue_prev", True),
    "rd_growth": ("rd_expense", "rd_expense_prev", True),
    "rd_intensity": ("rd_expense", "revenue", False),
    "output_growth": ("industrial_output", "industrial_output_prev", True),
}


def age_years(established_on: date | None, as_of: date) -> int | None:
    """Whole years from ``established_on`` to ``as_of`` (negative if established later)."""
    if established_on is None:
        return None
    before_anniversary = (as_of.month, as_of.day) < (established_on.month, established_on.day)
    return as_of.year - established_on.year - (1 if before_anniversary else 0)


def ratio(numerator: Any, denominator: Any, minus_one: bool = False) -> float | None:
    """numerator / denominator (minus one for growth rates); None when an input is missing or the denominator is 0.

    A growth rate is computed as (numerator - denominator) / denominator with the subtraction done exactly
    in decimal and one floating-point division, never as numerator / denominator - 1: a single correctly
    rounded division keeps every comparison with a threshold literal on the right side (growth of exactly
    40% is the double nearest 0.4, the same double as the literal 0.4), where the subtraction after the
    division would give 0.3999999999999999. Every engine does the same (see _ratio_sql).
    """
    if numerator is None or denominator is None or _decimal(denominator) == 0:
        return None
    top = _decimal(numerator) - _decimal(denominator) if minus_one else _decimal(numerator)
    return float(top) / float(_decimal(denominator))


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def size_class(row: Mapping[str, Any]) -> str | None:
    """企业规模 of a stored row; NULL for an industry_code that is not a canonical GB/T 4754-2017 code."""
    code = row.get("industry_code")
    table_row = size.rows_by_stored_code().get(code) if isinstance(code, str) else None
    if table_row is None:
        return None
    return table_row.classify({ind: row.get(ind) for ind in size.INDICATORS})


def derive(row: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """Every derived field of one enterprise ``row`` (stored field names -> Python values)."""
    values: dict[str, Any] = {
        "size_class": size_class(row),
        "age_years": age_years(row.get("established_on"), as_of),
    }
    for name, (num, den, minus_one) in _RATIOS.items():
        values[name] = ratio(row.get(num), row.get(den), minus_one)
    return {name: values[name] for name in DERIVED_NAMES}


def _col(name: str) -> exp.Column:
    return exp.column(name)


def _double(name: str) -> exp.Expression:
    return exp.cast(_col(name), exp.DataType.build("DOUBLE"))


def _ratio_sql(num: str, den: str, minus_one: bool) -> exp.Expression:
    # The subtraction stays in DECIMAL (exact) and is cast to DOUBLE once, as ratio() does in Python.
    # NULLIF keeps Spark's ANSI mode (default in Spark 4) from raising on division by zero.
    top = exp.Sub(this=_col(num), expression=_col(den)) if minus_one else _col(num)
    quotient = exp.Div(
        this=exp.cast(exp.paren(top) if minus_one else top, exp.DataType.build("DOUBLE")),
        expression=exp.Nullif(this=_double(den), expression=exp.Literal.number(0)),
    )
    quotient.set("typed", False)
    quotient.set("safe", False)
    return quotient


def _date_part_sql(column: str, fmt: str) -> exp.Expression:
    # YEAR()/MONTH() do not exist in SQLite; formatting to digits renders in every dialect
    # (STRFTIME, DATE_FORMAT, TO_CHAR) and keeps the arithmetic on integers.
    formatted = exp.TimeToStr(this=_col(column), format=exp.Literal.string(fmt))
    return exp.cast(formatted, exp.DataType.build("INT"))


def _age_sql(as_of: date) -> exp.Expression:
    before_anniversary = exp.Case(
        ifs=[
            exp.If(
                this=exp.GT(
                    this=_date_part_sql("established_on", "%m%d"),
                    expression=exp.Literal.number(as_of.month * 100 + as_of.day),
                ),
                true=exp.Literal.number(1),
            )
        ],
        default=exp.Literal.number(0),
    )
    years = exp.Sub(this=exp.Literal.number(as_of.year), expression=_date_part_sql("established_on", "%Y"))
    return exp.Sub(this=years, expression=before_anniversary)


def _row_class_sql(row: size.SizeRow) -> exp.Expression:
    missing = exp.or_(*(exp.Is(this=_col(ind), expression=exp.Null()) for ind in row.thresholds))
    case = exp.Case().when(missing, exp.Null())
    for rank, label in enumerate(size.CLASSES[:3]):
        meets = exp.and_(
            *(
                exp.GTE(this=_col(ind), expression=exp.Literal.number(str(bounds[rank])))
                for ind, bounds in row.thresholds.items()
            )
        )
        case = case.when(meets, exp.Literal.string(label))
    return case.else_(exp.Literal.string(size.CLASSES[3]))


@cache
def _size_class_sql() -> exp.Expression:
    # Built once: it does not depend on the reference date, and sqlglot's builders are slow.
    # Each table row lists the codes it covers (IN, not a prefix test), so that a string that
    # merely starts like a covered code is NULL, as in Python; engines hash long IN lists.
    codes_of: dict[str, list[str]] = {}
    for code, row in size.rows_by_stored_code().items():
        codes_of.setdefault(row.name, []).append(code)
    case = exp.Case()
    for row in size.rows():
        if row.name not in codes_of:
            continue
        member = exp.In(
            this=_col("industry_code"),
            expressions=[exp.Literal.string(code) for code in sorted(codes_of[row.name])],
        )
        case = case.when(member, _row_class_sql(row))
    return case.else_(exp.Null())


def derived_sql(as_of: date) -> dict[str, exp.Expression]:
    """One SQL expression per derived field, over the stored column names."""
    expressions: dict[str, exp.Expression] = {
        "size_class": _size_class_sql().copy(),
        "age_years": _age_sql(as_of),
    }
    for name, (num, den, minus_one) in _RATIOS.items():
        expressions[name] = _ratio_sql(num, den, minus_one)
    return {name: expressions[name] for name in DERIVED_NAMES}
