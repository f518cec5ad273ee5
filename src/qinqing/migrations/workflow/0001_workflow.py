"""workflow: the budget ledger (accounts, journals, entries), applications, review, awards and exclusion
groups, bank accounts, payment batches, 免申即享 batches, idempotency keys, ratings

Revision ID: workflow_0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "workflow_0001"
down_revision = None
branch_labels = ("workflow",)
depends_on = None

# The ledger is append-only: entries and journals refuse UPDATE, DELETE and TRUNCATE, and on PostgreSQL
# every statement that inserts entries must insert whole journals: per journal they sum to zero (a
# statement-level trigger over the inserted rows; the ledger writes a journal's legs in one statement).
POSTGRES_UP = [
    """
    CREATE FUNCTION workflow_ledger_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the workflow ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END $$
    """,
    """
    CREATE FUNCTION workflow_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE bad bigint;
    BEGIN
        SELECT journal_id INTO bad FROM new_entries GROUP BY journal_id HAVING sum(amount_fen) <> 0 LIMIT 1;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'journal % does not balance', bad USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER workflow_entries_balanced AFTER INSERT ON workflow_entries
        REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION workflow_journal_balanced()
    """,
]
for _table in ("workflow_entries", "workflow_journals"):
    POSTGRES_UP += [
        f"CREATE TRIGGER {_table}_append_only BEFORE UPDATE OR DELETE ON {_table} "
        "FOR EACH ROW EXECUTE FUNCTION workflow_ledger_refuse()",
        f"CREATE TRIGGER {_table}_no_truncate BEFORE TRUNCATE ON {_table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION workflow_ledger_refuse()",
    ]
SQLITE_UP = [
    f"CREATE TRIGGER {_table}_no_{_op.lower()} BEFORE {_op} ON {_table} "
    f"BEGIN SELECT RAISE(ABORT, 'the workflow ledger is append-only: {_op} on {_table} refused'); END"
    for _table in ("workflow_entries", "workflow_journals") for _op in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table('workflow_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=256), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('policy_id', sa.String(length=128), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('negative_allowed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('workflow_bank_accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('account_name', sa.String(length=256), nullable=False),
    sa.Column('account_no', sa.String(length=64), nullable=False),
    sa.Column('bank', sa.String(length=128), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uscc', 'account_no', name='ux_workflow_bank_accounts_no')
    )
    op.create_table('workflow_grant_batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('policy_id', sa.String(length=128), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('objection_until', sa.Date(), nullable=False),
    sa.Column('confirm_until', sa.Date(), nullable=False),
    sa.Column('calendar', sa.String(length=64), nullable=False),
    sa.Column('candidates', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('skipped_budget', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('workflow_idempotency',
    sa.Column('scope', sa.String(length=256), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key')
    )
    op.create_index('ix_workflow_idempotency_expires', 'workflow_idempotency', ['expires_at'], unique=False)
    op.create_table('workflow_journals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('policy_id', sa.String(length=128), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('resolves', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resolves'], ['workflow_journals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key'),
    sa.UniqueConstraint('resolves')
    )
    op.create_index('ix_workflow_journals_application', 'workflow_journals', ['application_id'], unique=False)
    op.create_table('workflow_payment_batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('policy_id', sa.String(length=128), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('workflow_applications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('policy_id', sa.String(length=128), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('enterprise_name', sa.String(length=256), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('declared', sa.Text(), nullable=False),
    sa.Column('materials_required', sa.Text(), nullable=False),
    sa.Column('materials', sa.Text(), nullable=False),
    sa.Column('bank_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('departments', sa.Text(), nullable=False),
    sa.Column('steps', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('deadline_kind', sa.String(length=16), nullable=True),
    sa.Column('calendar', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('grant_batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['bank_account_id'], ['workflow_bank_accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_workflow_applications_state', 'workflow_applications', ['state', 'policy_id'], unique=False)
    op.create_index('ix_workflow_applications_uscc', 'workflow_applications', ['uscc', 'id'], unique=False)
    op.create_table('workflow_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('journal_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('negative_allowed', sa.Boolean(), nullable=False),
    sa.CheckConstraint('amount_fen <> 0', name='ck_workflow_entries_nonzero'),
    sa.CheckConstraint('balance_after >= 0 OR negative_allowed', name='ck_workflow_entries_not_overdrawn'),
    sa.ForeignKeyConstraint(['account_id'], ['workflow_accounts.id'], ),
    sa.ForeignKeyConstraint(['journal_id'], ['workflow_journals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_workflow_entries_account', 'workflow_entries', ['account_id', 'id'], unique=False)
    op.create_index('ix_workflow_entries_journal', 'workflow_entries', ['journal_id'], unique=False)
    op.create_table('workflow_awards',
    sa.Column('policy_id', sa.String(length=128), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['workflow_applications.id'], ),
    sa.PrimaryKeyConstraint('policy_id', 'uscc', 'period'),
    sa.UniqueConstraint('application_id')
    )
    op.create_table('workflow_exclusion_claims',
    sa.Column('exclusion_group', sa.String(length=80), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['workflow_applications.id'], ),
    sa.PrimaryKeyConstraint('exclusion_group', 'uscc', 'period'),
    sa.UniqueConstraint('application_id')
    )
    op.create_table('workflow_opinions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=128), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('reviewer', sa.String(length=128), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['workflow_applications.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'round', 'department', 'step', name='ux_workflow_opinions_one')
    )
    op.create_table('workflow_payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reservation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transfer_key', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_fen', sa.BigInteger(), nullable=True),
    sa.Column('bank_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_name', sa.String(length=256), nullable=False),
    sa.Column('account_no', sa.String(length=64), nullable=False),
    sa.Column('bank', sa.String(length=128), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('open_application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('bank_ref', sa.String(length=128), nullable=True),
    sa.Column('failure', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('amount_fen > 0', name='ck_workflow_payments_positive'),
    sa.ForeignKeyConstraint(['application_id'], ['workflow_applications.id'], ),
    sa.ForeignKeyConstraint(['bank_account_id'], ['workflow_bank_accounts.id'], ),
    sa.ForeignKeyConstraint(['batch_id'], ['workflow_payment_batches.id'], ),
    sa.ForeignKeyConstraint(['reservation_id'], ['workflow_journals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_application_id'),
    sa.UniqueConstraint('transfer_key')
    )
    op.create_index('ix_workflow_payments_application', 'workflow_payments', ['application_id'], unique=False)
    op.create_index('ix_workflow_payments_batch', 'workflow_payments', ['batch_id', 'id'], unique=False)
    op.create_table('workflow_ratings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('follow_up_due', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name='ck_workflow_ratings_level'),
    sa.ForeignKeyConstraint(['application_id'], ['workflow_applications.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id')
    )
    op.create_table('workflow_transitions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['workflow_applications.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_workflow_transitions_application', 'workflow_transitions', ['application_id', 'id'], unique=False)
    statements = POSTGRES_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for table in ("workflow_ratings", "workflow_idempotency", "workflow_grant_batches", "workflow_payments",
                  "workflow_payment_batches", "workflow_exclusion_claims", "workflow_awards", "workflow_opinions",
                  "workflow_transitions", "workflow_applications", "workflow_entries", "workflow_journals",
                  "workflow_bank_accounts", "workflow_accounts"):
        op.drop_table(table)
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION workflow_journal_balanced()")
        op.execute("DROP FUNCTION workflow_ledger_refuse()")
