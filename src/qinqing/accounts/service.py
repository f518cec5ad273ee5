"""Account operations: create users, log in (rate-limited), resolve and end sessions, issue, list,
expire and revoke API tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from qinqing import audit
from qinqing.accounts import ratelimit
from qinqing.accounts.authz import Principal, Role
from qinqing.accounts.errors import (AccountNotFound, InvalidAccount, InvalidCredentials, NotAuthenticated,
                                     TokenNotFound, UserExists)
from qinqing.accounts.passwords import (MAX_PASSWORD_LENGTH, PasswordGate, check_password, dummy_hash,
                                        hash_password, needs_rehash, verify_password)
from qinqing.accounts.ratelimit import LoginLimits
from qinqing.accounts.sessions import Session
from qinqing.accounts.tables import api_tokens, users
from qinqing.accounts.tokens import new_token, token_hash

_USERNAME = re.compile(r"^[a-z0-9_.\-]{3,64}$")
USERNAME_MAX_LENGTH = 64
TOKEN_NAME_MAX_LENGTH = 128
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
DEFAULT_TOKEN_TTL = timedelta(days=90)
MAX_ID = 2**31 - 1  # ids are INTEGER columns: anything larger names no row (and PostgreSQL would refuse it)


def normalise_username(username: str) -> str:
    """The form usernames are stored and looked up in: trimmed and casefolded (``Admin`` is ``admin``).
    Cut just past the longest valid name first, so an enormous one costs nothing further."""
    return username.strip()[: USERNAME_MAX_LENGTH + 1].casefold()


def _valid_id(value: int) -> bool:
    return isinstance(value, int) and 1 <= value <= MAX_ID


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value  # SQLite: naive


@dataclass(frozen=True)
class UserRecord:
    """A user as the admin page lists it: the principal plus its state."""

    principal: Principal
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    """An API token as its owner and admins see it (never the token itself)."""

    id: int
    user_id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is None or self.expires_at <= now:
            return "expired"
        return "active"

    def as_dict(self) -> dict:
        iso = lambda v: v.isoformat() if v is not None else None  # noqa: E731
        return {"id": self.id, "name": self.name, "created_at": iso(self.created_at),
                "expires_at": iso(self.expires_at), "last_used_at": iso(self.last_used_at),
                "revoked_at": iso(self.revoked_at), "state": self.state()}


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once
    record: TokenRecord


def _principal(row: RowMapping) -> Principal:
    return Principal(
        user_id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        display_name=row["display_name"],
        uscc=row["uscc"],
        department=row["department"],
        region_code=row["region_code"],
        auth_epoch=row["auth_epoch"],
    )


def _token_record(row: RowMapping) -> TokenRecord:
    return TokenRecord(row["id"], row["user_id"], row["name"], _aware(row["created_at"]), _aware(row["expires_at"]),
                       _aware(row["last_used_at"]), _aware(row["revoked_at"]))


def _audit_state(row: RowMapping) -> dict:
    """What the audit trail hashes of a user: the account's fields, never the password hash."""
    return {key: row[key] for key in ("username", "role", "display_name", "uscc", "department", "region_code",
                                      "active", "auth_epoch")}


