"""The audit trail of one object as the pages and the API show it, for the people who may read it.

Supervisors and admins read any object's trail; an officer reads the trail of a policy of their own
department (the policies they may edit). Everyone else gets Forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import Request
from sqlalchemy.engine import Engine

from qinqing import audit
from qinqing.accounts.authz import Principal, Role, require_login, require_policy_editor
from qinqing.accounts.errors import Forbidden, NotAuthenticated
from qinqing.catalogue.errors import PolicyNotFound

BEIJING = timezone(timedelta(hours=8), "北京时间")  # China keeps no daylight saving time
PAGE_LIMIT = 50


@dataclass(frozen=True)
class TrailRow:
    seq: int
    time: str  # 北京时间, to the second
    actor: str
    action: str
    action_label: str
    reason: str
    before_hash: str | None
    after_hash: str | None
    row_hash: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": self.time, "actor": self.actor, "action": self.action,
                "action_label": self.action_label, "reason": self.reason, "before_hash": self.before_hash,
                "after_hash": self.after_hash, "row_hash": self.row_hash}


@dataclass(frozen=True)
class TrailView:
    object_type: str
    object_id: str
    object_label: str
    rows: list[TrailRow]  # oldest first
    limit: int | None

    @property
    def truncated(self) -> bool:
        return self.limit is not None and len(self.rows) >= self.limit

    def as_json(self) -> dict[str, Any]:
        return {"object_type": self.object_type, "object_id": self.object_id,
                "object_label": self.object_label,
                "rows": [row.as_json() for row in self.rows]}


class AuditTrailService:
    def __init__(self, engine: Engine, department_of) -> None:
        self.engine = engine
        self.department_of = department_of  # policy id → owner department (None: no such policy)

    def require_reader(self, principal: Principal | None, object_type: str, object_id: str) -> Principal:
        principal = require_login(principal)
        if principal.role in (Role.SUPERVISOR, Role.ADMIN):
            return principal
        if object_type == "policy" and principal.role is Role.OFFICER:
            department = self.department_of(object_id)
            if department is None:
                raise PolicyNotFound(object_id)
            return require_policy_editor(principal, department)
        raise Forbidden("操作记录仅限本部门政策的经办人员、监督人员和管理员查看。", object_type=object_type)

    def trail(self, principal: Principal | None, object_type: str, object_id: str,
              limit: int | None = PAGE_LIMIT) -> TrailView:
        """The newest ``limit`` rows of the object's trail, oldest first."""
        self.require_reader(principal, object_type, object_id)
        entries = audit.trail(self.engine, object_type, object_id, limit=limit)
        rows = [TrailRow(e.seq, _beijing(e.recorded_at), e.actor, e.action, audit.action_label(e.action),
                         e.reason or "", e.before_hash, e.after_hash, e.row_hash) for e in entries]
        return TrailView(object_type, object_id, audit.object_type_label(object_type), rows, limit)

    def for_page(self, request: Request, object_type: str, object_id: str) -> TrailView | None:
        """For a template: the trail when the page's viewer may read it, else None (no section)."""
        try:
            return self.trail(getattr(request.state, "principal", None), object_type, str(object_id))
        except (Forbidden, NotAuthenticated, PolicyNotFound):
            return None


def _beijing(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
