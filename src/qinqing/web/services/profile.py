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
from qinqing.registry.tags import Tag, tags_for
from qinqing.web.errors import NotFound
from qinqing.web.services import formatting


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
    tags: list[Tag]  # qinqing.registry.tags: only the tags that certainly apply
    facts: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc,
            "name": self.name,
            "region": self.region,
            "industry": self.industry,
            "fields": {r.field.name: _json(r.value) for r in self.stored},
            "derived": {r.field.name: _json(r.value) for r in self.derived},
            "tags": [t.label_zh for t in self.tags],
            "tag_ids": [t.id for t in self.tags],
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
    return formatting.field_value(field.unit, value)  # 万元 as 元/万元/亿元, 比例 as %, separators


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
            tags=tags_for(facts, as_of),
            facts=facts,
        )
