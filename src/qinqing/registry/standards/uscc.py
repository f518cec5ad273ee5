"""统一社会信用代码 (unified social credit code) per GB 32100-2015.

Layout of the 18 characters::

    1      登记管理部门代码   registration authority (9 = 市场监管/工商)
    2      机构类别代码       kind of organisation, valid per authority
    3-8    登记管理机关行政区划码  GB/T 2260 region at registration time
    9-17   主体标识码 = 组织机构代码 (GB 11714-1997), its 9th character a check character
    18     校验码 over the 31-character alphabet, weights 3^i mod 31

Every message says which character is wrong and why, in Chinese, because it is
shown to the clerk who typed the code.

>>> check("91350100M000100Y43") is None
True
>>> check("91350100M000100Y44")
'第18位校验码应为“3”，实为“4”'
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from qinqing.registry.standards import regions

if TYPE_CHECKING:
    import numpy as np

# GB 32100-2015 4.1: the code never uses I, O, S, V, Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

# GB 11714-1997 organisation code: 8 body characters weighted, check 11 - sum mod 11.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# 登记管理部门代码 -> (部门, {机构类别代码: 类别}). GB 32100-2015 table 1 lists 1, 5, 9 and Y;
# the other authorities were assigned later by the national code centre and appear on real certificates.
REGISTRATION_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商（市场监管）", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}

# Region part of organisations registered by central authorities (e.g. 中央编办).
CENTRAL_REGION = "100000"


def check_digit(first17: str) -> str:
    """The 18th character (GB 32100-2015 annex B) for the first 17 characters.

    >>> check_digit("91440300708461136")
    'T'
    """
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError(f"需要17位代码字符，实为“{first17}”")
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS))
    # tests/registry/test_uscc.py cross-checks this against python-stdnum's implementation of the annex.
    return ALPHABET[(31 - total % 31) % 31]


def org_check_digit(first8: str) -> str:
    """The 9th character of a GB 11714-1997 organisation code for its first 8 characters.

    >>> org_check_digit("70846113")
    '6'
    """
    if len(first8) != 8 or any(not (c.isdigit() or "A" <= c <= "Z") for c in first8):
        raise ValueError(f"需要8位组织机构代码本体，实为“{first8}”")
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def check(code: str) -> str | None:
    """None if ``code`` is a valid 统一社会信用代码, else the first problem found, in Chinese."""
    if not isinstance(code, str):
        return "统一社会信用代码应为字符串"
    if len(code) != 18:
        return f"长度应为18位，实为{len(code)}位"
    for pos, c in enumerate(code, start=1):
        if pos == 1 and c not in REGISTRATION_AUTHORITIES:
            return f"第1位登记管理部门代码“{c}”无效"
        if c not in _VALUE:
            if c.islower() and c.upper() in _VALUE:
                return f"第{pos}位“{c}”应为大写字母“{c.upper()}”"
            return f"第{pos}位字符“{c}”不是代码字符（只用数字和除I、O、S、V、Z以外的大写字母）"
    authority = REGISTRATION_AUTHORITIES.get(code[0])
    if authority is None:
        return f"第1位登记管理部门代码“{code[0]}”无效"
    dept, kinds = authority
    if code[1] not in kinds:
        allowed = "、".join(kinds)
        return f"第2位机构类别代码“{code[1]}”对登记管理部门“{code[0]}”（{dept}）无效，应为{allowed}之一"
    region_problem = _check_region_part(code[2:8])
    if region_problem:
        return region_problem
    expected_org = org_check_digit(code[8:16])
    if code[16] != expected_org:
        return f"第17位组织机构代码校验码应为“{expected_org}”，实为“{code[16]}”"
    expected = check_digit(code[:17])
    if code[17] != expected:
        return f"第18位校验码应为“{expected}”，实为“{code[17]}”"
    return None


def is_valid(code: str) -> bool:
    return check(code) is None


def _check_region_part(part: str) -> str | None:
    # The region is the registering office's at registration time and may since have been
    # abolished, so only its shape and province are checked; see region_agrees for the rest.
    if not part.isdigit():
        bad = next(i for i, c in enumerate(part) if not c.isdigit())
        return f"第{bad + 3}位“{part[bad]}”无效：第3-8位行政区划码只能是数字"
    if part == CENTRAL_REGION:
        return None
    if not regions.is_valid(part[:2] + "0000"):
        return f"第3-8位行政区划码“{part}”不存在（省级代码“{part[:2]}”无效）"
    return None


def region_part(code: str) -> str:
    """Characters 3-8: the registering office's region code."""
    return code[2:8]


