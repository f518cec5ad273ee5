"""Who may see and do what, and the appeal as each reader sees it (identity masked unless consented)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qinqing.accounts.authz import Principal, Role
from qinqing.appeals.config import CHANNELS, CLOCKS, KINDS, AppealsConfig
from qinqing.appeals.states import STATE_LABELS, State, is_open
from qinqing.appeals.workdays import CHINA

MASKED = "（未公开）"
ROLE_NAMES = {"enterprise": "企业", "department": "承办部门", "dispatcher": "派单席", "supervisor": "督办", "system": "系统"}


def aware(moment: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back naive."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def local_text(moment: datetime | None) -> str:
    return aware(moment).astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if moment is not None else "—"


def is_supervisor(principal: Principal) -> bool:
    return principal.role in (Role.SUPERVISOR, Role.ADMIN)


def is_dispatcher(principal: Principal, config: AppealsConfig) -> bool:
    """The 派单 desk: officers of the dispatch office, and supervisors and admins."""
    return is_supervisor(principal) or (principal.role is Role.OFFICER
                                        and principal.department == config.dispatch_office)


def actor_name(principal: Principal | None) -> str:
    return principal.username if principal is not None else "system:appeals"


def actor_role(principal: Principal | None, config: AppealsConfig) -> str:
    if principal is None:
        return "system"
    if principal.role is Role.ENTERPRISE:
        return "enterprise"
    if is_supervisor(principal):
        return "supervisor"
    return "dispatcher" if is_dispatcher(principal, config) else "department"


@dataclass(frozen=True)
class DeadlineView:
    id: int
    clock: str
    department: str | None
    due_at: datetime
    started_at: datetime
    limit_text: str
    source: str
    source_title: str
    calendar_version: str
    calendar_covered: bool
    status: str
    escalation_level: int
    extended_days: int

    @property
    def clock_label(self) -> str:
        return CLOCKS.get(self.clock, self.clock)

    def colour(self, now: datetime) -> str:
        """Queue colours: green in time, yellow within the last quarter, red overdue (open clocks)."""
        if self.status != "open":
            return "grey"
        if now >= self.due_at:
            return "red"
        span = (self.due_at - self.started_at).total_seconds() or 1
        return "yellow" if (self.due_at - now).total_seconds() / span <= 0.25 else "green"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "clock": self.clock, "department": self.department,
                "due_at": self.due_at.isoformat(), "limit": self.limit_text, "source": self.source,
                "source_title": self.source_title, "calendar_version": self.calendar_version,
                "calendar_covered": self.calendar_covered, "status": self.status,
                "escalation_level": self.escalation_level, "extended_days": self.extended_days}


@dataclass(frozen=True)
class UpdateView:
    id: int
    at: datetime
    actor: str
    actor_role: str
    department: str | None
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    visible: bool

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor_role": self.actor_role,
                "department": self.department, "action": self.action, "from_state": self.from_state,
                "to_state": self.to_state, "note": self.note}


@dataclass(frozen=True)
class RatingView:
    id: int
    round: int
    level: int
    level_label: str
    resolved: bool | None
    comment: str | None
    via: str
    rated_at: datetime
    review_status: str
    review_reason: str | None
    review_note: str | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "round": self.round, "level": self.level, "level_label": self.level_label,
                "resolved": self.resolved, "comment": self.comment, "via": self.via,
                "rated_at": self.rated_at.isoformat(), "review_status": self.review_status}


@dataclass(frozen=True)
class AppealView:
    """One appeal as ``reader`` may see it: personal and identity fields masked where not allowed."""

    id: int
    number: str
    token: str
    channel: str
    kind: str
    category: str | None
    category_name: str | None
    suggested_category: str | None
    suggestion_confidence: float | None
    dispatch_class: str
    region_code: str
    title: str
    description: str
    uscc: str
    enterprise_name: str
    contact_name: str
    contact_phone: str
    contact_email: str
    identity_masked: bool
    disclose_identity: bool
    confidential: bool
    public: bool
    policy_ref: str | None
    application_ref: str | None
    state: State
    lead_department: str | None
    owner_department: str
    assisting: tuple[str, ...]
    rehandle_count: int
    merged_into: int | None
    transfer_target: str | None
    legal_route: str | None
    reply_text: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    deadlines: tuple[DeadlineView, ...] = ()
    updates: tuple[UpdateView, ...] = ()
    ratings: tuple[RatingView, ...] = ()
    extensions: tuple[dict, ...] = ()
    duplicates: tuple[dict, ...] = ()
    attachments: tuple[dict, ...] = ()
    transfer_hint: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def open(self) -> bool:
        return is_open(self.state)

    def current_deadline(self) -> DeadlineView | None:
        opened = [d for d in self.deadlines if d.status == "open"]
        return min(opened, key=lambda d: d.due_at) if opened else None

    def latest_rating(self) -> RatingView | None:
        return self.ratings[-1] if self.ratings else None

    def as_json(self) -> dict[str, Any]:
        deadline = self.current_deadline()
        return {
            "id": self.id, "number": self.number, "channel": self.channel, "kind": self.kind,
            "category": self.category, "category_name": self.category_name,
            "suggested_category": self.suggested_category, "suggestion_confidence": self.suggestion_confidence,
            "region_code": self.region_code, "title": self.title, "description": self.description,
            "uscc": self.uscc, "enterprise_name": self.enterprise_name, "contact_name": self.contact_name,
            "contact_phone": self.contact_phone, "identity_masked": self.identity_masked,
            "confidential": self.confidential, "public": self.public, "policy_ref": self.policy_ref,
            "application_ref": self.application_ref, "state": self.state.value, "state_label": self.state_label,
            "lead_department": self.lead_department, "owner_department": self.owner_department,
            "assisting": list(self.assisting), "rehandle_count": self.rehandle_count,
            "merged_into": self.merged_into, "transfer_target": self.transfer_target,
            "legal_route": self.legal_route, "reply": self.reply_text,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "deadline": deadline.as_json() if deadline else None,
            "deadlines": [d.as_json() for d in self.deadlines],
            "updates": [u.as_json() for u in self.updates],
            "ratings": [r.as_json() for r in self.ratings],
            "duplicates": list(self.duplicates),
        }


def may_see_identity(reader: Principal, row: Any, config: AppealsConfig) -> bool:
    """The enterprise itself, the desk and supervisors see who filed; a department only with consent and
    never for a confidential (保密) appeal."""
    if reader.role is Role.ENTERPRISE:
        return reader.uscc == row["uscc"]
    if is_dispatcher(reader, config):
        return True
    return bool(row["disclose_identity"]) and not row["confidential"]
