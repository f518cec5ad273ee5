"""Tables of the appeals piece (created by the alembic branch in qinqing/migrations/appeals).

The 工单 follows GB/T 33358-2016's flow sheet: 基本信息 (number, channel, enterprise, contact, confidentiality),
事项内容 (kind, category, region, description, the policy or application it concerns), 办理情况
(assignments, updates, replies), 督办 (deadlines and their escalation, supervision) and 回访结果 (ratings).
Every state change is also an ``appeals_updates`` row (the event log, as FixMyStreet keeps ``problem_state``
on each update) and an audit row.
"""

from __future__ import annotations

from sqlalchemy import (
                        Boolean,
                        Column,
                        DateTime,
                        Float,
                        ForeignKey,
                        Index,
                        Integer,
                        LargeBinary,
                        MetaData,
                        String,
                        Table,
                        Text,
)

metadata = MetaData()

config_revisions = Table(
    "appeals_config_revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("note", String(256), nullable=True),
    Column("loaded_by", String(64), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

appeals = Table(
    "appeals_appeals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(24), nullable=True, unique=True),  # 工单编号, set right after the insert
    Column("token", String(32), nullable=False, unique=True),  # Open311 token
    Column("channel", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("category", String(32), nullable=True),  # None: unclassified, waiting for manual dispatch
    Column("suggested_category", String(32), nullable=True),
    Column("suggestion_confidence", Float, nullable=True),
    Column("dispatch_class", String(16), nullable=False),
    Column("region_code", String(6), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    # 基本信息: the enterprise and its contact (personal fields: never in a public listing)
    Column("uscc", String(18), nullable=True),
    Column("enterprise_name", String(200), nullable=True),
    Column("contact_name", String(64), nullable=True),
    Column("contact_phone", String(32), nullable=True),
    Column("contact_email", String(128), nullable=True),
    Column("disclose_identity", Boolean, nullable=False),  # departments see who filed it
    Column("confidential", Boolean, nullable=False),  # 保密 on request (GB/T 33358): masked, never public
    Column("public", Boolean, nullable=False),  # may appear (without identity) in the Open311 listing
    Column("policy_ref", String(128), nullable=True),
    Column("application_ref", String(128), nullable=True),
    Column("address_string", String(256), nullable=True),
    Column("lat", Float, nullable=True),
    Column("long", Float, nullable=True),
    Column("state", String(24), nullable=False),
    Column("lead_department", String(128), nullable=True),
    Column("owner_department", String(128), nullable=False),  # 首接负责: the desk until a department signs
    Column("rehandle_count", Integer, nullable=False),
    Column("merged_into", Integer, ForeignKey("appeals_appeals.id"), nullable=True),
    Column("transfer_target", String(8), nullable=True),
    Column("legal_route", String(32), nullable=True),
    Column("reply_text", Text, nullable=True),
    Column("config_revision", Integer, nullable=True),  # None: the shipped default
    Column("created_by", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("dispatched_at", DateTime(timezone=True), nullable=True),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("replied_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Index("ix_appeals_appeals_state", "state"),
    Index("ix_appeals_appeals_uscc", "uscc", "created_at"),
    Index("ix_appeals_appeals_lead", "lead_department", "state"),
    Index("ix_appeals_appeals_created", "created_at"),
)

assignments = Table(
    "appeals_assignments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("appeal_id", Integer, ForeignKey("appeals_appeals.id"), nullable=False),
    Column("department", String(128), nullable=False),
    Column("role", String(16), nullable=False),  # lead (主办) / assisting (协办)
    Column("status", String(16), nullable=False),  # pending / accepted / returned / withdrawn
    Column("dispatched_at", DateTime(timezone=True), nullable=False),
    Column("accept_due_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("return_reason", Text, nullable=True),
    Column("return_upheld", Boolean, nullable=True),  # the desk agreed the item was not this department's
    Index("ix_appeals_assignments_appeal", "appeal_id"),
    Index("ix_appeals_assignments_department", "department", "status"),
)

updates = Table(
    "appeals_updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("appeal_id", Integer, ForeignKey("appeals_appeals.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("department", String(128), nullable=True),
    Column("action", String(32), nullable=False),
    Column("from_state", String(24), nullable=True),
    Column("to_state", String(24), nullable=True),
    Column("note", Text, nullable=True),
    Column("visible", Boolean, nullable=False),  # shown to the enterprise (and in Open311 updates if public)
    Index("ix_appeals_updates_appeal", "appeal_id", "id"),
    Index("ix_appeals_updates_at", "at"),
)

deadlines = Table(
    "appeals_deadlines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("appeal_id", Integer, ForeignKey("appeals_appeals.id"), nullable=False),
    Column("assignment_id", Integer, ForeignKey("appeals_assignments.id"), nullable=True),
    Column("clock", String(16), nullable=False),
    Column("department", String(128), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("hours", Float, nullable=True),
    Column("working_days", Integer, nullable=True),
    Column("extended_days", Integer, nullable=False),
    Column("calendar_version", String(160), nullable=False),
    Column("calendar_covered", Boolean, nullable=False),
    Column("source", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # open / met / late / cancelled
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("warned_at", DateTime(timezone=True), nullable=True),
    Column("escalation_level", Integer, nullable=False),
    Index("ix_appeals_deadlines_open", "status", "due_at"),
    Index("ix_appeals_deadlines_appeal", "appeal_id"),
)

extensions = Table(
    "appeals_extensions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("appeal_id", Integer, ForeignKey("appeals_appeals.id"), nullable=False),
    Column("deadline_id", Integer, ForeignKey("appeals_deadlines.id"), nullable=False),
    Column("department", String(128), nullable=False),
    Column("working_days", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending / approved / rejected
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decision_note", Text, nullable=True),
    Index("ix_appeals_extensions_appeal", "appeal_id"),
)

ratings = Table(
    "appeals_ratings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("appeal_id", Integer, ForeignKey("appeals_appeals.id"), nullable=False),
    Column("round", Integer, nullable=False),  # 1 for the first reply, 2 after 重办, …
    Column("level", Integer, nullable=False),  # 5 非常满意 … 1 非常不满意
    Column("resolved", Boolean, nullable=True),  # 回访: 问题是否解决
    Column("comment", Text, nullable=True),
    Column("via", String(16), nullable=False),  # enterprise (portal/API) / follow_up (an officer's 回访 call)
    Column("rated_by", String(64), nullable=False),
    Column("rated_at", DateTime(timezone=True), nullable=False),
    Column("review_status", String(16), nullable=False),  # none / requested / voided / upheld
    Column("review_reason", Text, nullable=True),
    Column("review_requested_by", String(64), nullable=True),
    Column("reviewed_by", String(64), nullable=True),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    Column("review_note", Text, nullable=True),
    Index("ix_appeals_ratings_appeal", "appeal_id", "round"),
)

attachments = Table(
    "appeals_attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("appeal_id", Integer, ForeignKey("appeals_appeals.id"), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_appeals_attachments_appeal", "appeal_id"),
)

duplicates = Table(
    "appeals_duplicates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("appeal_id", Integer, ForeignKey("appeals_appeals.id"), nullable=False),
    Column("candidate_id", Integer, ForeignKey("appeals_appeals.id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("basis", String(32), nullable=False),  # same_enterprise / same_category_region
    Column("status", String(16), nullable=False),  # proposed / merged / dismissed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(64), nullable=True),
    Index("ix_appeals_duplicates_appeal", "appeal_id"),
)
