"""appeals: 工单, assignments, updates, deadlines, extensions, ratings, attachments, duplicate proposals,
configuration revisions

Revision ID: appeals_0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "appeals_0001"
down_revision = None
branch_labels = ("appeals",)
depends_on = None


def upgrade() -> None:
    op.create_table('appeals_appeals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=24), nullable=True),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('suggested_category', sa.String(length=32), nullable=True),
    sa.Column('suggestion_confidence', sa.Float(), nullable=True),
    sa.Column('dispatch_class', sa.String(length=16), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('enterprise_name', sa.String(length=200), nullable=True),
    sa.Column('contact_name', sa.String(length=64), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('contact_email', sa.String(length=128), nullable=True),
    sa.Column('disclose_identity', sa.Boolean(), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('policy_ref', sa.String(length=128), nullable=True),
    sa.Column('application_ref', sa.String(length=128), nullable=True),
    sa.Column('address_string', sa.String(length=256), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('long', sa.Float(), nullable=True),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('lead_department', sa.String(length=128), nullable=True),
    sa.Column('owner_department', sa.String(length=128), nullable=False),
    sa.Column('rehandle_count', sa.Integer(), nullable=False),
    sa.Column('merged_into', sa.Integer(), nullable=True),
    sa.Column('transfer_target', sa.String(length=8), nullable=True),
    sa.Column('legal_route', sa.String(length=32), nullable=True),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('config_revision', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['merged_into'], ['appeals_appeals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('token')
    )
    op.create_index('ix_appeals_appeals_created', 'appeals_appeals', ['created_at'], unique=False)
    op.create_index('ix_appeals_appeals_lead', 'appeals_appeals', ['lead_department', 'state'], unique=False)
    op.create_index('ix_appeals_appeals_state', 'appeals_appeals', ['state'], unique=False)
    op.create_index('ix_appeals_appeals_uscc', 'appeals_appeals', ['uscc', 'created_at'], unique=False)
    op.create_table('appeals_config_revisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=256), nullable=True),
    sa.Column('loaded_by', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('appeals_assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accept_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('return_upheld', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals_appeals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appeals_assignments_appeal', 'appeals_assignments', ['appeal_id'], unique=False)
    op.create_index('ix_appeals_assignments_department', 'appeals_assignments', ['department', 'status'], unique=False)
    op.create_table('appeals_attachments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals_appeals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appeals_attachments_appeal', 'appeals_attachments', ['appeal_id'], unique=False)
    op.create_table('appeals_duplicates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('basis', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals_appeals.id'], ),
    sa.ForeignKeyConstraint(['candidate_id'], ['appeals_appeals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appeals_duplicates_appeal', 'appeals_duplicates', ['appeal_id'], unique=False)
    op.create_table('appeals_ratings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('rated_by', sa.String(length=64), nullable=False),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_status', sa.String(length=16), nullable=False),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('review_requested_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals_appeals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appeals_ratings_appeal', 'appeals_ratings', ['appeal_id', 'round'], unique=False)
    op.create_table('appeals_updates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('department', sa.String(length=128), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('visible', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals_appeals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appeals_updates_appeal', 'appeals_updates', ['appeal_id', 'id'], unique=False)
    op.create_index('ix_appeals_updates_at', 'appeals_updates', ['at'], unique=False)
    op.create_table('appeals_deadlines',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('clock', sa.String(length=16), nullable=False),
    sa.Column('department', sa.String(length=128), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hours', sa.Float(), nullable=True),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.Column('extended_days', sa.Integer(), nullable=False),
    sa.Column('calendar_version', sa.String(length=160), nullable=False),
    sa.Column('calendar_covered', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals_appeals.id'], ),
    sa.ForeignKeyConstraint(['assignment_id'], ['appeals_assignments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appeals_deadlines_appeal', 'appeals_deadlines', ['appeal_id'], unique=False)
    op.create_index('ix_appeals_deadlines_open', 'appeals_deadlines', ['status', 'due_at'], unique=False)
    op.create_table('appeals_extensions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=128), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals_appeals.id'], ),
    sa.ForeignKeyConstraint(['deadline_id'], ['appeals_deadlines.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_appeals_extensions_appeal', 'appeals_extensions', ['appeal_id'], unique=False)


def downgrade() -> None:
    for table in ("appeals_duplicates", "appeals_attachments", "appeals_ratings", "appeals_extensions",
                  "appeals_deadlines", "appeals_updates", "appeals_assignments", "appeals_appeals",
                  "appeals_config_revisions"):
        op.drop_table(table)
