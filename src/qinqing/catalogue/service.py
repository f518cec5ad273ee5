"""What the catalogue does for the CLI, the web and the jobs: save drafts, publish under the remit and
budget rules, approve wider policies, load directories of files, read the catalogue.

Publishing writes the ``catalogue.policy_published`` event in the publication's transaction
(``CatalogueStore.publish``); re-matching is the job ``matching.rematch_published``, so publishing
returns at once. Callers check who may act (``accounts.authz``) and hand over the facts the rules need:
the publisher's name and, for an officer, the remit (department, region).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from qinqing.catalogue.errors import ApprovalReasonMissing, DraftChanged, OverBudgetUnconfirmed, RemitExceeded
from qinqing.catalogue.load import LoadReport, load_directory
from qinqing.catalogue.parse import parse_policy
from qinqing.catalogue.remit import remit_problems
from qinqing.catalogue.store import CatalogueStore, PolicyEntry
from qinqing.rules.amounts import plain
from qinqing.rules.model import Policy


class ReachEstimator(Protocol):
    """What the budget check needs from matching (``matching.service.MatchingService``)."""

    def estimated_total(self, policy: Policy, as_of: date) -> Decimal: ...


@dataclass(frozen=True)
class Remit:
    """An officer's remit: policies issued by ``department`` within ``region_code``."""

    department: str | None
    region_code: str | None


class CatalogueService:
    def __init__(self, store: CatalogueStore, estimator: ReachEstimator | None = None) -> None:
        self.store = store
        self.estimator = estimator

    @classmethod
    def from_engine(cls, engine: Engine, estimator: ReachEstimator | None = None) -> CatalogueService:
        return cls(CatalogueStore(engine), estimator)

    # -- reading --------------------------------------------------------------------------------------

    def get(self, policy_id: str, *, published: bool = False) -> PolicyEntry:
        return self.store.get(policy_id, published=published)

    def department_of(self, policy_id: str) -> str | None:
        return self.store.department_of(policy_id)

    def drafts(self, department: str | None = None) -> list[PolicyEntry]:
        return self.store.drafts(department)

    def published(self) -> list[PolicyEntry]:
        return self.store.published()

    def published_policies(self) -> tuple[list[Policy], dict[str, Any]]:
        return self.store.published_policies()

    def publications(self, policy_id: str) -> list[dict]:
        return self.store.publications(policy_id)

    # -- changing -------------------------------------------------------------------------------------

    def save(self, yaml_text: str, *, department: str, author: str) -> PolicyEntry:
        """Store the text as the policy's new draft (admission first; the owner department is kept)."""
        owner = self.store.department_of(parse_policy(yaml_text).id)
        return self.store.save(yaml_text, department=owner or department, author=author)

    def publish(self, policy_id: str, as_of: date, *, published_by: str, remit: Remit | None = None,
                version: int | None = None, confirm_over_budget: bool = False, reason: str = "") -> PolicyEntry:
        """Publish the current draft (``version``, when given, must still be it).

        With ``remit`` (an officer), a policy wider than it needs a supervisor's approval of that version;
        a draft whose estimated total is over its budget needs ``confirm_over_budget`` and a reason, both
        kept in the publication log. The re-match follows as a job."""
        draft = self.store.get(policy_id)
        if version is not None and draft.version != version:
            raise DraftChanged(policy_id, version, draft.version)
        policy = parse_policy(draft.yaml_text, policy_id)
        approved_by = None
        if remit is not None:
            problems = remit_problems(policy, remit.department, remit.region_code)
            if problems:
                approval = self.store.remit_approval(policy_id, draft.version)
                if approval is None:
                    raise RemitExceeded(policy_id, problems)
                approved_by = approval["approved_by"]
        over_budget = False
        if policy.budget is not None and self.estimator is not None:
            total = self.estimator.estimated_total(policy, as_of)
            over_budget = total > policy.budget
            if over_budget and not (confirm_over_budget and reason.strip()):
                raise OverBudgetUnconfirmed(policy_id, plain(total), plain(policy.budget))
        return self.store.publish(policy_id, expected_version=draft.version, published_by=published_by,
                                  over_budget=over_budget, reason=reason.strip() or None, approved_by=approved_by)

    def approve_remit(self, policy_id: str, *, approved_by: str, reason: str) -> PolicyEntry:
        """A supervisor approves the current draft of a policy wider than its officer's remit."""
        if not reason.strip():
            raise ApprovalReasonMissing()
        draft = self.store.get(policy_id)
        self.store.approve_remit(policy_id, draft.version, approved_by=approved_by, reason=reason.strip())
        return draft

    def load_directory(self, directory: Path | str, *, department: str | None = None,
                       author: str = "catalogue-loader", publish: bool = True,
                       progress: Callable[[int, int], None] | None = None) -> LoadReport:
        """Save (and publish) every policy file under ``directory`` (``catalogue.load.load_directory``)."""
        return load_directory(self.store, directory, department=department, author=author, publish=publish,
                              progress=progress)
