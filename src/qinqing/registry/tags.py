"""Profile tags (企业画像标签): labels read off an enterprise's stored and derived fields.

Each tag is declared once in :data:`TAGS` with its id, 中文名, dimension and a rule over the profile.
Rules are three-valued like policy conditions: TRUE (the tag applies), FALSE (it does not) or
None (unknown: an input it needs is missing). Only TRUE tags are asserted; an unknown tag is never
shown as if it applied, and :func:`evaluate` tells which inputs would decide it.

>>> [t.label_zh for t in tags_for({"is_above_scale": True, "high_tech_cert_year": 2023}, date(2024, 5, 1))]
['规上/限上企业', '高新技术企业']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from qinqing.registry.derived import DERIVED_NAMES, derive

Truth = bool | None
Dimension = Literal["规模", "成长", "创新", "资质", "信用"]
DIMENSIONS: tuple[Dimension, ...] = ("规模", "成长", "创新", "资质", "信用")

# Recognitions valid for three years from the year granted: 高新技术企业 (《高新技术企业认定管理办法》,
# 国科发火〔2016〕32号), 专精特新中小企业 and “小巨人” (《优质中小企业梯度培育管理暂行办法》, 工信部企业〔2022〕63号);
# 制造业单项冠军 is taken as three years too (reviewed periodically; not checked against the text).
VALID_YEARS = 3


@dataclass(frozen=True)
class Condition:
    """A three-valued test of a profile, with the fields it reads."""

    reads: tuple[str, ...]
    test: Callable[[Mapping[str, Any], date], Truth]
    text: str  # English, for docs/registry.md


@dataclass(frozen=True)
class Tag:
    id: str
    label_zh: str
    dimension: Dimension
    condition: Condition

    def truth(self, facts: Mapping[str, Any], as_of: date) -> Truth:
        return self.condition.test(facts, as_of)


def is_true(name: str) -> Condition:
    return Condition((name,), lambda f, _: None if f.get(name) is None else bool(f[name]), f"`{name}` is true")


def equals(name: str, value: Any) -> Condition:
    return Condition((name,), lambda f, _: None if f.get(name) is None else f[name] == value, f"`{name}` = {value}")


def at_least(name: str, bound: float) -> Condition:
    return Condition((name,), lambda f, _: None if f.get(name) is None else f[name] >= bound, f"`{name}` ≥ {bound}")


def below(name: str, bound: float) -> Condition:
    return Condition((name,), lambda f, _: None if f.get(name) is None else f[name] < bound, f"`{name}` < {bound}")


def present(name: str) -> Condition:
    # For a field whose value names a recognition (智能制造等级): NULL is unknown, not "none".
    return Condition((name,), lambda f, _: None if f.get(name) is None else bool(f[name]), f"`{name}` is given")


def year_within(name: str, years: int) -> Condition:
    """The year in ``name`` is one of the ``years`` years ending with the reference year."""

    def test(f: Mapping[str, Any], as_of: date) -> Truth:
        year = f.get(name)
        return None if year is None else 0 <= as_of.year - year < years

    return Condition((name,), test, f"`{name}` within the last {years} years (reference year included)")


def none_of(*names: str) -> Condition:
    """FALSE if any flag is true; TRUE only when every flag is known to be false."""

    def test(f: Mapping[str, Any], _as_of: date) -> Truth:
        values = [f.get(n) for n in names]
        if any(v is True for v in values):
            return False
        return None if any(v is None for v in values) else True

    return Condition(names, test, "none of " + ", ".join(f"`{n}`" for n in names) + " is true")


TAGS: tuple[Tag, ...] = (
    # 规模
    Tag("large", "大型企业", "规模", equals("size_class", "大型")),
    Tag("medium", "中型企业", "规模", equals("size_class", "中型")),
    Tag("small", "小型企业", "规模", equals("size_class", "小型")),
    Tag("micro", "微型企业", "规模", equals("size_class", "微型")),
    Tag("above_scale", "规上/限上企业", "规模", is_true("is_above_scale")),
    # 成长
    Tag("newly_above_scale", "新升规企业", "成长", year_within("above_scale_since", 2)),
    Tag("high_growth", "高成长企业", "成长", at_least("revenue_growth", 0.2)),
    Tag("revenue_decline", "营收下降企业", "成长", below("revenue_growth", 0)),
    Tag("startup", "初创企业（成立不满3年）", "成长", below("age_years", 3)),
    Tag("established", "成立10年以上企业", "成长", at_least("age_years", 10)),
    # 创新
    Tag("rd_intensive", "研发投入强度3%以上", "创新", at_least("rd_intensity", 0.03)),
    Tag("rd_growing", "研发投入增长企业", "创新", at_least("rd_growth", 0.1)),
    Tag("rd_large", "研发费用1000万元以上", "创新", at_least("rd_expense", 1000)),
    Tag("software", "软件企业（有软件业务收入）", "创新", Condition(
        ("software_revenue",),
        lambda f, _: None if f.get("software_revenue") is None else f["software_revenue"] > 0,
        "`software_revenue` > 0",
    )),
    # 资质
    Tag("high_tech", "高新技术企业", "资质", year_within("high_tech_cert_year", VALID_YEARS)),
    Tag("tech_sme", "科技型中小企业", "资质", year_within("tech_sme_year", 2)),
    Tag("srdi", "专精特新中小企业", "资质", year_within("srdi_year", VALID_YEARS)),
    Tag("little_giant", "专精特新“小巨人”", "资质", year_within("little_giant_year", VALID_YEARS)),
    Tag("single_champion", "制造业单项冠军", "资质", year_within("single_champion_year", VALID_YEARS)),
    Tag("smart_factory", "智能制造认定企业", "资质", present("smart_factory_level")),
    Tag("listed", "上市企业", "资质", is_true("is_listed")),
    # 信用
    Tag("dishonest", "失信被执行人", "信用", is_true("is_dishonest")),
    Tag("abnormal", "经营异常名录企业", "信用", is_true("in_abnormal_list")),
    Tag("safety_blacklist", "安全生产黑名单企业", "信用", is_true("in_safety_blacklist")),
    Tag("recent_major_accident", "近3年发生重大事故", "信用", year_within("major_accident_year", 3)),
    Tag("credit_clean", "信用良好", "信用", none_of("is_dishonest", "in_abnormal_list", "in_safety_blacklist")),
)
TAGS_BY_ID: dict[str, Tag] = {t.id: t for t in TAGS}


def _facts(row: Mapping[str, Any], as_of: date) -> Mapping[str, Any]:
    """The stored fields of ``row`` plus its derived ones (computed when the row does not carry them)."""
    if all(name in row for name in DERIVED_NAMES):
        return row
    return {**row, **derive(row, as_of)}


def evaluate(row: Mapping[str, Any], as_of: date) -> dict[str, Truth]:
    """Every tag's truth for this enterprise: True, False or None (unknown)."""
    facts = _facts(row, as_of)
    return {tag.id: tag.truth(facts, as_of) for tag in TAGS}


def tags_for(row: Mapping[str, Any], as_of: date) -> list[Tag]:
    """The tags that apply (TRUE) to the enterprise ``row`` as of ``as_of``, in the order of :data:`TAGS`."""
    facts = _facts(row, as_of)
    return [tag for tag in TAGS if tag.truth(facts, as_of) is True]


def missing_inputs(tag: Tag, row: Mapping[str, Any], as_of: date) -> tuple[str, ...]:
    """The fields the tag reads that are NULL for this enterprise (why it may be unknown)."""
    facts = _facts(row, as_of)
    return tuple(name for name in tag.condition.reads if facts.get(name) is None)
