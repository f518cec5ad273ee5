"""The officer's policy form: one field per key element, to and from the policy YAML text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import yaml

from qinqing.rules.amounts import plain
from qinqing.rules.model import Policy


@dataclass
class ConditionForm:
    id: str = ""
    clause: str = ""
    expr: str = ""


@dataclass
class PolicyForm:
    id: str = ""
    title: str = ""
    issuer: str = ""
    document: str = ""
    level: str = "市"
    region: str = ""
    industries: str = ""  # space- or comma-separated GB/T 4754 prefixes
    support_type: str = "奖励"
    mode: str = "申报"
    valid_from: str = ""
    valid_to: str = ""
    budget: str = ""
    source_url: str = ""
    source_publisher: str = ""
    source_retrieved: str = ""
    conditions: list[ConditionForm] = field(default_factory=lambda: [ConditionForm()])
    benefit_clause: str = ""
    benefit_expr: str = ""
    benefit_cap: str = ""
    materials: str = ""  # one per line

    @staticmethod
    def from_policy(policy: Policy) -> PolicyForm:
        return PolicyForm(
            id=policy.id, title=policy.title, issuer=policy.issuer, document=policy.document, level=policy.level,
            region=policy.region, industries=" ".join(policy.industries), support_type=policy.support_type,
            mode=policy.mode, valid_from=policy.valid_from.isoformat(),
            valid_to=policy.valid_to.isoformat() if policy.valid_to else "",
            budget=_plain(policy.budget), source_url=policy.source.url, source_publisher=policy.source.publisher,
            source_retrieved=policy.source.retrieved.isoformat(),
            conditions=[ConditionForm(c.id, c.clause, c.expr) for c in policy.conditions] or [ConditionForm()],
            benefit_clause=policy.benefit.clause if policy.benefit else "",
            benefit_expr=policy.benefit.expr if policy.benefit else "",
            benefit_cap=_plain(policy.benefit.cap) if policy.benefit else "",
            materials="\n".join(policy.materials),
        )

    @staticmethod
    def from_form(data: dict[str, str | list[str]]) -> PolicyForm:
        def one(name: str) -> str:
            value = data.get(name, "")
            return (value[-1] if isinstance(value, list) and value else value or "").strip()

        def many(name: str) -> list[str]:
            value = data.get(name, [])
            return [v.strip() for v in (value if isinstance(value, list) else [value])]

        ids, clauses, exprs = many("condition_id"), many("condition_clause"), many("condition_expr")
        conditions = [
            ConditionForm(i, c, e) for i, c, e in zip(ids, clauses, exprs, strict=False) if i or c or e
        ]
        simple = {k: one(k) for k in PolicyForm.__dataclass_fields__ if k not in ("conditions",)}
        return PolicyForm(**simple, conditions=conditions or [ConditionForm()])

    def to_yaml(self) -> str:
        """The policy file text; dates and numbers are written so that the YAML types come out right."""
        data: dict = {
            "id": self.id, "title": self.title, "issuer": self.issuer, "document": self.document,
            "level": self.level, "region": self.region,
        }
        industries = [p for p in self.industries.replace(",", " ").replace("，", " ").split() if p]
        if industries:
            data["industries"] = industries
        data.update({"support_type": self.support_type, "mode": self.mode,
                     "valid_from": _date(self.valid_from), "valid_to": _date(self.valid_to) if self.valid_to else None,
                     "budget": _number(self.budget)})
        data["source"] = {"url": self.source_url, "publisher": self.source_publisher,
                          "retrieved": _date(self.source_retrieved)}
        data["conditions"] = [{"id": c.id, "clause": c.clause, "expr": c.expr} for c in self.conditions]
        if self.benefit_expr or self.benefit_clause:
            data["benefit"] = {"clause": self.benefit_clause, "expr": self.benefit_expr,
                               "cap": _number(self.benefit_cap)}
        materials = [m.strip() for m in self.materials.splitlines() if m.strip()]
        if materials:
            data["materials"] = materials
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def _plain(value) -> str:
    return "" if value is None else plain(value)


def _date(text: str) -> date | str:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text  # left as text: the policy check reports it with its place


def _number(text: str) -> int | float | str | None:
    if not text:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
