"""我的政策: what one enterprise qualifies for, may qualify for (missing data), and why, condition by condition.

The list comes from the matching results store when one is configured and has a run; each policy's
explanation is the rules engine's trace for this one enterprise. Without a store, every published
policy is evaluated for the enterprise directly (the same semantics, a few ms per policy).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from qinqing.accounts.authz import Principal
from qinqing.registry.schema import FIELDS_BY_NAME, STORED_NAMES
from qinqing.rules.evaluate import ConditionTrace
from qinqing.rules.model import Policy
from qinqing.web.services.library import LibraryItem, PolicyLibrary
from qinqing.web.services.labels import condition_label
from qinqing.web.services.profile import ProfileService, show_value
from qinqing.web.services.results_cache import CachedMatches

EXPLAIN_CACHE_SIZE = 20_000  # explained (enterprise, policy) pairs kept in memory
RESULT_LABELS = {True: "符合", False: "不符合", None: "未知"}


@dataclass(frozen=True)
class ConditionRow:
    id: str  # the policy file's condition id: a data attribute and tooltip, never the shown text
    number: str  # 条件一, 条件二, … what the page shows
    clause: str
    expr: str
    result: bool | None
    values: dict[str, str]

    @property
    def label(self) -> str:
        return RESULT_LABELS[self.result]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "clause": self.clause, "expr": self.expr, "result": self.label,
                "values": self.values}


@dataclass(frozen=True)
class MissingField:
    name: str
    label: str
    department: str

    @property
    def how_to_supply(self) -> str:
        return f"请{self.department}共享“{self.label}”数据，或在申报时提供相应证明材料。"

    def as_json(self) -> dict[str, Any]:
        return {"field": self.name, "label": self.label, "department": self.department, "how_to_supply": self.how_to_supply}


@dataclass(frozen=True)
class MatchView:
    item: LibraryItem
    status: str  # eligible | unknown | ineligible
    amount: Decimal | None
    failed: tuple[str, ...]
    missing: list[MissingField]
    conditions: list[ConditionRow] = field(default_factory=list)

    @property
    def policy(self) -> Policy:
        return self.item.policy

    def as_json(self) -> dict[str, Any]:
        p = self.policy
        return {
            "policy_id": p.id, "title": p.title, "issuer": p.issuer, "mode": p.mode, "support_type": p.support_type,
            "status": self.status, "amount": str(self.amount) if self.amount is not None else None,
            "failed": list(self.failed), "missing": [m.as_json() for m in self.missing],
            "materials": list(p.materials), "conditions": [c.as_json() for c in self.conditions],
        }


@dataclass(frozen=True)
class MyPolicies:
    uscc: str
    name: str
    as_of: date
    eligible: list[MatchView]
    unknown: list[MatchView]
    source: str  # "results store run <id>" or "direct evaluation"

    @property
    def total_amount(self) -> Decimal:
        return sum((m.amount or Decimal(0) for m in self.eligible), Decimal(0))

    def as_json(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc, "name": self.name, "as_of": self.as_of.isoformat(), "source": self.source,
            "total_amount": str(self.total_amount),
            "eligible": [m.as_json() for m in self.eligible], "unknown": [m.as_json() for m in self.unknown],
        }


def missing_field(name: str) -> MissingField:
    f = FIELDS_BY_NAME.get(name)
    if f is None:
        return MissingField(name, name, "主管部门")
    return MissingField(name, f.label_zh, f.department)


def condition_rows(trace: list[ConditionTrace]) -> list[ConditionRow]:
    rows = []
    for index, t in enumerate(trace):
        shown = {}
        for name, value in t.values.items():
            f = FIELDS_BY_NAME.get(name)
            shown[f.label_zh if f else name] = show_value(f, value) if f else ("未知（缺数据）" if value is None else str(value))
        rows.append(ConditionRow(t.id, condition_label(index), t.clause, t.expr, t.result, shown))
    return rows


class MatchService:
    def __init__(self, library: PolicyLibrary, profiles: ProfileService, results: Any | None = None) -> None:
        self.library = library
        self.profiles = profiles
        self.results = results  # a qinqing.matching.results.ResultStore, or None
        self._matches = CachedMatches(results) if results is not None else None
        self._cache: OrderedDict[tuple, MatchView] = OrderedDict()
        self._lock = threading.Lock()

    def for_enterprise(self, principal: Principal | None, uscc: str, as_of: date) -> MyPolicies:
        facts = self.profiles.facts(principal, uscc, as_of)  # authorisation happens here
        items = {i.entry.policy_id: i for i in self.library.items()}  # no parse: only candidates are read
        candidates, source = self._candidates(uscc, items, as_of)
        eligible, unknown = [], []
        for item in candidates:
            view = self.explain(item, facts, as_of)
            if view.status == "eligible":
                eligible.append(view)
            elif view.status == "unknown":
                unknown.append(view)
        eligible.sort(key=lambda m: (-(m.amount or 0), m.policy.id))
        unknown.sort(key=lambda m: (len(m.missing), m.policy.id))
        return MyPolicies(uscc, facts.get("name") or uscc, as_of, eligible, unknown, source)

    def _candidates(self, uscc: str, items: dict[str, LibraryItem], as_of: date) -> tuple[list[LibraryItem], str]:
        if self._matches is not None:
            matches = self._matches.matches_for(uscc)  # None: no run yet
            if matches is not None:
                run = matches[0].run_id if matches else "current"
                return [items[m.policy_id] for m in matches if m.policy_id in items], f"results store run {run}"
        # As the matching runs do: a policy outside its validity window is not offered.
        return [i for i in items.values() if i.entry.valid_on(as_of)], "direct evaluation"

    def explain(self, item: LibraryItem, facts: dict[str, Any], as_of: date) -> MatchView:
        # The rules engine derives size_class, age_years, … itself from the stored fields.
        stored = {k: v for k, v in facts.items() if k in STORED_NAMES and v is not None}
        # Same policy version, same facts, same day → same outcome, so it is computed once.
        key = (item.entry.policy_id, item.entry.version, as_of, tuple(sorted(stored.items())))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        view = self._explain(item, stored, as_of)
        with self._lock:
            self._cache[key] = view
            if len(self._cache) > EXPLAIN_CACHE_SIZE:
                self._cache.popitem(last=False)
        return view

    def _explain(self, item: LibraryItem, stored: dict[str, Any], as_of: date) -> MatchView:
        from qinqing.rules import evaluate

        outcome = evaluate(item.policy, stored, as_of)
        return MatchView(
            item=item,
            status=outcome.status,
            amount=outcome.amount,
            failed=tuple(outcome.failed),
            missing=[missing_field(n) for n in outcome.missing],
            conditions=condition_rows(outcome.trace),
        )
