"""matching: the run history (every published run, its provenance, per-policy and per-region counts)

Revision ID: matching_0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "matching_0001"
down_revision = None
branch_labels = ("matching",)
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "matching_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("policies", sa.BigInteger(), nullable=False),
        sa.Column("enterprises", sa.BigInteger(), nullable=False),
        sa.Column("pairs_evaluated", sa.BigInteger(), nullable=False),
        sa.Column("eligible", sa.BigInteger(), nullable=False),
        sa.Column("unknown", sa.BigInteger(), nullable=False),
        sa.Column("amount_total", sa.Numeric(38, 4), nullable=False),
        sa.Column("format_version", sa.Integer(), nullable=False),
        sa.Column("catalogue_revision", sa.String(64), nullable=True),
        sa.Column("registry_rows", sa.BigInteger(), nullable=True),
        sa.Column("registry_hash", sa.String(128), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
    )
    op.create_table(
        "matching_run_policies",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("matching_runs.run_id"), primary_key=True),
        sa.Column("policy_id", sa.String(128), primary_key=True, index=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("plan_hash", sa.String(128), nullable=True),
        sa.Column("eligible", sa.BigInteger(), nullable=False),
        sa.Column("unknown", sa.BigInteger(), nullable=False),
        sa.Column("ineligible", sa.BigInteger(), nullable=False),
        sa.Column("amount_total", sa.Numeric(38, 4), nullable=False),
    )
    op.create_table(
        "matching_run_regions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("matching_runs.run_id"), nullable=False, index=True),
        sa.Column("region_code", sa.String(12), nullable=True, index=True),
        sa.Column("registered", sa.BigInteger(), nullable=False),
        sa.Column("enterprises", sa.BigInteger(), nullable=False),
        sa.Column("eligible", sa.BigInteger(), nullable=False),
        sa.Column("unknown", sa.BigInteger(), nullable=False),
        sa.Column("amount_total", sa.Numeric(38, 4), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("matching_run_regions")
    op.drop_table("matching_run_policies")
    op.drop_table("matching_runs")
