"""企业规模 per 工信部联企业〔2011〕300号, rows mapped to GB/T 4754-2017 by 国家统计局 (2017).

The thresholds live in ``data/size_classes.yaml`` with their sources; both the Python
function here and the SQL in :mod:`qinqing.registry.derived` are built from that file.

Rule (统计上大中小微型企业划分办法（2017）, note to the table): a class is reached only
when every indicator of the row meets its lower bound, otherwise the enterprise falls one
class; below every 小型 bound it is 微型.

Missing inputs: the result is None when any indicator the row uses is missing, even if
the known ones already decide the class. A class is a fact reported to policy staff; one
derived from half the data would be indistinguishable from a complete one.

>>> size_class("C3911", 500, 5000, None)
'中型'
>>> size_class("C3911", 500, None, None) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Literal

import yaml

from qinqing.registry.standards import industries
from qinqing.registry.standards._data import read_text

SizeClass = Literal["大型", "中型", "小型", "微型"]
CLASSES: tuple[SizeClass, ...] = ("大型", "中型", "小型", "微型")
INDICATORS: tuple[str, ...] = ("employees", "revenue", "total_assets")
INDICATOR_ZH: dict[str, str] = {"employees": "从业人员", "revenue": "营业收入", "total_assets": "资产总额"}


@dataclass(frozen=True)
class SizeRow:
    name: str
    industries: tuple[str, ...]  # code prefixes, with the section letter
    thresholds: dict[str, tuple[Decimal, Decimal, Decimal]]  # indicator -> lower bounds of 大型, 中型, 小型

    def classify(self, values: dict[str, object]) -> SizeClass | None:
        if any(values.get(ind) is None for ind in self.thresholds):
            return None
        for rank, label in enumerate(CLASSES[:3]):
            if all(Decimal(str(values[ind])) >= bounds[rank] for ind, bounds in self.thresholds.items()):
                return label
        return "微型"


@cache
def rows() -> tuple[SizeRow, ...]:
    data = yaml.safe_load(read_text("size_classes.yaml"))
    return tuple(
        SizeRow(
            name=row["name"],
            industries=tuple(row["industries"]),
            thresholds={k: tuple(Decimal(str(v)) for v in bounds) for k, bounds in row["thresholds"].items()},
        )
        for row in data["rows"]
    )


@cache
def prefixes() -> tuple[tuple[str, SizeRow], ...]:
    """(code prefix, row) pairs, longest prefix first: the first match is the row of a code."""
    pairs = [(prefix, row) for row in rows() for prefix in row.industries]
    return tuple(sorted(pairs, key=lambda p: (-len(p[0]), p[0])))


@cache
def rows_by_stored_code() -> dict[str, SizeRow]:
    """Every GB/T 4754-2017 code (any level, canonical form) that one row of the table covers.

    This is what the derived field ``size_class`` reads: a stored industry_code that is not a
    code of the standard (``C1310``, ``I6510``) cannot be placed in the table, whatever its prefix.
    """
    placed: dict[str, SizeRow] = {}
    for code in industries.codes():
        row = row_for(code)
        if row is not None:
            placed[code] = row
    return placed


def row_for(industry_code: str | None) -> SizeRow | None:
    """The table row of an industry code (any level, with or without its letter), or None."""
    canonical = industries.normalise(industry_code) if industry_code else None
    if canonical is None:
        return None
    for prefix, row in prefixes():
        if canonical.startswith(prefix):
            return row
    return None


def size_class(
    industry_code: str | None,
    employees: int | None,
    revenue: Decimal | float | int | None,
    total_assets: Decimal | float | int | None,
) -> SizeClass | None:
    """大型/中型/小型/微型; None outside the standard or when an input the row uses is missing."""
    row = row_for(industry_code)
    if row is None:
        return None
    return row.classify({"employees": employees, "revenue": revenue, "total_assets": total_assets})
