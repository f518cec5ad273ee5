"""Tables of the policy catalogue (created by the alembic branch in qinqing/migrations/catalogue).

A policy is a row in ``catalogue_policies`` (its owner and which version is the draft and which is
published) plus one append-only row per saved version in ``catalogue_versions`` holding the YAML
text and the metadata the browse filters need.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

metadata = MetaData()

policies = Table(
    "catalogue_policies",
    metadata,
    Column("policy_id", String(128), primary_key=True),
    Column("department", String(128), nullable=False),
    Column("draft_version", Integer, nullable=False),
    Column("published_version", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
)

versions = Table(
    "catalogue_versions",
    metadata,
    Column("policy_id", String(128), ForeignKey("catalogue_policies.policy_id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("yaml_text", Text, nullable=False),
    Column("title", String(512), nullable=False),
    Column("issuer", String(256), nullable=False),
    Column("level", String(8), nullable=False),
    Column("region_code", String(6), nullable=False),
    Column("industries", String(512), nullable=False),  # space-separated GB/T 4754 prefixes; "" = all
    Column("support_type", String(64), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("budget", Numeric(18, 4), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
)

# One row per publication: who made which version live, and the reason when the preview was over budget.
publications = Table(
    "catalogue_publications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("policy_id", String(128), ForeignKey("catalogue_policies.policy_id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("published_by", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("over_budget", Boolean, nullable=False),
    Column("reason", Text, nullable=True),
    Column("approved_by", String(64), nullable=True),
)

# A supervisor's approval of one version whose scope is wider than its officer's remit.
remit_approvals = Table(
    "catalogue_remit_approvals",
    metadata,
    Column("policy_id", String(128), ForeignKey("catalogue_policies.policy_id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("approved_by", String(64), nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
)

# Compiled forms of a version (e.g. the fast path's plan), keyed by the compiler that made them: a
# cache that can always be rebuilt from yaml_text, so a changed compiler simply writes new rows.
compiled = Table(
    "catalogue_compiled",
    metadata,
    Column("policy_id", String(128), ForeignKey("catalogue_policies.policy_id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("compiler", String(64), primary_key=True),
    Column("as_of", String(10), primary_key=True),  # "" when the compiled form does not read the date
    Column("digest", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
