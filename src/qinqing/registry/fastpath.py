"""The import's fast path: whole columns of a chunk converted at once, for the cells whose meaning is plain.

A cell is taken here only when its form leaves no doubt (``1234.5`` for money, ``2021-03-05`` for a
date, ``是`` for a boolean, a current region code, a typed Parquet value in range) and the value it gives
is the one :class:`~qinqing.registry.validate.RowValidator` would give. Every other cell — other
spellings, full-width digits, surrounding spaces, out-of-range values, bad codes — marks its row
*suspect*, and the importer passes that row through ``RowValidator``, which stays the one source of
truth for what is accepted and for every message. So the fast path can only be slower to explain,
never different: tests/registry/test_fastpath.py holds the two equal on hostile cells.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from qinqing.registry.columns import Column
from qinqing.registry.schema import Field, FieldType
from qinqing.registry.standards import industries, regions, uscc
from qinqing.registry.validate import EARLIEST_YEAR, MAX_HEADCOUNT, SMART_FACTORY_LEVELS, YEAR_FIELDS
from qinqing.registry.values import FALSE_WORDS, MONEY_LIMIT, MONEY_QUANTUM, TRUE_WORDS

SUSPECT = object()  # a cell the fast path leaves to RowValidator

_MONEY_TEXT = re.compile(r"\d{1,14}(?:\.\d{1,4})?")  # no sign: non-negative, as every money field must be
_INTEGER_TEXT = re.compile(r"\d{1,9}")
_NUMBER_TEXT = re.compile(r"\d{1,15}(?:\.\d{1,15})?")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_BOOLEAN_WORDS = {**{w: True for w in TRUE_WORDS}, **{w: False for w in FALSE_WORDS}}
_BOOLEAN_WORDS.update({w.upper(): b for w, b in list(_BOOLEAN_WORDS.items())})
_BOOLEAN_WORDS.update({w.title(): b for w, b in list(_BOOLEAN_WORDS.items())})

Converter = Callable[[Any], Any]


def _text(value: Any) -> Any:
    # parse_string strips and reads empty as NULL: text without surrounding space is taken as it is.
    if type(value) is str:
        if value == "":
            return None
        return SUSPECT if value[0].isspace() or value[-1].isspace() else value
    return None if value is None else SUSPECT


def _money(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        if _MONEY_TEXT.fullmatch(value):
            return Decimal(value).quantize(MONEY_QUANTUM)
        return None if value == "" else SUSPECT
    if kind is Decimal:
        if value.is_finite() and 0 <= value < MONEY_LIMIT:
            return value.quantize(MONEY_QUANTUM)
        return SUSPECT
    if kind is int and 0 <= value < MONEY_LIMIT:
        return Decimal(value).quantize(MONEY_QUANTUM)
    return None if value is None else SUSPECT


def _integer(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        if _INTEGER_TEXT.fullmatch(value):
            return int(value)
        return None if value == "" else SUSPECT
    if kind is int:
        return value
    return None if value is None else SUSPECT


def _number(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        if _NUMBER_TEXT.fullmatch(value):
            return float(value)  # equals float(Decimal(value)): both round the decimal correctly
        return None if value == "" else SUSPECT
    if kind is float and value == value and value not in (float("inf"), float("-inf")):
        return value
    if kind is int:
        return float(value)
    return None if value is None else SUSPECT


def _boolean(value: Any) -> Any:
    kind = type(value)
    if kind is bool:
        return value
    if kind is str:
        if value == "":
            return None
        found = _BOOLEAN_WORDS.get(value)
        return SUSPECT if found is None else found
    return None if value is None else SUSPECT


def _date(value: Any) -> Any:
    kind = type(value)
    if kind is date:
        return value
    if kind is str:
        if _DATE_TEXT.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                return SUSPECT
        return None if value == "" else SUSPECT
    return None if value is None else SUSPECT


_CONVERTERS: dict[FieldType, Converter] = {
    FieldType.STRING: _text,
    FieldType.MONEY: _money,
    FieldType.INTEGER: _integer,
    FieldType.NUMBER: _number,
    FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date,
}


@cache
def _code_sets() -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(regions.all_codes()), frozenset(industries.codes())


def _bounds(field: Field, as_of: date) -> tuple[Any, Any] | None:
    """Inclusive bounds the value must lie in (None: no range beyond the converter's), as validate's checks."""
    if field.type is FieldType.NUMBER:
        return (0.0, 1.0) if field.unit == "比例" else (0.0, float("inf"))
    if field.type is FieldType.INTEGER and field.unit == "人":
        return (0, MAX_HEADCOUNT)
    if field.type is FieldType.INTEGER and field.unit == "年":
        return (EARLIEST_YEAR, as_of.year)
    return None  # money: the converter takes only non-negative values below the limit


def convert_column(column: Column, cells: list[Any], as_of: date) -> list[Any]:
    """The column's values, with SUSPECT where RowValidator must decide."""
    field = column.field
    values = list(map(_CONVERTERS[field.type], cells))
    if field.type is FieldType.STRING:  # too long or holding NUL: validate.cell_problem words it
        limit = field.length_limit
        values = [SUSPECT if type(v) is str and (len(v) > limit or "\x00" in v) else v for v in values]
    bounds = _bounds(field, as_of)
    if bounds is not None:
        low, high = bounds
        values = [v if v is None or v is SUSPECT or low <= v <= high else SUSPECT for v in values]
    if field.name == "uscc":
        upper = [v.upper() if type(v) is str else v for v in values]
        valid = uscc.valid_mask(upper)
        values = [v if ok else SUSPECT for v, ok in zip(upper, valid.tolist())]  # empty uscc too: it is required
    elif field.name == "region_code":
        known = _code_sets()[0]
        values = [v if v is None or v in known else SUSPECT for v in values]
    elif field.name == "industry_code":
        known = _code_sets()[1]
        values = [v if v is None or v in known else SUSPECT for v in values]
    elif field.name == "smart_factory_level":
        values = [v if v is None or v in SMART_FACTORY_LEVELS else SUSPECT for v in values]
    elif field.name == "established_on":
        values = [v if v is None or v is SUSPECT or (EARLIEST_YEAR <= v.year and v <= as_of) else SUSPECT
                  for v in values]
    return values


def suspect_rows(columns: list[Column], converted: list[list[Any]], count: int) -> list[bool]:
    """Per row: does any cell need RowValidator, or does a year come before the establishment?"""
    suspect = [False] * count
    for values in converted:
        for i, v in enumerate(values):
            if v is SUSPECT:
                suspect[i] = True
    names = [c.field.name for c in columns]
    if "established_on" in names:
        established = converted[names.index("established_on")]
        for name in YEAR_FIELDS:
            if name not in names:
                continue
            years = converted[names.index(name)]
            for i, (when, year) in enumerate(zip(established, years)):
                if (when is not None and year is not None and when is not SUSPECT and year is not SUSPECT
                        and year < when.year):
                    suspect[i] = True
    return suspect
