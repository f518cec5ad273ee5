"""The officer's console as pages see it: who may act (``accounts.authz``), and the preview's page data.

The work is the pieces' services: ``catalogue.service.CatalogueService`` saves and publishes (remit and
budget rules), ``matching.service.MatchingService`` previews; re-matching after publishing is a job
(``matching.rematch_published``), whose progress ``rematch_jobs`` reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from qinqing import jobs
from qinqing.accounts.authz import Principal, Role, require_policy_editor, require_role
from qinqing.catalogue import PolicyEntry
from qinqing.catalogue.errors import PolicyNotFound
from qinqing.catalogue.parse import parse_policy
from qinqing.catalogue.service import CatalogueService, Remit
from qinqing.events import recent
from qinqing.matching.service import MatchingService
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
    def __init__(self, catalogue: CatalogueService, matching: MatchingService,
                 on_publish: Callable[[PolicyEntry], Any] | None = None) -> None:
        self.catalogue = catalogue
        self.matching = matching
        self.engine = matching.engine
        self.on_publish = on_publish  # the in-process worker's wake-up, when there is one

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
        """Publish the current draft (``CatalogueService.publish``: remit, budget, the publication log).
        Returns at once: the re-match is a job (``rematch_jobs`` shows its progress)."""
        principal = require_policy_editor(principal, self._department(policy_id))
        remit = Remit(principal.department, principal.region_code) if principal.role is Role.OFFICER else None
        entry = self.catalogue.publish(policy_id, as_of, published_by=principal.username, remit=remit,
                                       version=version, confirm_over_budget=confirm_over_budget, reason=reason)
        if self.on_publish is not None:
            self.on_publish(entry)
        return entry

    def approve_remit(self, principal: Principal | None, policy_id: str, reason: str) -> PolicyEntry:
        """A supervisor approves the current draft of a policy wider than its officer's remit."""
        principal = require_role(principal, Role.SUPERVISOR, Role.ADMIN)
        return self.catalogue.approve_remit(policy_id, approved_by=principal.username, reason=reason)

    def rematch_jobs(self, principal: Principal | None, policy_id: str, limit: int = 5) -> RematchView:
        """The latest re-match jobs of a policy (newest first) and whether a publication still waits for one."""
        require_policy_editor(principal, self._department(policy_id))
        subject = f"policy:{policy_id}"
        with self.engine.connect() as connection:
            found = [j for j in jobs.jobs_for(connection, subject, limit=limit * 3)
                     if j.name == "matching.rematch_published"][:limit]
            waiting = any(e.dispatched_at is None for e in recent(connection, subject=subject, limit=5))
            no_worker = (waiting or any(not j.finished for j in found)) and jobs.workers_running(connection) == 0
        return RematchView(policy_id, found, waiting, no_worker)

    def job(self, principal: Principal | None, job_id: int) -> jobs.JobView:
        """One job with its progress: an officer sees those about the department's policies, a supervisor
        or an admin every job."""
        from qinqing.jobs.errors import JobNotFound

        principal = require_role(principal, Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)
        with self.engine.connect() as connection:
            found = jobs.get_job(connection, job_id)
        if found is None:
            raise JobNotFound(job_id)
        if principal.role is Role.OFFICER:
            subject = found.subject or ""
            if not subject.startswith("policy:"):
                raise JobNotFound(job_id)  # not the officer's to see: as if it did not exist
            require_policy_editor(principal, self._department(subject.removeprefix("policy:")))
        return found

    def _department(self, policy_id: str) -> str:
        department = self.catalogue.department_of(policy_id)
        if department is None:
            raise PolicyNotFound(policy_id)
        return department

    def preview_policy(self, policy: Policy, as_of: date) -> PreviewView:
        """The matching preview of ``policy`` over the whole registry as page data; nothing is stored."""
        from qinqing.matching.preview import quantile_label, region_label, section_label, size_label

        result, registry_size = self.matching.preview(policy, as_of=as_of, sample_size=SAMPLE_SIZE)
        return PreviewView(
            policy_id=policy.id, eligible=result.eligible, unknown=result.unknown,
            # Enterprises outside the policy's scope are certainly ineligible, so they count here too.
            ineligible=registry_size - result.eligible - result.unknown,
            amount_total=result.amount_total, budget=result.budget,
            by_region=[(region_label(r["key"]), int(r["eligible"])) for r in result.by_region if r["eligible"]],
            by_industry=[(section_label(r["key"]), int(r["eligible"])) for r in result.by_industry if r["eligible"]],
            by_size_class=[(size_label(r["key"]), int(r["eligible"])) for r in result.by_size_class if r["eligible"]],
            amount_quantiles=[(quantile_label(q["quantile"]), Decimal(q["amount"])) for q in result.amount_distribution],
            amount_bands=[(b["low"], b["high"], b["eligible"]) for b in result.amount_bands],
            sample=[{**s, "amount": str(s["amount"]) if s["amount"] is not None else None} for s in result.sample],
        )


@dataclass(frozen=True)
class RematchView:
    """A policy's re-match jobs for the editor: the latest first; ``waiting`` while a publication has no job yet."""

    policy_id: str
    jobs: list[jobs.JobView]
    waiting: bool
    no_worker: bool = False  # nothing runs the jobs now (no in-process runner, no `qinqing worker`)

    @property
    def latest(self) -> jobs.JobView | None:
        return self.jobs[0] if self.jobs else None

    @property
    def busy(self) -> bool:
        return self.waiting or any(not j.finished for j in self.jobs)

    @property
    def label(self) -> str:
        """One line for the page: 排队中 / 进行中 (n%) / 已完成 / 失败, with the job's own words."""
        latest = self.latest
        if latest is None or (self.waiting and latest.finished):
            return "重新匹配：排队中" if self.waiting else ""
        if latest.status == "queued":
            return f"重新匹配失败，稍后重试：{latest.error}" if latest.error else "重新匹配：排队中"
        if latest.status == "running":
            percent = f"（{latest.percent}%）" if latest.percent is not None else ""
            return f"重新匹配进行中{percent}" + (f"：{latest.message}" if latest.message else "")
        if latest.status == "done":
            return "重新匹配已完成" + (f"：{latest.message}" if latest.message else "")
        if latest.status == "failed":
            return f"重新匹配失败：{latest.error or ''}".rstrip("：")
        return f"重新匹配：{latest.status_label}"

    def as_json(self) -> dict[str, Any]:
        return {"policy_id": self.policy_id, "busy": self.busy, "waiting": self.waiting, "label": self.label,
                "no_worker": self.no_worker, "hint": self.hint, "jobs": [j.as_json() for j in self.jobs]}

    @property
    def hint(self) -> str:
        """What to do when the job waits with no worker to run it."""
        return "目前没有运行中的作业进程，重新匹配将在作业进程启动后进行（qinqing worker）。" if self.no_worker else ""
