"""行政区划代码 per GB/T 2260: the current codes, their names and their hierarchy.

The data file ``data/regions.csv`` cites its source. Levels are province (省级), city
(地级) and county (县级). Districts of 直辖市 hang directly off the province (there is
no "市辖区" code in the current list), and 省直辖县级行政区 such as 429004 仙桃市 are
counties whose parent is the province.

>>> full_name("330106")
'浙江省杭州市西湖区'
>>> within("330106", "330000")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from qinqing.registry.standards._data import read_csv

Level = Literal["province", "city", "county"]


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: Level
    parent: str | None


@dataclass(frozen=True)
class _Table:
    by_code: dict[str, Region]
    children: dict[str, tuple[str, ...]]


@cache
def _table() -> _Table:
    by_code: dict[str, Region] = {}
    children: dict[str, list[str]] = {}
    for row in read_csv("regions.csv"):
        region = Region(row["code"], row["name"], row["level"], row["parent"] or None)  # type: ignore[arg-type]
        by_code[region.code] = region
        if region.parent:
            children.setdefault(region.parent, []).append(region.code)
    return _Table(by_code, {k: tuple(sorted(v)) for k, v in children.items()})


def get(code: str) -> Region | None:
    return _table().by_code.get(code) if isinstance(code, str) else None


def is_valid(code: str) -> bool:
    return get(code) is not None


def name(code: str) -> str | None:
    region = get(code)
    return region.name if region else None


def level(code: str) -> Level | None:
    region = get(code)
    return region.level if region else None


def parent(code: str) -> str | None:
    region = get(code)
    return region.parent if region else None


def ancestors(code: str) -> list[str]:
    """Codes above ``code``, province first; empty for a province or an unknown code."""
    chain: list[str] = []
    current = parent(code)
    while current is not None:
        chain.append(current)
        current = parent(current)
    return chain[::-1]


def full_name(code: str) -> str | None:
    """Names from the province down, e.g. 浙江省杭州市西湖区."""
    if not is_valid(code):
        return None
    return "".join(name(c) or "" for c in [*ancestors(code), code])


def within(code: str, ancestor: str) -> bool:
    """True if ``code`` is ``ancestor`` or lies below it.

    A ``code`` no longer in the list (e.g. abolished 330103 下城区) is placed by its digits:
    its province is the first two, its city the first four.
    """
    if code == ancestor:
        return is_valid(code)
    if is_valid(code):
        return ancestor in ancestors(code)
    if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
        return False
    if level(ancestor) == "province":
        return code[:2] == ancestor[:2]
    if level(ancestor) == "city":
        return code[:4] == ancestor[:4]
    return False


def children(code: str) -> list[str]:
    return list(_table().children.get(code, ()))


def descendants(code: str) -> list[str]:
    """Every code below ``code`` (cities and counties), in code order."""
    found: list[str] = []
    for child in children(code):
        found.append(child)
        found.extend(descendants(child))
    return sorted(found)


def provinces() -> list[str]:
    return sorted(c for c, r in _table().by_code.items() if r.level == "province")


def all_codes() -> list[str]:
    return sorted(_table().by_code)


def check(code: str) -> str | None:
    """None if ``code`` is a current GB/T 2260 code, else the reason in Chinese."""
    if not isinstance(code, str) or len(code) != 6 or not code.isdigit():
        return f"行政区划代码应为6位数字，实为“{code}”"
    if is_valid(code):
        return None
    if not is_valid(code[:2] + "0000"):
        return f"行政区划代码“{code}”不存在：省级代码“{code[:2]}”无效"
    return f"行政区划代码“{code}”不在现行GB/T 2260代码表中（可能已撤销或变更）"
