"""catalogue: the publication log (who published which version, over-budget reasons) and supervisors'
approvals of policies wider than an officer's remit

Revision ID: catalogue_0002
Revises: catalogue_0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "catalogue_0002"
down_revision = "catalogue_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_publications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("policy_id", sa.String(128), sa.ForeignKey("catalogue_policies.policy_id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("over_budget", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.String(64), nullable=True),
    )
    op.create_table(
        "catalogue_remit_approvals",
        sa.Column("policy_id", sa.String(128), sa.ForeignKey("catalogue_policies.policy_id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("approved_by", sa.String(64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("catalogue_remit_approvals")
    op.drop_table("catalogue_publications")
