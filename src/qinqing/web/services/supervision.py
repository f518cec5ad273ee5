"""督政策: what the current matching run means per policy (reach and money against the budget) and per
city (enterprises with at least one eligible policy, and their amount), for supervisors and admins.

Both come from the results store's named queries (``counts_by_policy``, ``counts_by_region``); a city's
enterprises are counted by the region codes the run scoped them by, not by today's registry."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from qinqing.accounts.authz import Principal, Role, require_role
from qinqing.registry.spreadsheet import safe_row
from qinqing.registry.standards import regions
from qinqing.web.services.library import PolicyLibrary

UNKNOWN_REGION = "未知地区"


@dataclass(frozen=True)
class PolicyReach:
    policy_id: str
    title: str
    issuer: str
    eligible: int
    unknown: int
    amount_total: Decimal
    budget: Decimal | None

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.amount_total > self.budget

    @property
    def budget_share(self) -> float | None:
        """Estimated amount as a share of the budget (1.0 = the whole budget)."""
        return float(self.amount_total / self.budget) if self.budget else None

    def as_json(self) -> dict[str, Any]:
        return {"policy_id": self.policy_id, "title": self.title, "issuer": self.issuer, "eligible": self.eligible,
                "unknown": self.unknown, "amount_total": str(self.amount_total),
                "budget": str(self.budget) if self.budget is not None else None, "over_budget": self.over_budget}


@dataclass(frozen=True)
class RegionReach:
    region_code: str | None  # city level (a municipality's province code); None when unknown
    name: str
    enterprises: int  # with at least one eligible policy
    amount_total: Decimal

    def as_json(self) -> dict[str, Any]:
        return {"region_code": self.region_code, "name": self.name, "enterprises": self.enterprises,
                "amount_total": str(self.amount_total)}


@dataclass(frozen=True)
class Overview:
    run_id: str | None
    as_of: str | None
    policies: list[PolicyReach] = field(default_factory=list)
    regions: list[RegionReach] = field(default_factory=list)

    @property
    def amount_total(self) -> Decimal:
        return sum((p.amount_total for p in self.policies), Decimal(0))

    @property
    def enterprises(self) -> int:
        return sum(r.enterprises for r in self.regions)

    def as_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "as_of": self.as_of, "amount_total": str(self.amount_total),
                "enterprises": self.enterprises, "policies": [p.as_json() for p in self.policies],
                "regions": [r.as_json() for r in self.regions]}


POLICY_CSV_HEADER = ("政策编号", "政策名称", "发布机关", "符合企业数", "待补充数据企业数", "预计金额（万元）",
                     "预算（万元）", "是否超出预算")
REGION_CSV_HEADER = ("行政区划代码", "地区", "有可享受政策的企业数", "预计金额（万元）")


def policies_csv(overview: Overview) -> str:
    rows = [(p.policy_id, p.title, p.issuer, p.eligible, p.unknown, p.amount_total,
             "" if p.budget is None else p.budget, "是" if p.over_budget else "否") for p in overview.policies]
    return _csv(POLICY_CSV_HEADER, rows)


def regions_csv(overview: Overview) -> str:
    return _csv(REGION_CSV_HEADER, [(r.region_code or "", r.name, r.enterprises, r.amount_total)
                                    for r in overview.regions])


def _csv(header: tuple[str, ...], rows: list[tuple]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # a BOM, so that Excel opens the Chinese text as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_row(header))
    writer.writerows(safe_row(row) for row in rows)  # titles and issuers are text typed by people
    return out.getvalue()


def city_of(region_code: str | None) -> str | None:
    """The city-level region holding ``region_code`` (a county's parent; a municipality's county → the
    municipality); None when the code is not in GB/T 2260."""
    if not region_code:
        return None
    level = regions.level(region_code)
    if level is None:
        return None
    return regions.parent(region_code) if level == "county" else region_code


class SupervisionService:
    def __init__(self, engine: Engine, library: PolicyLibrary, results: Any | None) -> None:
        self.engine = engine
        self.library = library
        self.results = results
        self._cached: tuple[tuple, Overview] | None = None
        self._lock = threading.Lock()

    def overview(self, principal: Principal | None) -> Overview:
        require_role(principal, Role.SUPERVISOR, Role.ADMIN)
        if self.results is None:
            return Overview(None, None)
        version = self.results.fingerprint()
        with self._lock:
            if version is not None and self._cached is not None and self._cached[0] == version:
                return self._cached[1]
        overview = self._compute(self.results)
        if version is not None:
            with self._lock:
                self._cached = (version, overview)
        return overview

    def _compute(self, results: Any) -> Overview:
        run = results.current_run()
        if run is None:
            return Overview(None, None)
        items = {i.policy.id: i.policy for i in self.library.items()}
        policies = []
        for policy_id, count in results.counts_by_policy(run.run_id).items():
            policy = items.get(policy_id)
            policies.append(PolicyReach(
                policy_id, policy.title if policy else policy_id, policy.issuer if policy else "",
                int(count.eligible), int(count.unknown), Decimal(count.amount_total or 0),
                policy.budget if policy else None,
            ))
        policies.sort(key=lambda p: (-p.amount_total, -p.eligible, p.policy_id))
        return Overview(run.run_id, run.as_of.isoformat(), policies, self._regions(results, run.run_id))

    @staticmethod
    def _regions(results: Any, run_id: str) -> list[RegionReach]:
        """Per city: the run's per-region counts (the codes the run scoped its enterprises by) summed."""
        totals: dict[str | None, list] = {}
        for region in results.counts_by_region(run_id):
            if not region.enterprises:
                continue
            entry = totals.setdefault(city_of(region.region_code), [0, Decimal(0)])
            entry[0] += int(region.enterprises)
            entry[1] += Decimal(region.amount_total or 0)
        rows = [RegionReach(code, (regions.full_name(code) or code) if code else UNKNOWN_REGION, n, amount)
                for code, (n, amount) in totals.items()]
        rows.sort(key=lambda r: (-r.enterprises, -r.amount_total, r.region_code or "~"))
        return rows
