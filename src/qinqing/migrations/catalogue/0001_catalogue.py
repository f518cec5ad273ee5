"""catalogue: policies and their versions (YAML text + browse metadata)

Revision ID: catalogue_0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "catalogue_0001"
down_revision = None
branch_labels = ("catalogue",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_policies",
        sa.Column("policy_id", sa.String(128), primary_key=True),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("draft_version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "catalogue_versions",
        sa.Column(
            "policy_id",
            sa.String(128),
            sa.ForeignKey("catalogue_policies.policy_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("issuer", sa.String(256), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("industries", sa.String(512), nullable=False),
        sa.Column("support_type", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("budget", sa.Numeric(18, 4), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("catalogue_versions")
    op.drop_table("catalogue_policies")
