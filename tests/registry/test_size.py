"""企业规模 per 工信部联企业〔2011〕300号 and the 2017 statistics mapping.

The thresholds below are transcribed a second time, by hand, from the standard's table
(independently of data/size_classes.yaml), and every bound of every row is tested just
below, at and just above it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from qinqing.registry.standards import size

# row name -> (an industry code of the row, {indicator: (大型, 中型, 小型 lower bounds)})
STANDARD = {
    "农、林、牧、渔业": ("A0111", {"revenue": (20000, 500, 50)}),
    "工业": ("C3911", {"employees": (1000, 300, 20), "revenue": (40000, 2000, 300)}),
    "建筑业": ("E4710", {"revenue": (80000, 6000, 300), "total_assets": (80000, 5000, 300)}),
    "批发业": ("F5111", {"employees": (200, 20, 5), "revenue": (40000, 5000, 1000)}),
    "零售业": ("F5211", {"employees": (300, 50, 10), "revenue": (20000, 500, 100)}),
    "交通运输业": ("G5431", {"employees": (1000, 300, 20), "revenue": (30000, 3000, 200)}),
    "仓储业": ("G5920", {"employees": (200, 100, 20), "revenue": (30000, 1000, 100)}),
    "邮政业": ("G6020", {"employees": (1000, 300, 20), "revenue": (30000, 2000, 100)}),
    "住宿业": ("H6110", {"employees": (300, 100, 10), "revenue": (10000, 2000, 100)}),
    "餐饮业": ("H6210", {"employees": (300, 100, 10), "revenue": (10000, 2000, 100)}),
    "信息传输业": ("I6311", {"employees": (2000, 100, 10), "revenue": (100000, 1000, 100)}),
    "软件和信息技术服务业": ("I6513", {"employees": (300, 100, 10), "revenue": (10000, 1000, 50)}),
    "房地产开发经营": ("K7010", {"revenue": (200000, 1000, 100), "total_assets": (10000, 5000, 2000)}),
    "物业管理": ("K7020", {"employees": (1000, 300, 100), "revenue": (5000, 1000, 500)}),
    "租赁和商务服务业": ("L7211", {"employees": (300, 100, 10), "total_assets": (120000, 8000, 100)}),
    "其他未列明行业": ("M7320", {"employees": (300, 100, 10)}),
}
CLASSES = ("大型", "中型", "小型", "微型")


def _cases() -> list[tuple[str, str, dict[str, Decimal], str]]:
    """For each bound: the other indicators sit exactly on their bound of the same class."""
    cases = []
    for row, (code, thresholds) in STANDARD.items():
        for indicator, bounds in thresholds.items():
            for rank, bound in enumerate(bounds):
                base = {ind: Decimal(b[rank]) for ind, b in thresholds.items()}
                for label, delta, expected in (
                    ("below", -1, CLASSES[rank + 1]),
                    ("at", 0, CLASSES[rank]),
                    ("above", 1, CLASSES[rank]),
                ):
                    values = dict(base, **{indicator: Decimal(bound + delta)})
                    cases.append((f"{row}-{indicator}-{CLASSES[rank]}-{label}", code, values, expected))
    return cases


CASES = _cases()


@pytest.mark.parametrize(("case", "code", "values", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_threshold(case: str, code: str, values: dict[str, Decimal], expected: str) -> None:
    got = size.size_class(code, values.get("employees"), values.get("revenue"), values.get("total_assets"))
    assert got == expected


def test_the_yaml_rows_are_the_standard_rows() -> None:
    assert {row.name for row in size.rows()} == set(STANDARD)
    for row in size.rows():
        code, thresholds = STANDARD[row.name]
        assert size.row_for(code) is row
        assert {k: tuple(int(v) for v in b) for k, b in row.thresholds.items()} == thresholds


@pytest.mark.parametrize(
    ("code", "employees", "revenue", "assets", "expected"),
    [
        # 工业: both indicators must meet a class's bound, otherwise one class down
        ("C3911", 1200, Decimal("50000"), None, "大型"),
        ("C3911", 1200, Decimal("1999.9999"), None, "小型"),
        ("C3911", 5, Decimal("50000"), None, "微型"),
        ("3911", 300, 2000, None, "中型"),  # bare digits and plain numbers are accepted
        ("C39", 300, 2000.0, None, "中型"),
        # 仓储业 vs 交通运输业 inside 装卸搬运和仓储业 (G59)
        ("G5910", 300, Decimal("3000"), None, "中型"),
        ("G5920", 300, Decimal("3000"), None, "中型"),
        ("G5920", 150, Decimal("3000"), None, "中型"),
        ("G5910", 150, Decimal("3000"), None, "小型"),
        # 其他未列明行业 uses employees only
        ("Q8514", 150, None, None, "中型"),
        ("K7090", 9, None, None, "微型"),
        ("O8010", 300, None, None, "大型"),
    ],
)
def test_examples(code: str, employees, revenue, assets, expected: str) -> None:
    assert size.size_class(code, employees, revenue, assets) == expected


@pytest.mark.parametrize(
    ("code", "employees", "revenue", "assets"),
    [
        ("C3911", None, Decimal("50000"), None),  # an input the row uses is missing
        ("C3911", 5000, None, Decimal("1")),  # even if employees alone would decide
        ("E4710", None, Decimal("90000"), None),
        ("A0111", 10, None, None),
        ("J6621", 5000, Decimal("900000"), Decimal("900000")),  # 金融业: its own standard
        ("P8341", 5000, Decimal("900000"), None),  # 教育: outside the standard
        ("Q8411", 5000, Decimal("900000"), None),  # 卫生
        ("S9100", 50, None, None),
        ("G5311", 5000, Decimal("900000"), None),  # 铁路运输业 is not in 交通运输业
        ("K7040", 5000, Decimal("900000"), Decimal("900000")),  # 房地产租赁经营 is excluded
        ("G59", 500, Decimal("900000"), None),  # division spans two rows: undecided
        ("C9999", 500, Decimal("900000"), None),
        (None, 500, Decimal("900000"), None),
    ],
)
def test_none_when_missing_or_outside(code, employees, revenue, assets) -> None:
    assert size.size_class(code, employees, revenue, assets) is None
