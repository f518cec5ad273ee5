"""Which stored fields a derived field reads, for one enterprise: the inputs ``missing`` may name.

Most derived fields always read the same inputs (``revenue_growth`` ← ``revenue``, ``revenue_prev``).
``size_class`` reads ``industry_code`` and then only the indicators of that industry's row of the 2011
size standard: a 工业 enterprise is classed by employees and revenue, never by total assets, so a missing
``total_assets`` cannot be what keeps its class unknown. When ``industry_code`` itself is missing the row
is unknown, and every indicator some row uses may be needed.

The same rule is given twice, from one table (qinqing.registry.standards.size): in Python for
``evaluate()`` and as a SQL guard for the engines. A stored code is placed only if it is a code of
GB/T 4754-2017 (as registry.derived places it); an unplaced code leaves ``size_class`` NULL whatever the
indicators, so none of them is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any

from sqlglot import exp

from qinqing.registry.standards import size

SIZE_CLASS = "size_class"
INDUSTRY = "industry_code"


@cache
def stored_inputs(name: str) -> frozenset[str]:
    """Every stored field a derived field ``name`` may read (empty for a stored field)."""
    from qinqing.registry.derived import DERIVED_NAMES, derived_sql

    if name not in DERIVED_NAMES:
        return frozenset()
    tree = derived_sql(date(2000, 1, 1))[name]  # the inputs do not depend on the reference date
    return frozenset(c.name for c in tree.find_all(exp.Column))


def used_inputs(name: str, row: Mapping[str, Any]) -> frozenset[str]:
    """The stored fields the derived field ``name`` reads for this enterprise ``row``."""
    every = stored_inputs(name)
    if name != SIZE_CLASS or row.get(INDUSTRY) is None:
        return every
    standard_row = placed_codes().get(row[INDUSTRY])
    indicators = frozenset(standard_row.thresholds) if standard_row else frozenset()
    return (every - frozenset(size.INDICATORS)) | indicators


def input_guard(name: str, stored: str) -> exp.Expression | None:
    """SQL that is TRUE when the derived field ``name`` reads ``stored`` for the row at hand (None: always).

    It reads the column SIZE_ROW (see size_row_sql), which compile.py adds beside the derived fields."""
    if name != SIZE_CLASS or stored not in size.INDICATORS:
        return None
    using = [exp.Literal.number(i) for i, r in enumerate(size.rows()) if stored in r.thresholds]
    unknown_row = exp.column(INDUSTRY).is_(exp.null())
    return exp.Paren(this=exp.Or(this=unknown_row, expression=exp.In(this=exp.column(SIZE_ROW), expressions=using)))


SIZE_ROW = "__size_row"


@cache
def placed_codes() -> dict[str, size.SizeRow]:
    """Each stored industry_code the size table places (canonical GB/T 4754-2017 codes) and its row.

    A code that is not in the standard has no row, whatever its prefix (``C1310`` is not ``C13…``)."""
    from qinqing.registry.standards import industries

    placed = {}
    for code in industries.codes():
        row = size.row_for(code)
        if row is not None:
            placed[code] = row
    return placed


@cache
def _size_row_sql() -> exp.Expression:
    index = {id(r): i for i, r in enumerate(size.rows())}
    codes: dict[int, list[str]] = {}
    for code, row in sorted(placed_codes().items()):
        codes.setdefault(index[id(row)], []).append(code)
    case = exp.Case()
    for i, members in sorted(codes.items()):
        case = case.when(exp.In(this=exp.column(INDUSTRY), expressions=[exp.Literal.string(c) for c in members]), exp.Literal.number(i))
    return case.else_(exp.Null())


def size_row_sql() -> exp.Expression:
    """The index in size.rows() of the row placing industry_code (NULL when none does), as SQL."""
    return _size_row_sql().copy()