def _end_sessions_and_tokens(conn: Connection, user_id: int, now: datetime) -> None:
    """Every session of the user stops (its epoch moves on) and every token is revoked."""
    conn.execute(update(users).where(users.c.id == user_id).values(auth_epoch=users.c.auth_epoch + 1))
    conn.execute(update(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
                 .values(revoked_at=now))


class AccountService:
    def __init__(self, engine: Engine, limits: LoginLimits | None = None, *,
                 token_ttl: timedelta = DEFAULT_TOKEN_TTL, gate: PasswordGate | None = None) -> None:
        self.engine = engine
        self.limits = limits or LoginLimits()
        self.token_ttl = token_ttl
        # One per AccountService, and the web app builds one per worker process.
        self.gate = gate or PasswordGate()

    @classmethod
    def from_settings(cls, engine: Engine, settings) -> AccountService:
        return cls(engine, token_ttl=timedelta(days=settings.token_ttl_days),
                   gate=PasswordGate(settings.password_hash_concurrency, settings.password_hash_wait_seconds))

    # --- users -------------------------------------------------------------------------------------

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
        actor: str = "system",
    ) -> Principal:
        """A new active user. ``actor`` (who creates it) is written to the audit trail."""
        role = Role(role)
        username = normalise_username(username)
        if not _USERNAME.match(username):
            raise InvalidAccount("用户名须为 3-64 位字母、数字、下划线、点或连字符（不区分大小写）。", field="username")
        check_password(password, username)
        if role is Role.ENTERPRISE and not uscc:
            raise InvalidAccount("企业用户必须绑定一个统一社会信用代码。", field="uscc")
        if role is Role.OFFICER and not (department and region_code):
            raise InvalidAccount("政策部门用户必须绑定部门和行政区划。", field="department")
        exists = UserExists(f"用户名 {username} 已存在。", username=username)
        if self._row_by_name(username) is not None:
            raise exists
        with self.gate.slot():
            password_hash = hash_password(password)
        try:
            with self.engine.begin() as conn:
                user_id = conn.execute(
                    insert(users).values(
                        username=username,
                        password_hash=password_hash,
                        role=role.value,
                        display_name=display_name or username,
                        uscc=uscc if role is Role.ENTERPRISE else None,
                        department=department if role is Role.OFFICER else None,
                        region_code=region_code if role is Role.OFFICER else None,
                        active=True,
                        created_at=datetime.now(UTC),
                        auth_epoch=0,
                    )
                ).inserted_primary_key[0]
                created = conn.execute(select(users).where(users.c.id == user_id)).mappings().one()
                audit.record(conn, actor=actor, action="user.create", object_type="user", object_id=username,
                             after=_audit_state(created))
        except IntegrityError:  # created at the same moment by someone else (unique on lower(username))
            raise exists from None
        return self.get(user_id)

    def _row_by_name(self, username: str) -> RowMapping | None:
        with self.engine.connect() as conn:
            return conn.execute(select(users).where(func.lower(users.c.username) == username)).mappings().first()

    def _row(self, user_id: int) -> RowMapping:
        if not _valid_id(user_id):
            raise AccountNotFound(user_id=str(user_id))
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        if row is None:
            raise AccountNotFound(user_id=user_id)
        return row

    def get(self, user_id: int) -> Principal:
        if not _valid_id(user_id):
            raise NotAuthenticated("账号不存在或已停用，请重新登录。")
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id, users.c.active.is_(True))).mappings().first()
        if row is None:
            raise NotAuthenticated("账号不存在或已停用，请重新登录。")
        return _principal(row)

    def list_users(self) -> list[Principal]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.id)).mappings().all()
        return [_principal(r) for r in rows]

    def records(self) -> list[UserRecord]:
        """Every user, active or not, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.id)).mappings().all()
        return [UserRecord(_principal(r), bool(r["active"]), r["created_at"]) for r in rows]

    def record(self, user_id: int) -> UserRecord:
        """One user, active or not; AccountNotFound (404) for an id that names none."""
        row = self._row(user_id)
        return UserRecord(_principal(row), bool(row["active"]), row["created_at"])

    def set_password(self, user_id: int, password: str, *, actor: str = "system") -> None:
        """Replace a user's password: the old one, every session and every API token stop working at once.
        Recorded in the audit trail (``actor`` did it; the state hashed is the account without its hash)."""
        row = self._row(user_id)
        check_password(password, row["username"])
        with self.gate.slot():
            password_hash = hash_password(password)
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
            _end_sessions_and_tokens(conn, user_id, datetime.now(UTC))
            self._audit(conn, "user.password_reset", actor, row, user_id)

    def set_active(self, user_id: int, active: bool, *, actor: str = "system") -> None:
        """Deactivate (or reactivate) a user. Deactivation ends every session and revokes every API token
        for good: reactivating does not bring them back. Recorded in the audit trail (``actor`` did it)."""
        row = self._row(user_id)
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(active=active))
            if not active:
                _end_sessions_and_tokens(conn, user_id, datetime.now(UTC))
            self._audit(conn, "user.activate" if active else "user.deactivate", actor, row, user_id)

    @staticmethod
    def _audit(conn: Connection, action: str, actor: str, before: RowMapping, user_id: int, **fields) -> None:
        after = conn.execute(select(users).where(users.c.id == user_id)).mappings().one()
        audit.record(conn, actor=actor, action=action, object_type="user", object_id=before["username"],
                     before=_audit_state(before), after=_audit_state(after) | fields)

    # --- login and sessions ------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, client: str = "unknown") -> Principal:
        """The user with these credentials.

        Raises LoginRateLimited (before any hashing) while this account and address must wait, LoginBusy
        when no argon2 slot frees up in time, InvalidCredentials otherwise. An unknown or deactivated
        username costs one argon2 verification like a known one (against a dummy hash).
        """
        name = normalise_username(username)
        client = client or "unknown"
        now = datetime.now(UTC)
        reservation = ratelimit.reserve(self.engine, name, client, self.limits, now)
        row = self._row_by_name(name) if _USERNAME.match(name) else None
        try:
            with self.gate.slot():
                stored = row["password_hash"] if row is not None else dummy_hash()
                matches = verify_password(stored, password[:MAX_PASSWORD_LENGTH])
                ok = matches and row is not None and bool(row["active"]) and len(password) <= MAX_PASSWORD_LENGTH
                rehashed = hash_password(password) if ok and needs_rehash(stored) else None
        except BaseException:
            ratelimit.settle(self.engine, reservation, None, self.limits)  # not checked: refund the charge
            raise
        ratelimit.settle(self.engine, reservation, ok, self.limits)
        if not ok:
            raise InvalidCredentials()
        if rehashed:
            with self.engine.begin() as conn:
                conn.execute(update(users).where(users.c.id == row["id"]).values(password_hash=rehashed))
        return _principal(row)

    def for_session(self, session: Session) -> Principal | None:
        """The user a session cookie names, if that user is active and the session was not ended since
        (its epoch is the user's current one); None otherwise."""
        if session.user_id is None or session.epoch is None or not _valid_id(session.user_id):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(
                users.c.id == session.user_id, users.c.active.is_(True), users.c.auth_epoch == session.epoch
            )).mappings().first()
        return _principal(row) if row is not None else None

    def end_sessions(self, session: Session) -> None:
        """Logout: every session of the session's user ends (on every device), if this one is still valid.
        API tokens are kept: they belong to machine clients and are revoked one by one."""
        if session.user_id is None or session.epoch is None or not _valid_id(session.user_id):
            return
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == session.user_id, users.c.auth_epoch == session.epoch)
                         .values(auth_epoch=users.c.auth_epoch + 1))

    # --- API tokens --------------------------------------------------------------------------------

    def issue(self, principal: Principal, name: str = "api") -> IssuedToken:
        """A new API token for this user, valid for ``token_ttl``; only its hash is kept. Recorded in the
        audit trail as the user's own action."""
        name = name.strip() or "api"
        if len(name) > TOKEN_NAME_MAX_LENGTH:
            raise InvalidAccount(f"令牌名称最多 {TOKEN_NAME_MAX_LENGTH} 个字符。", field="name")
        token = new_token()
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            token_id = conn.execute(
                insert(api_tokens).values(user_id=principal.user_id, name=name, token_hash=token_hash(token),
                                          created_at=now, expires_at=now + self.token_ttl)
            ).inserted_primary_key[0]
            audit.record(conn, actor=principal.username, action="user.token_create", object_type="user",
                         object_id=principal.username, after={"token_id": token_id, "name": name,
                                                               "expires_at": now + self.token_ttl})
        return IssuedToken(token, TokenRecord(token_id, principal.user_id, name, now, now + self.token_ttl, None, None))

    def issue_token(self, principal: Principal, name: str = "api") -> str:
        """The plain token of :meth:`issue`, returned once."""
        return self.issue(principal, name).token

    def principal_for_token(self, token: str) -> Principal:
        digest = token_hash(token)
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users, api_tokens.c.last_used_at.label("token_last_used_at"))
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == digest, api_tokens.c.revoked_at.is_(None),
                       api_tokens.c.expires_at > now, users.c.active.is_(True))
            ).mappings().first()
        if row is None:
            raise NotAuthenticated("API 令牌无效、已过期或已吊销。")
        last = _aware(row["token_last_used_at"])
        # Written at most once a minute: a write per request would serialise every API call on SQLite.
        if last is None or now - last > TOKEN_TOUCH_INTERVAL:
            with self.engine.begin() as conn:
                conn.execute(update(api_tokens).where(api_tokens.c.token_hash == digest).values(last_used_at=now))
        return _principal(row)

    def tokens_of(self, user_id: int) -> list[TokenRecord]:
        """The user's tokens, newest first, revoked and expired ones included."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_tokens).where(api_tokens.c.user_id == user_id)
                                .order_by(api_tokens.c.id.desc())).mappings().all()
        return [_token_record(r) for r in rows]

    def revoke_token_id(self, user_id: int, token_id: int, *, actor: str = "system") -> TokenRecord:
        """Revoke the user's token ``token_id`` (again: no change); TokenNotFound if the user has no such token.
        A revocation that changes something is recorded in the audit trail (``actor`` did it)."""
        if not _valid_id(token_id):
            raise TokenNotFound(token_id=str(token_id))
        with self.engine.begin() as conn:
            mine = (api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
            revoked = conn.execute(update(api_tokens).where(*mine, api_tokens.c.revoked_at.is_(None))
                                   .values(revoked_at=datetime.now(UTC))).rowcount
            row = conn.execute(select(api_tokens).where(*mine)).mappings().first()
            if revoked:
                _audit_token_revoked(conn, user_id, token_id, actor)
        if row is None:
            raise TokenNotFound(token_id=token_id)
        return _token_record(row)

    def revoke_token(self, token: str, *, actor: str | None = None) -> None:
        """Revoke a token by its value (by its owner unless ``actor`` says otherwise); audited when it changes."""
        with self.engine.begin() as conn:
            row = conn.execute(select(api_tokens.c.id, api_tokens.c.user_id).where(
                api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None))).first()
            if row is None:
                return
            conn.execute(update(api_tokens).where(api_tokens.c.id == row.id).values(revoked_at=datetime.now(UTC)))
            _audit_token_revoked(conn, row.user_id, row.id, actor)


def _audit_token_revoked(conn: Connection, user_id: int, token_id: int, actor: str | None) -> None:
    username = conn.execute(select(users.c.username).where(users.c.id == user_id)).scalar_one()
    audit.record(conn, actor=actor or username, action="user.token_revoke", object_type="user", object_id=username,
                 before={"token_id": token_id, "revoked": False}, after={"token_id": token_id, "revoked": True})
