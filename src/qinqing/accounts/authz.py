"""Roles and the authorisation rules; services call these, routes never check permissions themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from qinqing.accounts.errors import Forbidden, NotAuthenticated


class Role(StrEnum):
    ENTERPRISE = "enterprise"  # bound to one uscc
    OFFICER = "officer"  # bound to a department and a region
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.ENTERPRISE: "企业用户",
    Role.OFFICER: "政策部门",
    Role.SUPERVISOR: "督查人员",
    Role.ADMIN: "系统管理员",
}


@dataclass(frozen=True)
class Principal:
    """Who is acting: the logged-in user, or the owner of an API token."""

    user_id: int
    username: str
    role: Role
    display_name: str
    uscc: str | None = None
    department: str | None = None
    region_code: str | None = None
    # The user's session generation when this principal was read (sessions.py); not part of its identity.
    auth_epoch: int = field(default=0, compare=False, repr=False)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def require_login(principal: Principal | None) -> Principal:
    if principal is None:
        raise NotAuthenticated()
    return principal


def require_role(principal: Principal | None, *roles: Role) -> Principal:
    principal = require_login(principal)
    if principal.role not in roles:
        labels = "、".join(ROLE_LABELS[r] for r in roles)
        raise Forbidden(f"此功能仅限{labels}使用。", role=principal.role.value)
    return principal


def require_enterprise_access(principal: Principal | None, uscc: str) -> Principal:
    """An enterprise sees only itself; officers, supervisors and admins see any enterprise."""
    principal = require_login(principal)
    if principal.role is Role.ENTERPRISE and principal.uscc != uscc:
        raise Forbidden("无权查看其他企业的信息。", uscc=uscc)
    return principal


def require_policy_editor(principal: Principal | None, department: str | None) -> Principal:
    """Officers edit only their own department's policies; admins edit any."""
    principal = require_role(principal, Role.OFFICER, Role.ADMIN)
    if principal.role is Role.OFFICER and department is not None and principal.department != department:
        raise Forbidden(f"无权编辑其他部门（{department}）的政策。", department=department)
    return principal
