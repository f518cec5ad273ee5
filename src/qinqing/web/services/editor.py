"""The officer's console: own department's policies, save drafts, preview the impact, publish and re-match."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from qinqing.accounts.authz import Principal, Role, require_policy_editor, require_role
from qinqing.catalogue.errors import (
    ApprovalReasonMissing,
    DraftChanged,
    OverBudgetUnconfirmed,
    PolicyNotFound,
    RemitExceeded,
)
from qinqing.catalogue.parse import parse_policy
from qinqing.catalogue.remit import remit_problems
from qinqing.catalogue.store import CatalogueStore, PolicyEntry
from qinqing.rules.amounts import plain
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
    by_industry: list[tuple[str, int]] = field(default_factory=list)  # GB/T 4754 section letter
    by_size_class: list[tuple[str, int]] = field(default_factory=list)
    amount_quantiles: list[tuple[str, Decimal]] = field(default_factory=list)  # 最低 … 最高 of eligible amounts
    amount_bands: list[tuple[Decimal, Decimal, int]] = field(default_factory=list)  # low, high, eligible enterprises
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.amount_total > self.budget

    def as_json(self) -> dict[str, Any]:
        return {
            "policy_id": self.policy_id, "eligible": self.eligible, "unknown": self.unknown,
            "ineligible": self.ineligible, "amount_total": str(self.amount_total),
            "budget": str(self.budget) if self.budget is not None else None, "over_budget": self.over_budget,
            "by_region": [{"region": r, "eligible": n} for r, n in self.by_region],
            "by_industry": [{"section": r, "eligible": n} for r, n in self.by_industry],
            "by_size_class": [{"size_class": r, "eligible": n} for r, n in self.by_size_class],
            "amount_quantiles": [{"quantile": q, "amount": str(a)} for q, a in self.amount_quantiles],
            "amount_bands": [{"low": str(lo), "high": str(hi), "eligible": n} for lo, hi, n in self.amount_bands],
            "sample": self.sample,
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

    def publish(self, principal: Principal | None, policy_id: str, as_of: date, *, version: int | None = None,
                confirm_over_budget: bool = False, reason: str = "") -> PolicyEntry:
        """Publish the current draft (``version``, when given, must still be it) and re-match it.

        An officer publishes within the department's remit (``catalogue.remit``) unless a supervisor
        approved that version; a draft whose preview is over budget needs ``confirm_over_budget``
        and a reason, both kept in the publication log."""
        principal = require_policy_editor(principal, self._department(policy_id))
        draft = self.catalogue.get(policy_id)
        if version is not None and draft.version != version:
            raise DraftChanged(policy_id, version, draft.version)
        policy = parse_policy(draft.yaml_text, policy_id)
        approved_by = None
        if principal.role is Role.OFFICER:
            problems = remit_problems(policy, principal.department, principal.region_code)
            if problems:
                approval = self.catalogue.remit_approval(policy_id, draft.version)
                if approval is None:
                    raise RemitExceeded(policy_id, problems)
                approved_by = approval["approved_by"]
        over_budget = False
        if policy.budget is not None:
            view = self.preview_policy(policy, as_of)
            over_budget = view.over_budget
            if over_budget and not (confirm_over_budget and reason.strip()):
                raise OverBudgetUnconfirmed(policy_id, plain(view.amount_total), plain(view.budget))
        entry = self.catalogue.publish(policy_id, expected_version=draft.version, published_by=principal.username,
                                       over_budget=over_budget, reason=reason.strip() or None,
                                       approved_by=approved_by)
        if self.on_publish is not None:
            self.on_publish(policy)
        return entry

    def approve_remit(self, principal: Principal | None, policy_id: str, reason: str) -> PolicyEntry:
        """A supervisor approves the current draft of a policy wider than its officer's remit."""
        principal = require_role(principal, Role.SUPERVISOR, Role.ADMIN)
        if not reason.strip():
            raise ApprovalReasonMissing()
        draft = self.catalogue.get(policy_id)
        self.catalogue.approve_remit(policy_id, draft.version, approved_by=principal.username, reason=reason.strip())
        return draft

    def _department(self, policy_id: str) -> str:
        department = self.catalogue.department_of(policy_id)
        if department is None:
            raise PolicyNotFound(policy_id)
        return department

    def preview_policy(self, policy: Policy, as_of: date) -> PreviewView:
        """The matching preview of ``policy`` over the whole registry; nothing is stored."""
        from qinqing.matching.preview import preview, quantile_label, region_label, section_label, size_label
        from qinqing.registry.store import to_arrow

        enterprises = to_arrow(self.engine)
        result = preview(policy, enterprises, as_of, sample_size=SAMPLE_SIZE)
        return PreviewView(
            policy_id=policy.id, eligible=result.eligible, unknown=result.unknown,
            # Enterprises outside the policy's scope are certainly ineligible, so they count here too.
            ineligible=enterprises.num_rows - result.eligible - result.unknown,
            amount_total=result.amount_total, budget=result.budget,
            by_region=[(region_label(r["key"]), int(r["eligible"])) for r in result.by_region if r["eligible"]],
            by_industry=[(section_label(r["key"]), int(r["eligible"])) for r in result.by_industry if r["eligible"]],
            by_size_class=[(size_label(r["key"]), int(r["eligible"])) for r in result.by_size_class if r["eligible"]],
            amount_quantiles=[(quantile_label(q["quantile"]), Decimal(q["amount"])) for q in result.amount_distribution],
            amount_bands=[(b["low"], b["high"], b["eligible"]) for b in result.amount_bands],
            sample=[{**s, "amount": str(s["amount"]) if s["amount"] is not None else None} for s in result.sample],
        )
