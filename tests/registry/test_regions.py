"""GB/T 2260 region codes: the shipped table, names and hierarchy."""

from __future__ import annotations

import pytest

from qinqing.registry.standards import regions


def test_counts_per_level() -> None:
    codes = regions.all_codes()
    levels = [regions.level(c) for c in codes]
    assert levels.count("province") == 34
    assert levels.count("city") == 333
    assert 2800 <= levels.count("county") <= 2900
    assert len(regions.provinces()) == 34


def test_every_parent_exists_one_level_up_and_shares_the_province_digits() -> None:
    order = {"province": 0, "city": 1, "county": 2}
    for code in regions.all_codes():
        parent = regions.parent(code)
        if regions.level(code) == "province":
            assert parent is None and code.endswith("0000")
            continue
        assert parent is not None and regions.is_valid(parent), code
        assert order[regions.level(parent)] < order[regions.level(code)]
        assert parent[:2] == code[:2]


@pytest.mark.parametrize(
    ("code", "full"),
    [
        ("330106", "浙江省杭州市西湖区"),
        ("110101", "北京市东城区"),
        ("429004", "湖北省仙桃市"),
        ("469001", "海南省五指山市"),
        ("440305", "广东省深圳市南山区"),
        ("650000", "新疆维吾尔自治区"),
        ("653228", "新疆维吾尔自治区和田地区和康县"),
    ],
)
def test_full_names(code: str, full: str) -> None:
    assert regions.full_name(code) == full


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("330000", "province", None),
        ("330100", "city", "330000"),
        ("330106", "county", "330100"),
        ("110101", "county", "110000"),  # 直辖市 districts hang off the province
        ("429004", "county", "420000"),  # 省直辖县级行政区
        ("419001", "county", "410000"),
        ("441900", "city", "440000"),  # 东莞市, a city without counties
    ],
)
def test_level_and_parent(code: str, level: str, parent: str | None) -> None:
    assert regions.level(code) == level
    assert regions.parent(code) == parent


@pytest.mark.parametrize(
    ("code", "ancestor", "inside"),
    [
        ("330106", "330100", True),
        ("330106", "330000", True),
        ("330106", "330106", True),
        ("330100", "330106", False),
        ("330106", "320000", False),
        ("110101", "110000", True),
        ("429004", "420000", True),
        ("429004", "420100", False),
        ("330103", "330100", True),  # abolished 下城区 is placed by its digits
        ("330103", "330000", True),
        ("330103", "320000", False),
        ("999999", "330000", False),
    ],
)
def test_within(code: str, ancestor: str, inside: bool) -> None:
    assert regions.within(code, ancestor) is inside


def test_descendants_of_hangzhou() -> None:
    below = regions.descendants("330100")
    assert {"330102", "330105", "330106", "330108", "330113", "330114", "330122", "330127", "330182"} <= set(
        below
    )
    assert all(regions.within(c, "330100") for c in below)
    assert len(below) == 13


def test_descendants_of_a_province_cover_cities_and_counties() -> None:
    below = regions.descendants("420000")
    assert "420100" in below and "420106" in below and "429004" in below
    assert regions.children("420000")[:2] == ["420100", "420200"]


def test_ancestors_are_listed_from_the_province() -> None:
    assert regions.ancestors("330106") == ["330000", "330100"]
    assert regions.ancestors("330000") == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("330106", None),
        ("33010", "行政区划代码应为6位数字，实为“33010”"),
        ("33O106", "行政区划代码应为6位数字，实为“33O106”"),
        ("990000", "行政区划代码“990000”不存在：省级代码“99”无效"),
        ("330103", "行政区划代码“330103”不在现行GB/T 2260代码表中（可能已撤销或变更）"),
    ],
)
def test_check(code: str, reason: str | None) -> None:
    assert regions.check(code) == reason
