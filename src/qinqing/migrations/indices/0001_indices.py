"""indices: runs, unit results, node scores, values with provenance, 督办/整改 cases

Revision ID: indices_0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "indices_0001"
down_revision = None
branch_labels = ("indices",)
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "indices_runs",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("index_id", sa.String(64), nullable=False),
        sa.Column("index_name", sa.String(128), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("config_text", sa.Text(), nullable=False),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_by", sa.String(64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.UniqueConstraint("index_id", "period", name="uq_indices_runs_index_period"),
    )
    fk = sa.ForeignKey("indices_runs.id", ondelete="CASCADE")
    op.create_table(
        "indices_unit_results",
        sa.Column("run_id", ID, fk, primary_key=True),
        sa.Column("unit", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("ranked", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(64), nullable=True),
        sa.Column("tier_reason", sa.String(256), nullable=False),
        sa.Column("rank_median", sa.Float(), nullable=True),
        sa.Column("rank_low", sa.Float(), nullable=True),
        sa.Column("rank_high", sa.Float(), nullable=True),
        sa.Column("sample", sa.Float(), nullable=True),
        sa.Column("excluded", sa.String(256), nullable=False),
        sa.Column("imputed", sa.Integer(), nullable=False),
    )
    op.create_table(
        "indices_node_scores",
        sa.Column("run_id", ID, sa.ForeignKey("indices_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit", sa.String(64), primary_key=True),
        sa.Column("node_id", sa.String(64), primary_key=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
    )
    op.create_table(
        "indices_values",
        sa.Column("run_id", ID, sa.ForeignKey("indices_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("unit", sa.String(64), primary_key=True),
        sa.Column("indicator_id", sa.String(64), primary_key=True),
        sa.Column("raw", sa.Float(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("normalised", sa.Float(), nullable=True),
        sa.Column("imputed", sa.String(32), nullable=False),
        sa.Column("sample", sa.Float(), nullable=True),
        sa.Column("provenance", sa.Text(), nullable=True),
    )
    op.create_table(
        "indices_cases",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("index_id", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("unit_name", sa.String(128), nullable=False),
        sa.Column("opened_period", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("index_id", "unit", "opened_period", name="uq_indices_cases_unit_period"),
    )
    op.create_index("ix_indices_cases_state", "indices_cases", ["index_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_indices_cases_state", table_name="indices_cases")
    for table in ("indices_cases", "indices_values", "indices_node_scores", "indices_unit_results", "indices_runs"):
        op.drop_table(table)
