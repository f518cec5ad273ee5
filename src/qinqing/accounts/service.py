"""Account operations: create users, log in (rate-limited), resolve sessions and API tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine, RowMapping

from qinqing.accounts import ratelimit
from qinqing.accounts.authz import Principal, Role
from qinqing.accounts.errors import InvalidAccount, InvalidCredentials, NotAuthenticated, UserExists
from qinqing.accounts.passwords import hash_password, needs_rehash, verify_password
from qinqing.accounts.ratelimit import LoginLimits
from qinqing.accounts.tables import api_tokens, users
from qinqing.accounts.tokens import new_token, token_hash

_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
MIN_PASSWORD_LENGTH = 8
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class UserRecord:
    """A user as the admin page lists it: the principal plus its state."""

    principal: Principal
    active: bool
    created_at: datetime


def _principal(row: RowMapping) -> Principal:
    return Principal(
        user_id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        display_name=row["display_name"],
        uscc=row["uscc"],
        department=row["department"],
        region_code=row["region_code"],
    )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount(f"密码至少 {MIN_PASSWORD_LENGTH} 位。", field="password")


class AccountService:
    def __init__(self, engine: Engine, limits: LoginLimits | None = None) -> None:
        self.engine = engine
        self.limits = limits or LoginLimits()

    def create_user(
        self,
        username: str,
        password: str,
        role: Role | str,
        display_name: str = "",
        *,
        uscc: str | None = None,
        department: str | None = None,
        region_code: str | None = None,
    ) -> Principal:
        role = Role(role)
        if not _USERNAME.match(username):
            raise InvalidAccount("用户名须为 3-64 位字母、数字、下划线、点或连字符。", field="username")
        _check_password(password)
        if role is Role.ENTERPRISE and not uscc:
            raise InvalidAccount("企业用户必须绑定一个统一社会信用代码。", field="uscc")
        if role is Role.OFFICER and not (department and region_code):
            raise InvalidAccount("政策部门用户必须绑定部门和行政区划。", field="department")
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(users.c.username == username)).first():
                raise UserExists(f"用户名 {username} 已存在。", username=username)
            user_id = conn.execute(
                insert(users).values(
                    username=username,
                    password_hash=hash_password(password),
                    role=role.value,
                    display_name=display_name or username,
                    uscc=uscc if role is Role.ENTERPRISE else None,
                    department=department if role is Role.OFFICER else None,
                    region_code=region_code if role is Role.OFFICER else None,
                    active=True,
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]
        return self.get(user_id)

    def get(self, user_id: int) -> Principal:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id, users.c.active.is_(True))).mappings().first()
        if row is None:
            raise NotAuthenticated("账号不存在或已停用，请重新登录。")
        return _principal(row)

    def find(self, user_id: int | None) -> Principal | None:
        if user_id is None:
            return None
        try:
            return self.get(user_id)
        except NotAuthenticated:
            return None

    def list_users(self) -> list[Principal]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.id)).mappings().all()
        return [_principal(r) for r in rows]

    def records(self) -> list[UserRecord]:
        """Every user, active or not, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.id)).mappings().all()
        return [UserRecord(_principal(r), bool(r["active"]), r["created_at"]) for r in rows]

    def set_password(self, user_id: int, password: str) -> None:
        """Replace a user's password (the old one stops working at once)."""
        _check_password(password)
        with self.engine.begin() as conn:
            changed = conn.execute(update(users).where(users.c.id == user_id)
                                   .values(password_hash=hash_password(password))).rowcount
        if not changed:
            raise InvalidAccount("用户不存在。", user_id=user_id)

    def set_active(self, user_id: int, active: bool) -> None:
        """Deactivate (or reactivate) a user: its sessions and API tokens stop working at the next request."""
        with self.engine.begin() as conn:
            changed = conn.execute(update(users).where(users.c.id == user_id).values(active=active)).rowcount
        if not changed:
            raise InvalidAccount("用户不存在。", user_id=user_id)

    def authenticate(self, username: str, password: str, client: str = "unknown") -> Principal:
        """The user with these credentials; raises LoginRateLimited before checking once over the limit."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            ratelimit.check_allowed(conn, username, client, self.limits, now)
            row = conn.execute(
                select(users).where(users.c.username == username, users.c.active.is_(True))
            ).mappings().first()
            ok = row is not None and verify_password(row["password_hash"], password)
            ratelimit.record(conn, username, client, ok, now)
            if ok and needs_rehash(row["password_hash"]):
                conn.execute(update(users).where(users.c.id == row["id"]).values(password_hash=hash_password(password)))
        if not ok:
            raise InvalidCredentials()
        return _principal(row)

    def issue_token(self, principal: Principal, name: str = "api") -> str:
        """A new API token for this user; the plain token is returned once and only its hash is kept."""
        token = new_token()
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_tokens).values(
                    user_id=principal.user_id, name=name, token_hash=token_hash(token), created_at=datetime.now(UTC)
                )
            )
        return token

    def principal_for_token(self, token: str) -> Principal:
        digest = token_hash(token)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users, api_tokens.c.last_used_at.label("token_last_used_at"))
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == digest, api_tokens.c.revoked_at.is_(None), users.c.active.is_(True))
            ).mappings().first()
        if row is None:
            raise NotAuthenticated("API 令牌无效或已吊销。")
        now = datetime.now(UTC)
        last = row["token_last_used_at"]
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)  # SQLite hands back naive datetimes
        # Written at most once a minute: a write per request would serialise every API call on SQLite.
        if last is None or now - last > TOKEN_TOUCH_INTERVAL:
            with self.engine.begin() as conn:
                conn.execute(update(api_tokens).where(api_tokens.c.token_hash == digest).values(last_used_at=now))
        return _principal(row)

    def revoke_token(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(api_tokens).where(api_tokens.c.token_hash == token_hash(token)).values(revoked_at=datetime.now(UTC))
            )
