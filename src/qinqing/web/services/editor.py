"""The officer's console: own department's policies, save drafts, preview the impact, publish and re-match."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from qinqing.accounts.authz import Principal, Role, require_policy_editor, require_role
from qinqing.catalogue.errors import PolicyNotFound
from qinqing.catalogue.parse import parse_policy
from qinqing.catalogue.store import CatalogueStore, PolicyEntry
from qinqing.registry.standards import regions
from qinqing.rules.model import Policy

SAMPLE_SIZE = 10


@dataclass
class PreviewView:
    """What a draft would reach: counts, money against the budget, breakdown by region, a sample."""

    policy_id: str
    eligible: int
    unknown: int
    ineligible: int
    amount_total: Decimal
    budget: Decimal | None
    by_region: list[tuple[str, int]] = field(default_factory=list)
    amount_histogram: list[tuple[str, int]] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.amount_total > self.budget

    def as_json(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id, "eligible": self.eligible, "unknown": self.unknown,
            "ineligible": self.ineligible, "amount_total": str(self.amount_total),
            "budget": str(self.budget) if self.budget is not None else None, "over_budget": self.over_budget,
            "by_region": [{"region": r, "eligible": n} for r, n in self.by_region],
            "amount_histogram": [{"bucket": b, "count": n} for b, n in self.amount_histogram],
            "sample": self.sample, "source": self.source,
        }


class EditorService:
    def __init__(self, engine: Engine, catalogue: CatalogueStore,
                 on_publish: Callable[[Policy], Any] | None = None) -> None:
        self.engine = engine
        self.catalogue = catalogue
        self.on_publish = on_publish

    def own_policies(self, principal: Principal | None) -> list[PolicyEntry]:
        principal = require_role(principal, Role.OFFICER, Role.ADMIN)
        return self.catalogue.drafts(principal.department if principal.role is Role.OFFICER else None)

    def draft(self, principal: Principal | None, policy_id: str) -> PolicyEntry:
        require_policy_editor(principal, self._department(policy_id))
        return self.catalogue.get(policy_id)

    def save(self, principal: Principal | None, yaml_text: str) -> PolicyEntry:
        principal = require_policy_editor(principal, None)
        policy = parse_policy(yaml_text)
        owner = self.catalogue.department_of(policy.id)
        require_policy_editor(principal, owner)
        department = owner or principal.department or policy.issuer
        return self.catalogue.save(yaml_text, department=department, author=principal.username)

    def preview(self, principal: Principal | None, policy_id: str, as_of: date) -> PreviewView:
        entry = self.draft(principal, policy_id)
        return self.preview_policy(parse_policy(entry.yaml_text, policy_id), as_of)

    def publish(self, principal: Principal | None, policy_id: str) -> PolicyEntry:
        require_policy_editor(principal, self._department(policy_id))
        entry = self.catalogue.publish(policy_id)
        if self.on_publish is not None:
            self.on_publish(parse_policy(entry.yaml_text, policy_id))
        return entry

    def _department(self, policy_id: str) -> str:
        department = self.catalogue.department_of(policy_id)
        if department is None:
            raise PolicyNotFound(policy_id)
        return department

    def preview_policy(self, policy: Policy, as_of: date) -> PreviewView:
        try:
            from qinqing.matching.preview import preview
        except ImportError:
            return self._evaluate_each(policy, as_of)
        from qinqing.registry.store import to_arrow

        result = preview(policy, to_arrow(self.engine), as_of)
        return _from_matching_preview(policy, result)

    def _evaluate_each(self, policy: Policy, as_of: date) -> PreviewView:
        """The preview by evaluating the draft on every enterprise in its scope with the rules engine."""
        from qinqing.registry.store import iter_enterprise_batches
        from qinqing.rules import evaluate

        counts: Counter[str] = Counter()
        by_region: Counter[str] = Counter()
        amounts: list[Decimal] = []
        sample: list[dict[str, Any]] = []
        for batch in iter_enterprise_batches(self.engine, 5_000):
            for row in batch:
                outcome = evaluate(policy, {k: v for k, v in row.items() if v is not None}, as_of)
                status = str(getattr(outcome.status, "value", outcome.status))
                counts[status] += 1
                if status == "eligible":
                    amounts.append(outcome.amount or Decimal(0))
                    by_region[_city(row.get("region_code"))] += 1
                if status != "ineligible" and len(sample) < SAMPLE_SIZE:
                    sample.append({"uscc": row["uscc"], "name": row.get("name"), "status": status,
                                   "amount": str(outcome.amount) if outcome.amount is not None else None,
                                   "missing": list(outcome.missing or ())})
        return PreviewView(
            policy_id=policy.id, eligible=counts["eligible"], unknown=counts["unknown"],
            ineligible=counts["ineligible"], amount_total=sum(amounts, Decimal(0)), budget=policy.budget,
            by_region=by_region.most_common(), amount_histogram=_histogram(amounts), sample=sample,
            source="rules.evaluate over the registry",
        )


def _city(code: str | None) -> str:
    if not code:
        return "未知地区"
    city = regions.parent(code) if regions.level(code) == "county" else code
    return regions.full_name(city or code) or code


def _histogram(amounts: list[Decimal]) -> list[tuple[str, int]]:
    if not amounts:
        return []
    counts = Counter(f"{a.normalize():f} 万元" for a in amounts)
    return sorted(counts.items(), key=lambda kv: Decimal(kv[0].split()[0]))


def _from_matching_preview(policy: Policy, result: Any) -> PreviewView:
    def get(name: str, default: Any = None) -> Any:
        return result.get(name, default) if isinstance(result, dict) else getattr(result, name, default)

    by_region = get("by_region") or []
    if isinstance(by_region, dict):
        by_region = list(by_region.items())
    rows = []
    for item in by_region:
        code, n = (item[0], item[1]) if isinstance(item, (tuple, list)) else (
            getattr(item, "region", None) or getattr(item, "key", ""), getattr(item, "eligible", 0))
        rows.append((regions.full_name(str(code)) or str(code), int(n)))
    sample = [s if isinstance(s, dict) else getattr(s, "__dict__", {"uscc": str(s)}) for s in (get("sample") or [])]
    return PreviewView(
        policy_id=policy.id, eligible=int(get("eligible", 0)), unknown=int(get("unknown", 0)),
        ineligible=int(get("ineligible", 0)), amount_total=Decimal(str(get("amount_total", 0) or 0)),
        budget=policy.budget, by_region=rows, amount_histogram=[], sample=[{k: str(v) for k, v in s.items()} for s in sample][:SAMPLE_SIZE],
        source="matching.preview",
    )
