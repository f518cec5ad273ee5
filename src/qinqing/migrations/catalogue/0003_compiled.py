"""catalogue: compiled forms of policy versions (the fast path's plans), computed once and kept

Revision ID: catalogue_0003
Revises: catalogue_0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "catalogue_0003"
down_revision = "catalogue_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_compiled",
        sa.Column("policy_id", sa.String(128), sa.ForeignKey("catalogue_policies.policy_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("compiler", sa.String(64), primary_key=True),
        sa.Column("as_of", sa.String(10), primary_key=True),  # "" when the compiled form does not read the date
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("catalogue_compiled")
