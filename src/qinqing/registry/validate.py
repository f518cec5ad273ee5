"""One row of an export → a record of typed field values, or the problems that reject it.

Checks, in order: the cell is text of at most the field's length limit (schema.Field.length_limit)
without NUL characters; it parses as its field's type (values.py); the value meets the national
standard (uscc, region_code, industry_code) or its plausible range; then checks across fields
of the row (no certificate or listing before the enterprise was established).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from qinqing.registry.columns import Column, ColumnMap
from qinqing.registry.schema import STORED_FIELDS, Field, FieldType
from qinqing.registry.standards import industries, regions, uscc
from qinqing.registry.values import PARSERS, ValueProblem

SMART_FACTORY_LEVELS = ("未来工厂", "智能工厂", "数字化车间")
EARLIEST_YEAR = 1900
MAX_HEADCOUNT = 10_000_000
YEAR_FIELDS = tuple(f.name for f in STORED_FIELDS if f.type is FieldType.INTEGER and f.unit == "年")


@dataclass(frozen=True)
class Problem:
    """One bad cell (or row, when column is empty), as written to the report."""

    row: int
    column: str
    value: str
    reason: str


def _uscc(value: str, _as_of: date) -> str:
    value = unicodedata.normalize("NFKC", value).strip().upper()  # 小写字母 typed by hand mean the same code
    reason = uscc.check(value)
    if reason:
        raise ValueProblem(f"统一社会信用代码无效：{reason}")
    return value


def _region(value: str, _as_of: date) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    reason = regions.check(value)
    if reason:
        raise ValueProblem(reason)
    return value


def _industry(value: str, _as_of: date) -> str:
    canonical = industries.normalise(unicodedata.normalize("NFKC", value))
    if canonical is None:
        raise ValueProblem(industries.check(value) or f"行业代码“{value}”无效")
    return canonical


def _established(value: date, as_of: date) -> date:
    if value > as_of:
        raise ValueProblem(f"成立日期{value.isoformat()}晚于今天（{as_of.isoformat()}）")
    if value.year < EARLIEST_YEAR:
        raise ValueProblem(f"成立日期{value.isoformat()}早于{EARLIEST_YEAR}年，不合理")
    return value


def _smart_factory(value: str, _as_of: date) -> str:
    if value not in SMART_FACTORY_LEVELS:
        raise ValueProblem(f"应为{'、'.join(SMART_FACTORY_LEVELS)}之一（没有则留空），实为“{value}”")
    return value


def _range_check(field: Field) -> Callable[[Any, date], Any] | None:
    if field.type is FieldType.MONEY or (field.type is FieldType.NUMBER and field.unit != "比例"):
        def non_negative(value, _as_of):
            if value < 0:
                raise ValueProblem(f"{field.label_zh}不能为负数，实为{value}")
            return value
        return non_negative
    if field.type is FieldType.NUMBER:  # a ratio
        def fraction(value, _as_of):
            if not 0 <= value <= 1:
                raise ValueProblem(f"{field.label_zh}应在0到1之间（如0.05或5%），实为{value}")
            return value
        return fraction
    if field.type is FieldType.INTEGER and field.unit == "人":
        def headcount(value, _as_of):
            if not 0 <= value <= MAX_HEADCOUNT:
                raise ValueProblem(f"{field.label_zh}应在0到{MAX_HEADCOUNT}人之间，实为{value}")
            return value
        return headcount
    if field.type is FieldType.INTEGER and field.unit == "年":
        def year(value, as_of):
            if not EARLIEST_YEAR <= value <= as_of.year:
                raise ValueProblem(f"{field.label_zh}应在{EARLIEST_YEAR}年到{as_of.year}年之间，实为{value}")
            return value
        return year
    return None


_SPECIAL_CHECKS: dict[str, Callable[[Any, date], Any]] = {
    "uscc": _uscc,
    "region_code": _region,
    "industry_code": _industry,
    "established_on": _established,
    "smart_factory_level": _smart_factory,
}


SHOWN_LENGTH = 100  # characters of a cell quoted in the report; the rest is summarised


def cell_problem(field: Field, raw: Any) -> str | None:
    """Why a raw cell of ``field`` is refused before it is parsed (too long, holds NUL), or None."""
    if not isinstance(raw, str):
        return None
    if "\x00" in raw:
        return "含有空字符（NUL，\\x00），文件可能已损坏"
    length = len(raw.strip())
    if length > field.length_limit:
        return f"{field.label_zh}最长{field.length_limit}个字符，实为{length}个字符"
    return None


def field_check(field: Field) -> Callable[[Any, date], Any] | None:
    """The check applied to a parsed, non-empty value of ``field``; it returns the value to store."""
    return _SPECIAL_CHECKS.get(field.name) or _range_check(field)


class RowValidator:
    """Validates rows of one file, whose columns are ``column_map``, as of the date ``as_of``."""

    def __init__(self, column_map: ColumnMap, as_of: date):
        self.as_of = as_of
        self.steps: list[tuple[Column, Callable[[Any], Any], Callable[[Any, date], Any] | None]] = [
            (column, PARSERS[column.field.type], field_check(column.field)) for column in column_map.columns
        ]
        self.header_of = {column.field.name: column.header for column in column_map.columns}

    def validate(self, number: int, values: list[Any]) -> tuple[dict[str, Any], list[Problem]]:
        """The record of row ``number`` (field → value, None for empty cells) and its problems."""
        record: dict[str, Any] = {}
        problems: list[Problem] = []
        for column, parse, check in self.steps:
            raw = values[column.index] if column.index < len(values) else None
            refused = cell_problem(column.field, raw)
            if refused is not None:
                problems.append(Problem(number, column.header, _shown(raw), refused))
                continue
            try:
                value = parse(raw)
                if value is not None and check is not None:
                    value = check(value, self.as_of)
            except ValueProblem as problem:
                problems.append(Problem(number, column.header, _shown(raw), problem.reason))
                continue
            record[column.field.name] = value
        if "uscc" in record and record["uscc"] is None:
            problems.append(Problem(number, self.header_of["uscc"], "", "统一社会信用代码为空（必填）"))
        problems.extend(self._across_fields(number, record, values))
        return record, problems

    def _across_fields(self, number: int, record: dict[str, Any], values: list[Any]) -> list[Problem]:
        established = record.get("established_on")
        if established is None:
            return []
        problems = []
        for name in YEAR_FIELDS:
            year = record.get(name)
            if year is not None and year < established.year:
                header = self.header_of[name]
                problems.append(
                    Problem(number, header, str(year), f"早于成立年份（{established.year}年，成立日期{established.isoformat()}）")
                )
        return problems


def _shown(raw: Any) -> str:
    """The cell as quoted in the report: NUL spelt out, a long one cut to its first SHOWN_LENGTH characters."""
    if raw is None:
        return ""
    text = str(raw)
    if len(text) > SHOWN_LENGTH:
        text = f"{text[:SHOWN_LENGTH]}…（共{len(text)}个字符）"
    return text.replace("\x00", "\\x00")
