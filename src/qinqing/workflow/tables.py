"""Tables of the workflow piece (created by the alembic branch in qinqing/migrations/workflow).

Money is an integer number of 分 (``BigInteger``), never a float. The ledger is ``workflow_accounts`` +
``workflow_journals`` + ``workflow_entries``: every journal's entries sum to zero, entries are never
updated or deleted (PostgreSQL and SQLite triggers refuse it), and an account's balance is the sum of its
entries. ``balance_after`` is that running sum, written under the account's row lock, so the latest one
is the balance; ``negative_allowed`` (only funding accounts) is the one way a balance may go below zero.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ID = BigInteger().with_variant(Integer(), "sqlite")  # INTEGER PRIMARY KEY autoincrements on SQLite
FEN = BigInteger()

accounts = Table(
    "workflow_accounts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("code", String(256), nullable=False, unique=True),  # funding:P, budget:P, payable:P:E, paid:P:E, returned:P
    Column("kind", String(16), nullable=False),
    Column("policy_id", String(128), nullable=False),
    Column("uscc", String(18), nullable=True),
    Column("negative_allowed", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

journals = Table(
    "workflow_journals",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),  # at most one journal per key: a replay finds it
    Column("kind", String(16), nullable=False),  # fund reserve post void clawback bank_return
    Column("policy_id", String(128), nullable=False),
    Column("application_id", ID, nullable=True),
    Column("payment_id", ID, nullable=True),
    # The reservation a post or void resolves: at most once (a partial post releases the remainder in itself).
    Column("resolves", ID, ForeignKey("workflow_journals.id"), nullable=True, unique=True),
    Column("actor", String(128), nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_workflow_journals_application", "application_id"),
)

entries = Table(
    "workflow_entries",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("journal_id", ID, ForeignKey("workflow_journals.id"), nullable=False),
    Column("account_id", ID, ForeignKey("workflow_accounts.id"), nullable=False),
    Column("amount_fen", FEN, nullable=False),  # + credit, − debit
    Column("balance_after", FEN, nullable=False),
    Column("negative_allowed", Boolean, nullable=False),
    CheckConstraint("amount_fen <> 0", name="ck_workflow_entries_nonzero"),
    CheckConstraint("balance_after >= 0 OR negative_allowed", name="ck_workflow_entries_not_overdrawn"),
    Index("ix_workflow_entries_account", "account_id", "id"),
    Index("ix_workflow_entries_journal", "journal_id"),
)

applications = Table(
    "workflow_applications",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("policy_id", String(128), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("enterprise_name", String(256), nullable=False),
    Column("mode", String(16), nullable=False),  # 申报 即申即享 免申即享 遴选
    Column("state", String(16), nullable=False),
    Column("period", String(16), nullable=False),  # the award period: the calendar year of the match date
    Column("amount_fen", FEN, nullable=True),
    Column("as_of", Date, nullable=False),
    # Frozen at submission: the outcome and per-condition trace the enterprise saw, the facts it declared,
    # and the materials asked for (only for conditions the data could not verify).
    Column("outcome", Text, nullable=False),
    Column("declared", Text, nullable=False),
    Column("materials_required", Text, nullable=False),
    Column("materials", Text, nullable=False),
    Column("bank_account_id", ID, ForeignKey("workflow_bank_accounts.id"), nullable=True),
    Column("departments", Text, nullable=False),  # JSON list: the reviewing departments (two or more = 联审)
    Column("steps", Integer, nullable=False),
    Column("round", Integer, nullable=False),  # review round: +1 after each 补正
    Column("deadline", Date, nullable=True),  # the running time limit (review, 补正, 公示/确认, payment)
    Column("deadline_kind", String(16), nullable=True),
    Column("calendar", String(64), nullable=True),  # the holiday calendar the deadline was computed with
    Column("reason", Text, nullable=True),  # the last decision's reason (驳回, 退回补正)
    Column("grant_batch_id", ID, nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("paid_at", DateTime(timezone=True), nullable=True),
    Index("ix_workflow_applications_uscc", "uscc", "id"),
    Index("ix_workflow_applications_state", "state", "policy_id"),
)

transitions = Table(
    "workflow_transitions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("application_id", ID, ForeignKey("workflow_applications.id"), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_workflow_transitions_application", "application_id", "id"),
)

opinions = Table(
    "workflow_opinions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("application_id", ID, ForeignKey("workflow_applications.id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("department", String(128), nullable=False),
    Column("step", Integer, nullable=False),
    Column("decision", String(16), nullable=False),  # approve reject return
    Column("reviewer", String(128), nullable=False),
    Column("comment", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("application_id", "round", "department", "step", name="ux_workflow_opinions_one"),
)

# One award per (policy, enterprise, period), and one per (exclusion group, enterprise, period): the
# database refuses the second, whatever arrives at once. Released (deleted) only when the reservation is voided.
awards = Table(
    "workflow_awards",
    metadata,
    Column("policy_id", String(128), primary_key=True),
    Column("uscc", String(18), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("application_id", ID, ForeignKey("workflow_applications.id"), nullable=False, unique=True),
)

exclusion_claims = Table(
    "workflow_exclusion_claims",
    metadata,
    Column("exclusion_group", String(80), primary_key=True),
    Column("uscc", String(18), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("application_id", ID, ForeignKey("workflow_applications.id"), nullable=False, unique=True),
)

bank_accounts = Table(
    "workflow_bank_accounts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False),
    Column("account_name", String(256), nullable=False),
    Column("account_no", String(64), nullable=False),
    Column("bank", String(128), nullable=False),
    # Set when the account name equals the registered name bound to the USCC; payments go only here.
    Column("verified_at", DateTime(timezone=True), nullable=True),
    Column("verified_by", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("uscc", "account_no", name="ux_workflow_bank_accounts_no"),
)

payment_batches = Table(
    "workflow_payment_batches",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("policy_id", String(128), nullable=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("lines", Integer, nullable=False),
    Column("total_fen", FEN, nullable=False),
    Column("checksum", String(64), nullable=False),  # SHA-256 of the bank file's lines
)

payments = Table(
    "workflow_payments",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("batch_id", ID, ForeignKey("workflow_payment_batches.id"), nullable=False),
    Column("application_id", ID, ForeignKey("workflow_applications.id"), nullable=False),
    Column("reservation_id", ID, ForeignKey("workflow_journals.id"), nullable=False),
    Column("transfer_key", String(64), nullable=False, unique=True),  # the bank file's line key
    Column("amount_fen", FEN, nullable=False),
    Column("paid_fen", FEN, nullable=True),
    Column("bank_account_id", ID, ForeignKey("workflow_bank_accounts.id"), nullable=False),
    Column("account_name", String(256), nullable=False),
    Column("account_no", String(64), nullable=False),
    Column("bank", String(128), nullable=False),
    Column("state", String(16), nullable=False),  # 待拨付 已拨付 拨付失败 已退回
    # The application while the payment is open, NULL once it is resolved: at most one open payment per
    # application, enforced by the unique index.
    Column("open_application_id", ID, nullable=True, unique=True),
    Column("bank_ref", String(128), nullable=True),
    Column("failure", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("amount_fen > 0", name="ck_workflow_payments_positive"),
    Index("ix_workflow_payments_batch", "batch_id", "id"),
    Index("ix_workflow_payments_application", "application_id"),
)

grant_batches = Table(
    "workflow_grant_batches",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("policy_id", String(128), nullable=False),
    Column("period", String(16), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("objection_until", Date, nullable=False),
    Column("confirm_until", Date, nullable=False),
    Column("calendar", String(64), nullable=False),
    Column("candidates", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("skipped_budget", Integer, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Idempotency keys (draft-ietf-httpapi-idempotency-key-header): the first answer to a key, errors
# included, replayed for the same payload; kept at least 24 h.
idempotency = Table(
    "workflow_idempotency",
    metadata,
    Column("scope", String(256), primary_key=True),  # caller and route/command
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_workflow_idempotency_expires", "expires_at"),
)

ratings = Table(
    "workflow_ratings",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("application_id", ID, ForeignKey("workflow_applications.id"), nullable=False, unique=True),
    Column("level", Integer, nullable=False),  # 1 非常满意 … 5 非常不满意
    Column("comment", Text, nullable=True),
    Column("follow_up_due", Date, nullable=True),  # 差评: 回访 due
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("level BETWEEN 1 AND 5", name="ck_workflow_ratings_level"),
)
