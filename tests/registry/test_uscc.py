"""统一社会信用代码 (GB 32100-2015) validation, construction and region agreement."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from qinqing.registry.standards import uscc

REAL_CODES = (
    "91350100M000100Y43",  # the example of GB 32100-2015
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
)


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code: str) -> None:
    assert uscc.check(code) is None
    assert uscc.is_valid(code)


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_single_character_change_is_rejected(code: str) -> None:
    for pos in range(18):
        for replacement in uscc.ALPHABET:
            if replacement == code[pos]:
                continue
            changed = code[:pos] + replacement + code[pos + 1 :]
            reason = uscc.check(changed)
            assert reason is not None, changed
            assert reason.startswith("第"), reason  # every reason names the character position


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "长度应为18位，实为17位"),
        ("91350100M000100Y433", "长度应为18位，实为19位"),
        ("Z1350100M000100Y43", "第1位登记管理部门代码“Z”无效"),
        ("B1350100M000100Y43", "第1位登记管理部门代码“B”无效"),
        (
            "94350100M000100Y43",
            "第2位机构类别代码“4”对登记管理部门“9”（工商（市场监管））无效，应为1、2、3之一",
        ),
        ("91999999M000100Y43", "第3-8位行政区划码“999999”不存在（省级代码“99”无效）"),
        ("91350100I000100Y43", "第9位字符“I”不是代码字符（只用数字和除I、O、S、V、Z以外的大写字母）"),
        ("91350100m000100Y43", "第9位“m”应为大写字母“M”"),
        ("91350100M000100Y53", "第17位组织机构代码校验码应为“4”，实为“5”"),
        ("91350100M000100Y44", "第18位校验码应为“3”，实为“4”"),
        ("91440300708461136Y", "第18位校验码应为“T”，实为“Y”"),
    ],
)
def test_reasons_name_the_character_and_why(code: str, reason: str) -> None:
    assert uscc.check(code) == reason


def test_non_string_is_rejected() -> None:
    assert uscc.check(None) == "统一社会信用代码应为字符串"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("first17", "expected"),
    [("91350100M000100Y4", "3"), ("91440300192203821", "6"), ("91440300708461136", "T")],
)
def test_check_digit(first17: str, expected: str) -> None:
    assert uscc.check_digit(first17) == expected


@pytest.mark.parametrize(("first8", "expected"), [("M000100Y", "4"), ("19220382", "1"), ("70846113", "6")])
def test_organisation_code_check_digit(first8: str, expected: str) -> None:
    assert uscc.org_check_digit(first8) == expected


def test_make_rebuilds_real_codes() -> None:
    assert uscc.make("9", "1", "440300", "708461136") == "91440300708461136T"
    assert uscc.make("9", "1", "440300", "70846113") == "91440300708461136T"
    assert uscc.make("9", "1", "350100", "M000100Y") == "91350100M000100Y43"


def test_make_refuses_an_invalid_part() -> None:
    with pytest.raises(ValueError, match="第17位组织机构代码校验码"):
        uscc.make("9", "1", "440300", "708461137")
    with pytest.raises(ValueError, match="第2位机构类别代码"):
        uscc.make("9", "9", "440300", "70846113")


def test_abolished_region_part_is_accepted() -> None:
    # 330103 下城区 was merged away in 2021; codes issued before still carry it.
    code = uscc.make("9", "1", "330103", "MA2A1111")
    assert uscc.check(code) is None
    assert uscc.region_agrees(code, "330105") is True  # same city, 杭州市
    assert uscc.region_agrees(code, "330200") is False


@pytest.mark.parametrize(
    ("code", "region", "agrees"),
    [
        ("91440300708461136T", "440305", True),  # registered by 深圳市, located in 南山区
        ("91440300708461136T", "440000", True),
        ("91440300708461136T", "330106", False),
        ("91440300708461136T", None, None),
        ("91440300708461136T", "999999", None),
    ],
)
def test_region_agreement(code: str, region: str | None, agrees: bool | None) -> None:
    assert uscc.region_agrees(code, region) is agrees


_body = st.text(alphabet=uscc.ALPHABET, min_size=8, max_size=8)
_kind = st.sampled_from(
    sorted((d, k) for d, (_, kinds) in uscc.REGISTRATION_AUTHORITIES.items() for k in kinds)
)


@given(
    kind=_kind,
    region=st.sampled_from(["110101", "330106", "429004", "440300", "650000", "100000"]),
    body=_body,
)
def test_made_codes_are_valid_and_agree_with_stdnum(kind: tuple[str, str], region: str, body: str) -> None:
    code = uscc.make(kind[0], kind[1], region, body)
    assert uscc.check(code) is None
    if code[:8].isdigit():  # python-stdnum only knows the numeric authorities (not A, N, Y)
        assert stdnum_uscc.is_valid(code)
