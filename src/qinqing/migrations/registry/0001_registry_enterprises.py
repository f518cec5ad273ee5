"""registry: the enterprises table, one column per stored field of schema.py

Revision ID: registry_0001
Revises:
Create Date: 2025-01-01

The columns are written out (not read from schema.py) so that this revision never changes;
a field added to schema.py needs a new revision on this branch, and
tests/registry/test_store.py fails until it exists.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "registry_0001"
down_revision = None
branch_labels = ("registry",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enterprises",
        sa.Column("uscc", sa.String(18), primary_key=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("region_code", sa.String(), nullable=True),
        sa.Column("industry_code", sa.String(), nullable=True),
        sa.Column("established_on", sa.Date(), nullable=True),
        sa.Column("legal_person", sa.Boolean(create_constraint=False), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("insured_employees", sa.Integer(), nullable=True),
        sa.Column("revenue", sa.Numeric(18, 4), nullable=True),
        sa.Column("revenue_prev", sa.Numeric(18, 4), nullable=True),
        sa.Column("total_assets", sa.Numeric(18, 4), nullable=True),
        sa.Column("industrial_output", sa.Numeric(18, 4), nullable=True),
        sa.Column("industrial_output_prev", sa.Numeric(18, 4), nullable=True),
        sa.Column("rd_expense", sa.Numeric(18, 4), nullable=True),
        sa.Column("rd_expense_prev", sa.Numeric(18, 4), nullable=True),
        sa.Column("tax_paid", sa.Numeric(18, 4), nullable=True),
        sa.Column("tax_paid_prev", sa.Numeric(18, 4), nullable=True),
        sa.Column("software_revenue", sa.Numeric(18, 4), nullable=True),
        sa.Column("tech_renovation_investment", sa.Numeric(18, 4), nullable=True),
        sa.Column("equipment_investment", sa.Numeric(18, 4), nullable=True),
        sa.Column("energy_saved_tce", sa.Float(), nullable=True),
        sa.Column("unemployment_insurance_paid", sa.Numeric(18, 4), nullable=True),
        sa.Column("layoff_rate", sa.Float(), nullable=True),
        sa.Column("new_hires_youth", sa.Integer(), nullable=True),
        sa.Column("is_above_scale", sa.Boolean(create_constraint=False), nullable=True),
        sa.Column("above_scale_since", sa.Integer(), nullable=True),
        sa.Column("high_tech_cert_year", sa.Integer(), nullable=True),
        sa.Column("high_tech_first_cert", sa.Boolean(create_constraint=False), nullable=True),
        sa.Column("tech_sme_year", sa.Integer(), nullable=True),
        sa.Column("srdi_year", sa.Integer(), nullable=True),
        sa.Column("little_giant_year", sa.Integer(), nullable=True),
        sa.Column("single_champion_year", sa.Integer(), nullable=True),
        sa.Column("smart_factory_level", sa.String(), nullable=True),
        sa.Column("is_listed", sa.Boolean(create_constraint=False), nullable=True),
        sa.Column("equity_exchange_listed_year", sa.Integer(), nullable=True),
        sa.Column("is_dishonest", sa.Boolean(create_constraint=False), nullable=True),
        sa.Column("in_abnormal_list", sa.Boolean(create_constraint=False), nullable=True),
        sa.Column("in_safety_blacklist", sa.Boolean(create_constraint=False), nullable=True),
        sa.Column("major_accident_year", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_enterprises_region_code", "enterprises", ["region_code"])
    op.create_index("ix_enterprises_industry_code", "enterprises", ["industry_code"])


def downgrade() -> None:
    op.drop_table("enterprises")
