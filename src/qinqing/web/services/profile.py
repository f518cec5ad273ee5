"""企业画像: one enterprise's stored fields, derived variables and tags, for those allowed to see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine

from qinqing.accounts.authz import Principal, require_enterprise_access
from qinqing.registry import store
from qinqing.registry.schema import DERIVED_FIELDS, STORED_FIELDS, Field
from qinqing.registry.standards import industries, regions
from qinqing.web.errors import NotFound

HIGH_TECH_VALID_YEARS = 3  # a 高企 certificate is valid for three years


@dataclass(frozen=True)
class ProfileRow:
    field: Field
    value: Any

    @property
    def shown(self) -> str:
        return show_value(self.field, self.value)


@dataclass(frozen=True)
class Profile:
    uscc: str
    name: str
    region: str
    industry: str
    stored: list[ProfileRow]
    derived: list[ProfileRow]
    tags: list[str]
    facts: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc,
            "name": self.name,
            "region": self.region,
            "industry": self.industry,
            "fields": {r.field.name: _json(r.value) for r in self.stored},
            "derived": {r.field.name: _json(r.value) for r in self.derived},
            "tags": self.tags,
        }


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if value is not None and not isinstance(value, (bool, int, float, str)):
        return str(value)
    return value


def show_value(field: Field, value: Any) -> str:
    if value is None:
        return "未知（缺数据）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field.unit == "比例" and isinstance(value, (int, float)):
        return f"{value * 100:.1f}%"
    return f"{value} {field.unit}".strip() if field.unit not in ("", "年") else str(value)


def tags_of(facts: dict[str, Any], as_of: date) -> list[str]:
    """Labels officers and enterprises use, read off the profile (only what the data shows)."""
    tags = []
    year = as_of.year
    if facts.get("size_class"):
        tags.append(f"{facts['size_class']}企业")
    if facts.get("is_above_scale"):
        tags.append("规上/限上企业")
    cert = facts.get("high_tech_cert_year")
    if cert is not None and 0 <= year - cert < HIGH_TECH_VALID_YEARS:
        tags.append("高新技术企业")
    if facts.get("tech_sme_year") == year or facts.get("tech_sme_year") == year - 1:
        tags.append("科技型中小企业")
    if facts.get("little_giant_year") is not None:
        tags.append("专精特新“小巨人”")
    elif facts.get("srdi_year") is not None:
        tags.append("专精特新中小企业")
    if facts.get("single_champion_year") is not None:
        tags.append("制造业单项冠军")
    if facts.get("smart_factory_level"):
        tags.append(str(facts["smart_factory_level"]))
    if facts.get("is_listed"):
        tags.append("上市企业")
    if facts.get("is_dishonest"):
        tags.append("失信被执行人")
    if facts.get("in_abnormal_list"):
        tags.append("经营异常")
    return tags


class ProfileService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def facts(self, principal: Principal | None, uscc: str, as_of: date) -> dict[str, Any]:
        require_enterprise_access(principal, uscc)
        facts = store.enterprise_with_derived(self.engine, uscc, as_of)
        if facts is None:
            raise NotFound(f"企业库中没有统一社会信用代码为 {uscc} 的企业。", uscc=uscc)
        return facts

    def profile(self, principal: Principal | None, uscc: str, as_of: date) -> Profile:
        facts = self.facts(principal, uscc, as_of)
        region_code, industry_code = facts.get("region_code"), facts.get("industry_code")
        return Profile(
            uscc=uscc,
            name=facts.get("name") or uscc,
            region=(regions.full_name(region_code) or region_code or "未知") if region_code else "未知",
            industry=(industries.name(industry_code) or industry_code) if industry_code else "未知",
            stored=[ProfileRow(f, facts.get(f.name)) for f in STORED_FIELDS],
            derived=[ProfileRow(f, facts.get(f.name)) for f in DERIVED_FIELDS],
            tags=tags_of(facts, as_of),
            facts=facts,
        )
