"""GB/T 4754-2017 industry codes: the shipped table, normalisation and reasons."""

from __future__ import annotations

import pytest

from qinqing.registry.standards import industries


def test_counts_per_level() -> None:
    assert len(industries.codes("section")) == 20
    assert len(industries.codes("division")) == 97
    assert len(industries.codes("group")) == 473
    # Published totals disagree (1,380 / 1,381 / 1,382); docs/standards.md says why the table keeps 1,381.
    assert len(industries.classes()) == 1381


# 小类 per 门类, counted from the table when the totals question was examined; a change to the data
# (e.g. applying the 修改单) must show up here, section by section.
CLASSES_PER_SECTION = {
    "A": 72, "B": 39, "C": 609, "D": 18, "E": 44, "F": 128, "G": 67, "H": 16, "I": 34, "J": 48,
    "K": 5, "L": 58, "M": 48, "N": 33, "O": 32, "P": 17, "Q": 30, "R": 48, "S": 34, "T": 1,
}


def test_classes_per_section() -> None:
    counts: dict[str, int] = {}
    for code in industries.classes():
        counts[code[0]] = counts.get(code[0], 0) + 1
    assert counts == CLASSES_PER_SECTION
    assert sum(CLASSES_PER_SECTION.values()) == 1381


def test_classes_of_a_group_are_numbered_without_gaps() -> None:
    # 1, 2, 3 … then 9 ("其他"), or a single 0 for an undivided group: an out-of-sequence digit
    # would mark a class inserted later (as a 修改单 does) or a transcription slip.
    digits: dict[str, list[int]] = {}
    for code in industries.classes():
        digits.setdefault(code[:4], []).append(int(code[4]))
    for group, found in digits.items():
        if found == [0]:
            continue
        ordinary = [d for d in found if d != 9]
        assert ordinary == list(range(1, len(ordinary) + 1)), group


def test_every_parent_exists_one_level_up_with_a_matching_prefix() -> None:
    for code in industries.codes():
        parent = industries.parent(code)
        if industries.level(code) == "section":
            assert parent is None
            continue
        assert parent is not None and industries.is_valid(parent)
        assert code.startswith(parent if industries.level(parent) != "section" else parent[0])
        assert len(code) == (len(parent) + 2 if len(parent) == 1 else len(parent) + 1)


def test_every_group_and_division_has_children() -> None:
    with_children = {industries.parent(c) for c in industries.codes()}
    for code in industries.codes():
        if industries.level(code) != "class":
            assert code in with_children, code


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("A", "农、林、牧、渔业"),
        ("A0164", "茶叶种植"),
        ("B12", "其他采矿业"),
        ("B1200", "其他采矿业"),
        ("C", "制造业"),
        ("C13", "农副食品加工业"),
        ("C3911", "计算机整机制造"),
        ("C3973", "集成电路制造"),
        ("C3612", "新能源车整车制造"),
        ("C3491", "工业机器人制造"),
        ("D4416", "太阳能发电"),
        ("F5292", "互联网零售"),
        ("G5910", "装卸搬运"),
        ("I65", "软件和信息技术服务业"),
        ("I6520", "集成电路设计"),
        ("J6621", "商业银行服务"),
        ("K7010", "房地产开发经营"),
        ("L7224", "供应链管理服务"),
        ("M7320", "工程和技术研究和试验发展"),
        ("Q85", "社会工作"),
        ("S9100", "中国共产党机关"),
        ("T9700", "国际组织"),
    ],
)
def test_known_names(code: str, name: str) -> None:
    assert industries.name(code) == name


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("3911", "C3911"),
        ("c3911", "C3911"),
        (" C3911 ", "C3911"),
        ("39", "C39"),
        ("391", "C391"),
        ("c", "C"),
        ("0111", "A0111"),
        ("A3911", None),
        ("C9999", None),
        ("3999", None),
        ("Z", None),
        ("C39111", None),
        ("", None),
        ("计算机", None),
    ],
)
def test_normalise(raw: str, canonical: str | None) -> None:
    assert industries.normalise(raw) == canonical


@pytest.mark.parametrize(
    ("code", "level"),
    [("C", "section"), ("C39", "division"), ("391", "group"), ("c3911", "class")],
)
def test_level(code: str, level: str) -> None:
    assert industries.level(code) == level
    assert industries.section(code) == "C"


def test_level_of_an_unknown_code_says_why() -> None:
    with pytest.raises(ValueError, match="C9999"):
        industries.level("C9999")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("C3911", None),
        ("3911", None),
        ("", "行业代码为空"),
        ("C39-11", "行业代码“C39-11”格式无效：应为门类字母加2至4位数字，如“C3911”"),
        ("Z", "门类“Z”不存在（门类为A至T）"),
        ("C99", "行业代码“C99”的大类“99”不存在"),
        ("A3911", "行业代码“A3911”的门类字母应为“C”，实为“A”（大类39属于门类C）"),
        ("C3918", "行业代码“C3918”不存在：GB/T 4754-2017中没有小类“C3918”"),
        ("C398", None),
        ("C388", "行业代码“C388”不存在：GB/T 4754-2017中没有中类“C388”"),
        ("C399", None),
    ],
)
def test_check(code: str, reason: str | None) -> None:
    assert industries.check(code) == reason


def test_classes_carry_their_letter_and_are_sorted() -> None:
    classes = industries.classes()
    assert classes == sorted(classes)
    assert all(len(c) == 5 and c[0].isalpha() and c[1:].isdigit() for c in classes)
