"""用户管理: admins list users, create them with their binding, reset passwords, deactivate and reactivate,
list and revoke a user's API tokens; every user lists and revokes its own tokens.

Every operation checks here that the acting user is an admin; bindings are checked against the
registry (an enterprise user's uscc must be an enterprise in it) and GB/T 2260 (an officer's region).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from qinqing.accounts import AccountService, Principal, Role
from qinqing.accounts.authz import ROLE_LABELS, require_login, require_role
from qinqing.accounts.errors import Forbidden, InvalidAccount
from qinqing.accounts.service import TokenRecord, UserRecord
from qinqing.registry.standards import regions
from qinqing.registry.tables import enterprises


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str
    role: str
    display_name: str = ""
    uscc: str = ""
    department: str = ""
    region_code: str = ""


def role_choices() -> list[tuple[str, str]]:
    return [(r.value, ROLE_LABELS[r]) for r in Role]


class UserAdminService:
    def __init__(self, engine: Engine, accounts: AccountService) -> None:
        self.engine = engine
        self.accounts = accounts

    def list(self, principal: Principal | None) -> list[UserRecord]:
        require_role(principal, Role.ADMIN)
        return self.accounts.records()

    def create(self, principal: Principal | None, new: NewUser) -> Principal:
        admin = require_role(principal, Role.ADMIN)
        try:
            role = Role(new.role)
        except ValueError:
            raise InvalidAccount("请选择角色。", field="role") from None
        uscc, department, region = new.uscc.strip().upper(), new.department.strip(), new.region_code.strip()
        if role is Role.ENTERPRISE and uscc and not self._enterprise_exists(uscc):
            raise InvalidAccount(f"企业库中没有统一社会信用代码为 {uscc} 的企业。", field="uscc")
        if role is Role.OFFICER and region and not regions.is_valid(region):
            raise InvalidAccount(f"行政区划代码 {region} 不在 GB/T 2260 中。", field="region_code")
        return self.accounts.create_user(
            new.username.strip(), new.password, role, new.display_name.strip(),
            uscc=uscc or None, department=department or None, region_code=region or None, actor=admin.username,
        )

    def reset_password(self, principal: Principal | None, user_id: int, password: str) -> None:
        admin = require_role(principal, Role.ADMIN)
        self.accounts.set_password(user_id, password, actor=admin.username)

    def set_active(self, principal: Principal | None, user_id: int, active: bool) -> None:
        admin = require_role(principal, Role.ADMIN)
        if not active and user_id == admin.user_id:
            raise Forbidden("不能停用自己的账号。", user_id=user_id)
        self.accounts.set_active(user_id, active, actor=admin.username)

    def tokens(self, principal: Principal | None, user_id: int) -> list[TokenRecord]:
        require_role(principal, Role.ADMIN)
        self.accounts.record(user_id)  # 404 for an id that names no user
        return self.accounts.tokens_of(user_id)

    def revoke_token(self, principal: Principal | None, user_id: int, token_id: int) -> TokenRecord:
        admin = require_role(principal, Role.ADMIN)
        self.accounts.record(user_id)
        return self.accounts.revoke_token_id(user_id, token_id, actor=admin.username)

    def own_tokens(self, principal: Principal | None) -> list[TokenRecord]:
        return self.accounts.tokens_of(require_login(principal).user_id)

    def revoke_own_token(self, principal: Principal | None, token_id: int) -> TokenRecord:
        """Another user's token id is answered like a missing one (404), so ids reveal nothing."""
        owner = require_login(principal)
        return self.accounts.revoke_token_id(owner.user_id, token_id, actor=owner.username)

    def _enterprise_exists(self, uscc: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(enterprises.c.uscc).where(enterprises.c.uscc == uscc)).first() is not None
