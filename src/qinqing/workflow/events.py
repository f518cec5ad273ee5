"""The workflow piece's domain events (written to the outbox with the change, qinqing.events)."""

from __future__ import annotations

from dataclasses import dataclass

from qinqing.events import Event


@dataclass(frozen=True, kw_only=True)
class _Application:
    application_id: int
    policy_id: str
    uscc: str
    actor: str

    @property
    def subject(self) -> str:
        return f"application:{self.application_id}"


class ApplicationSubmitted(_Application, Event, type="workflow.application_submitted"):
    amount_fen: int | None


class ApplicationAccepted(_Application, Event, type="workflow.application_accepted"):
    deadline: str | None


class ApplicationApproved(_Application, Event, type="workflow.application_approved"):
    amount_fen: int


class ApplicationRejected(_Application, Event, type="workflow.application_rejected"):
    reason: str | None


class ApplicationReturned(_Application, Event, type="workflow.application_returned"):
    reason: str | None
    deadline: str | None


class PaymentPaid(_Application, Event, type="workflow.payment_paid"):
    payment_id: int
    amount_fen: int


class PaymentFailed(_Application, Event, type="workflow.payment_failed"):
    payment_id: int
    failure: str | None


class ClawedBack(_Application, Event, type="workflow.clawed_back"):
    amount_fen: int
    reason: str | None


class ReservationVoided(_Application, Event, type="workflow.reservation_voided"):
    amount_fen: int
    reason: str | None


class GrantBatchCreated(Event, type="workflow.grant_batch_created"):
    batch_id: int
    policy_id: str
    created: int
    actor: str

    @property
    def subject(self) -> str:
        return f"grant_batch:{self.batch_id}"


class PaymentBatchCreated(Event, type="workflow.payment_batch_created"):
    batch_id: int
    lines: int
    total_fen: int
    actor: str

    @property
    def subject(self) -> str:
        return f"payment_batch:{self.batch_id}"


class DeadlineNear(_Application, Event, type="workflow.deadline_near"):
    """A reminder: the running time limit ends in a few working days."""

    kind: str
    deadline: str


class DeadlineMissed(_Application, Event, type="workflow.deadline_missed"):
    """Escalation: a review or payment time limit passed with the application still waiting."""

    kind: str
    deadline: str
