"""jobs: the events outbox, the job queue (state, lease, progress) and the schedules' next due times

Revision ID: jobs_0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "jobs_0001"
down_revision = None
branch_labels = ("jobs",)
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events_outbox",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(256), nullable=True),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_events_outbox_dispatched", "events_outbox", ["dispatched_at", "id"])
    op.create_index("ix_events_outbox_subject", "events_outbox", ["subject", "id"])
    op.create_table(
        "jobs",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key", sa.String(300), nullable=True),
        sa.Column("dedup", sa.String(512), nullable=True, unique=True),
        sa.Column("event_id", ID, sa.ForeignKey("events_outbox.id", ondelete="CASCADE"), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(256), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(128), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress_done", sa.BigInteger(), nullable=False),
        sa.Column("progress_total", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
    )
    op.create_index("ix_jobs_status_run_after", "jobs", ["status", "run_after"])
    op.create_index("ix_jobs_subject", "jobs", ["subject", "id"])
    op.create_index("ix_jobs_name_key", "jobs", ["name", "key"])
    op.create_table(
        "jobs_schedules",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_job_id", ID, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("jobs_schedules")
    op.drop_table("jobs")
    op.drop_table("events_outbox")
