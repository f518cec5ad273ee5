"""The catalogue's domain events (written to the outbox by ``CatalogueStore`` in the change's transaction)."""

from __future__ import annotations

from qinqing.events import Event


class PolicyPublished(Event, type="catalogue.policy_published"):
    """A version of a policy went live (re-matching it is a job)."""

    policy_id: str
    version: int
    published_by: str

    @property
    def subject(self) -> str:
        return f"policy:{self.policy_id}"


class PolicyWithdrawn(Event, type="catalogue.policy_withdrawn"):
    """A published policy was taken out of the catalogue; its matches are to be removed."""

    policy_id: str
    version: int
    withdrawn_by: str
    reason: str | None = None

    @property
    def subject(self) -> str:
        return f"policy:{self.policy_id}"
