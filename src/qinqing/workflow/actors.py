"""Who acts on the workflow, and what each may do (the web turns its Principal into an Actor)."""

from __future__ import annotations

from dataclasses import dataclass

from qinqing.workflow.errors import WorkflowError


class Forbidden(WorkflowError):
    code = "workflow.forbidden"
    status = 403
    default_message = "无权执行该操作。"


@dataclass(frozen=True)
class Actor:
    name: str  # the username, or "system:<job>"
    role: str  # enterprise | officer | supervisor | admin | system
    uscc: str | None = None
    department: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in ("officer", "admin", "system")


SYSTEM = Actor("system:workflow", "system")


def require_enterprise(actor: Actor, uscc: str) -> None:
    """An enterprise acts only for itself; staff may act for any."""
    if actor.role == "enterprise" and actor.uscc == uscc:
        return
    if actor.role in ("admin", "system"):
        return
    raise Forbidden("只有该企业本身可以办理此事项。", uscc=uscc)


def require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("此功能仅限政策部门使用。")


def require_reader(actor: Actor, uscc: str) -> None:
    if actor.role == "enterprise" and actor.uscc != uscc:
        raise Forbidden("无权查看其他企业的申报。", uscc=uscc)
