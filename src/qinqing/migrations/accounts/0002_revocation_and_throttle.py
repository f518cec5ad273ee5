"""accounts: revocable sessions (auth epoch), expiring tokens, case-insensitive usernames, login throttle

Revision ID: accounts_0002
Revises: accounts_0001
Create Date: 2025-06-30
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "accounts_0002"
down_revision = "accounts_0001"
branch_labels = None
depends_on = None

# Tokens issued before expiry existed get the default lifetime from their creation.
LEGACY_TOKEN_TTL = timedelta(days=90)


def _refuse_case_duplicates(conn) -> None:
    duplicates = conn.execute(sa.text(
        "SELECT lower(username) AS name, count(*) AS n FROM accounts_users GROUP BY lower(username) HAVING count(*) > 1"
    )).all()
    if duplicates:
        names = ", ".join(row.name for row in duplicates)
        raise RuntimeError(
            "accounts_0002 makes usernames unique regardless of case, but these exist in several spellings: "
            f"{names}. Rename or deactivate-and-rename all but one of each (UPDATE accounts_users SET username = …) "
            "and run the migration again."
        )


def upgrade() -> None:
    conn = op.get_bind()
    _refuse_case_duplicates(conn)
    op.add_column("accounts_users",
                  sa.Column("auth_epoch", sa.Integer(), nullable=False, server_default=sa.text("0")))
    op.create_index("ux_accounts_users_username_lower", "accounts_users", [sa.text("lower(username)")], unique=True)

    op.add_column("accounts_api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table("accounts_api_tokens", sa.column("id", sa.Integer()),
                      sa.column("created_at", sa.DateTime(timezone=True)),
                      sa.column("expires_at", sa.DateTime(timezone=True)))
    for token_id, created_at in conn.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        conn.execute(sa.update(tokens).where(tokens.c.id == token_id)
                     .values(expires_at=created_at + LEGACY_TOKEN_TTL))
    op.create_index("ix_accounts_api_tokens_user", "accounts_api_tokens", ["user_id"])

    # Usernames typed at login were stored whole (SQLite does not enforce VARCHAR(64)).
    conn.execute(sa.text("UPDATE accounts_login_attempts SET username = substr(username, 1, 64) "
                         "WHERE length(username) > 64"))
    op.create_index("ix_accounts_login_attempts_at", "accounts_login_attempts", ["attempted_at"])

    op.create_table(
        "accounts_login_throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_accounts_login_throttle_last", "accounts_login_throttle", ["last_failure_at"])


def downgrade() -> None:
    op.drop_table("accounts_login_throttle")
    op.drop_index("ix_accounts_login_attempts_at", table_name="accounts_login_attempts")
    op.drop_index("ix_accounts_api_tokens_user", table_name="accounts_api_tokens")
    with op.batch_alter_table("accounts_api_tokens") as batch:
        batch.drop_column("expires_at")
    op.drop_index("ux_accounts_users_username_lower", table_name="accounts_users")
    with op.batch_alter_table("accounts_users") as batch:
        batch.drop_column("auth_epoch")
