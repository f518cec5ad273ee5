"""Tables of the accounts piece (created by the alembic branch in qinqing/migrations/accounts)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, func, text

metadata = MetaData()

users = Table(
    "accounts_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("display_name", String(128), nullable=False),
    Column("uscc", String(18), nullable=True),
    Column("department", String(128), nullable=True),
    Column("region_code", String(6), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Raised by logout, a password change or reset and deactivation: every session signed with an
    # older epoch stops working (see sessions.py).
    Column("auth_epoch", Integer, nullable=False, default=0, server_default=text("0")),
)
# Usernames are unique regardless of case (new ones are stored casefolded; lookups use lower()).
Index("ux_accounts_users_username_lower", func.lower(users.c.username), unique=True)

api_tokens = Table(
    "accounts_api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("accounts_users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(128), nullable=False),
    # SHA-256 of the token: the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # Always set when a token is issued (settings.token_ttl_days); a token past it is refused.
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Index("ix_accounts_api_tokens_user", "user_id"),
)

login_attempts = Table(
    "accounts_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # An audit trail: the username as typed, cut to 64 characters; rows older than the retention are pruned.
    Column("username", String(64), nullable=False),
    Column("client", String(64), nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_accounts_login_attempts_username", "username", "attempted_at"),
    Index("ix_accounts_login_attempts_client", "client", "attempted_at"),
    Index("ix_accounts_login_attempts_at", "attempted_at"),
)

# The login rate limit's counters (ratelimit.py): one row per key — (account, client address), account,
# client address — each a hash, so any username fits. ``version`` makes every update a compare-and-swap.
login_throttle = Table(
    "accounts_login_throttle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_accounts_login_throttle_last", "last_failure_at"),
)
