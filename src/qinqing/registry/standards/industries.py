"""国民经济行业分类 GB/T 4754-2017: 门类 section, 大类 division, 中类 group, 小类 class.

Codes are written with their section letter: "C", "C39", "C391", "C3911". The bare
digits used in many exports ("3911") are accepted by :func:`normalise`, which adds the
letter. The table, with its source, is ``data/industries.csv``.

>>> normalise("3911")
'C3911'
>>> name("C3911")
'计算机整机制造'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from qinqing.registry.standards._data import read_csv

Level = Literal["section", "division", "group", "class"]
LEVEL_ZH: dict[str, str] = {"section": "门类", "division": "大类", "group": "中类", "class": "小类"}
_LEVEL_BY_DIGITS: dict[int, Level] = {0: "section", 2: "division", 3: "group", 4: "class"}
_SHAPE = re.compile(r"^([A-Za-z]?)(\d{2,4})?$")


@dataclass(frozen=True)
class Industry:
    code: str
    level: Level
    name: str
    parent: str | None


@dataclass(frozen=True)
class _Table:
    by_code: dict[str, Industry]
    section_of_division: dict[str, str]


@cache
def _table() -> _Table:
    by_code: dict[str, Industry] = {}
    section_of_division: dict[str, str] = {}
    for row in read_csv("industries.csv"):
        item = Industry(row["code"], row["level"], row["name"], row["parent"] or None)  # type: ignore[arg-type]
        by_code[item.code] = item
        if item.level == "division":
            section_of_division[item.code[1:]] = item.code[0]
    return _Table(by_code, section_of_division)


def normalise(code: str) -> str | None:
    """The code in canonical form (upper-case letter + digits), or None if it is not a code of the table."""
    if not isinstance(code, str):
        return None
    match = _SHAPE.match(code.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    letter, digits = match.group(1).upper(), match.group(2) or ""
    if digits:
        expected = _table().section_of_division.get(digits[:2])
        if expected is None or (letter and letter != expected):
            return None
        letter = expected
    canonical = letter + digits
    return canonical if canonical in _table().by_code else None


def get(code: str) -> Industry | None:
    canonical = normalise(code)
    return _table().by_code[canonical] if canonical else None


def is_valid(code: str) -> bool:
    return normalise(code) is not None


def level(code: str) -> Level:
    """门类/大类/中类/小类 as section/division/group/class; ValueError for a code not in the table."""
    item = get(code)
    if item is None:
        raise ValueError(check(code) or f"行业代码“{code}”无效")
    return item.level


def name(code: str) -> str | None:
    item = get(code)
    return item.name if item else None


def section(code: str) -> str:
    """The section letter of a valid code."""
    canonical = normalise(code)
    if canonical is None:
        raise ValueError(check(code) or f"行业代码“{code}”无效")
    return canonical[0]


def parent(code: str) -> str | None:
    item = get(code)
    return item.parent if item else None


def classes() -> list[str]:
    """Every 小类, with its letter, in code order."""
    return sorted(c for c, item in _table().by_code.items() if item.level == "class")


def codes(level_: Level | None = None) -> list[str]:
    return sorted(c for c, item in _table().by_code.items() if level_ is None or item.level == level_)


def check(code: str) -> str | None:
    """None if ``code`` is a GB/T 4754-2017 code at any level, else the reason in Chinese."""
    if not isinstance(code, str) or not code.strip():
        return "行业代码为空"
    match = _SHAPE.match(code.strip())
    if not match or not (match.group(1) or match.group(2)):
        return f"行业代码“{code}”格式无效：应为门类字母加2至4位数字，如“C3911”"
    letter, digits = match.group(1).upper(), match.group(2) or ""
    if not digits:
        if letter not in _table().by_code:
            return f"门类“{letter}”不存在（门类为A至T）"
        return None
    expected = _table().section_of_division.get(digits[:2])
    if expected is None:
        return f"行业代码“{code}”的大类“{digits[:2]}”不存在"
    if letter and letter != expected:
        division = digits[:2]
        return f"行业代码“{code}”的门类字母应为“{expected}”，实为“{letter}”（大类{division}属于门类{expected}）"
    canonical = expected + digits
    if canonical not in _table().by_code:
        level_zh = LEVEL_ZH[_LEVEL_BY_DIGITS[len(digits)]]
        return f"行业代码“{code}”不存在：GB/T 4754-2017中没有{level_zh}“{canonical}”"
    return None