def region_agrees(code: str, region_code: str | None) -> bool | None:
    """Whether the code's region part is consistent with the enterprise's ``region_code``.

    True when one lies within the other (an enterprise registered by 杭州市 may sit in 西湖区).
    A region part no longer in GB/T 2260 is compared at the deepest level still current
    (its city, else its province). None when either side cannot be judged.
    """
    if region_code is None or not regions.is_valid(region_code) or check(code) is not None:
        return None
    part = region_part(code)
    if part == CENTRAL_REGION:
        return None
    for candidate in (part, part[:4] + "00", part[:2] + "0000"):
        if regions.is_valid(candidate):
            return regions.within(region_code, candidate) or regions.within(candidate, region_code)
    return None


def make(registry_dept: str, org_type: str, region_code: str, body9: str) -> str:
    """A valid code from its parts.

    ``body9`` is the organisation code: 9 characters with a correct GB 11714 check character,
    or its 8-character body, whose check character is then computed.

    >>> make("9", "1", "440300", "70846113")
    '91440300708461136T'
    """
    if len(body9) == 8:
        body9 = body9 + org_check_digit(body9)
    first17 = f"{registry_dept}{org_type}{region_code}{body9}"
    code = first17 + (
        check_digit(first17) if len(first17) == 17 and all(c in _VALUE for c in first17) else "?"
    )
    problem = check(code)
    if problem is not None:
        raise ValueError(problem)
    return code


def valid_mask(codes: list[object]) -> np.ndarray:
    """For each item, whether :func:`check` would accept it — computed for many codes at once.

    The import checks a million codes with this; :func:`check` still explains each rejected one.
    tests/registry/test_uscc.py holds the two equal on valid codes and every kind of damage.
    """
    import numpy as np

    mask = np.zeros(len(codes), dtype=bool)
    index = [i for i, c in enumerate(codes) if type(c) is str and len(c) == 18 and c.isascii()]
    if not index:
        return mask
    chars = np.frombuffer("".join(codes[i] for i in index).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    tables = _vector_tables()
    values = tables["value"][chars]  # -1 outside the alphabet
    ok = (values >= 0).all(axis=1)
    ok &= tables["authority_kind"][chars[:, 0].astype(np.int32) * 256 + chars[:, 1]]
    digits = chars[:, 2:8] - ord("0")
    region_digits = (chars[:, 2:8] >= ord("0")).all(axis=1) & (chars[:, 2:8] <= ord("9")).all(axis=1)
    province = np.where(region_digits, digits[:, 0].astype(np.int32) * 10 + digits[:, 1], 0)
    central = (chars[:, 2:8] == np.frombuffer(CENTRAL_REGION.encode(), dtype=np.uint8)).all(axis=1)
    ok &= region_digits & (tables["province"][province] | central)
    org = (tables["base36"][chars[:, 8:16]] * np.array(_ORG_WEIGHTS)).sum(axis=1)
    org_value = 11 - org % 11
    org_expected = np.where(org_value == 10, ord("X"), np.where(org_value == 11, ord("0"), ord("0") + org_value))
    ok &= chars[:, 16] == org_expected
    total = (np.where(values[:, :17] >= 0, values[:, :17], 0) * np.array(_WEIGHTS)).sum(axis=1)
    ok &= chars[:, 17] == tables["alphabet"][(31 - total % 31) % 31]
    mask[np.array(index)] = ok
    return mask


@cache
def _vector_tables() -> dict[str, np.ndarray]:
    import numpy as np

    value = np.full(256, -1, dtype=np.int64)
    for c, v in _VALUE.items():
        value[ord(c)] = v
    base36 = np.zeros(256, dtype=np.int64)
    for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        base36[ord(c)] = int(c, 36)
    authority_kind = np.zeros(65536, dtype=bool)
    for authority, (_, kinds) in REGISTRATION_AUTHORITIES.items():
        for kind in kinds:
            if kind in _VALUE:
                authority_kind[ord(authority) * 256 + ord(kind)] = True
    province = np.array([regions.is_valid(f"{p:02d}0000") for p in range(100)])
    alphabet = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    return {"value": value, "base36": base36, "authority_kind": authority_kind, "province": province,
            "alphabet": alphabet}
