"""Tables of the audit trail (created by the alembic branch in qinqing/migrations/audit).

``audit_log`` holds one append-only row per state-changing action, chained by hash (see
``qinqing.audit.chain`` for the canonical serialisation). ``audit_head`` holds exactly one row, the
position and hash of the last appended row: every append locks it first, so two writers can never
fork the chain, and ``audit verify`` compares it with the last row to notice rows cut off the end.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),  # 1, 2, 3, … in chain order
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("object_id", String(256), nullable=False),
    Column("before_hash", String(64), nullable=True),
    Column("after_hash", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),  # 0 while the trail is empty
    Column("row_hash", String(64), nullable=False),  # GENESIS_HASH while the trail is empty
    CheckConstraint("id = 1", name="audit_head_single_row"),
)
