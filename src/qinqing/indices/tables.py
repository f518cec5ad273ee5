"""The indices piece's tables (created by the ``indices`` migrations branch, ``migrations/indices/``).

- ``indices_runs`` — one computation of an index for a period (recomputing a period replaces it): the
  configuration's text and hash, who and when, the summary (weights used, indicators dropped, units left out);
- ``indices_unit_results`` — per unit: overall score, rank, tier and why, Monte Carlo rank interval, sample;
- ``indices_node_scores`` — per unit and node of the tree: score and rank;
- ``indices_values`` — per unit and indicator: raw value, value used, numerator and denominator, imputation
  method (empty when none), sample, and the provenance (the records the number came from);
- ``indices_cases`` — 督办 cases and their 整改: the reason, the unit's rectification report, the supervisor's
  acceptance (or return), the publication date. Every state change is also in the audit trail.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
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
ID = BigInteger().with_variant(Integer(), "sqlite")

runs = Table(
    "indices_runs", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("index_id", String(64), nullable=False),
    Column("index_name", String(128), nullable=False),
    Column("period", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("config_text", Text, nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("computed_by", String(64), nullable=False),
    Column("units", Integer, nullable=False),
    Column("seed", BigInteger, nullable=True),
    Column("summary", Text, nullable=False),
    UniqueConstraint("index_id", "period", name="uq_indices_runs_index_period"),
)

unit_results = Table(
    "indices_unit_results", metadata,
    Column("run_id", ID, ForeignKey("indices_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("unit", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("score", Float, nullable=True),
    Column("rank", Integer, nullable=True),
    Column("ranked", Integer, nullable=False),
    Column("tier", String(64), nullable=True),
    Column("tier_reason", String(256), nullable=False),
    Column("rank_median", Float, nullable=True),
    Column("rank_low", Float, nullable=True),
    Column("rank_high", Float, nullable=True),
    Column("sample", Float, nullable=True),
    Column("excluded", String(256), nullable=False),
    Column("imputed", Integer, nullable=False),
)

node_scores = Table(
    "indices_node_scores", metadata,
    Column("run_id", ID, ForeignKey("indices_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("unit", String(64), primary_key=True),
    Column("node_id", String(64), primary_key=True),
    Column("score", Float, nullable=True),
    Column("rank", Integer, nullable=True),
)

values = Table(
    "indices_values", metadata,
    Column("run_id", ID, ForeignKey("indices_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("unit", String(64), primary_key=True),
    Column("indicator_id", String(64), primary_key=True),
    Column("raw", Float, nullable=True),
    Column("value", Float, nullable=True),
    Column("numerator", Float, nullable=True),
    Column("denominator", Float, nullable=True),
    Column("normalised", Float, nullable=True),
    Column("imputed", String(32), nullable=False),
    Column("sample", Float, nullable=True),
    Column("provenance", Text, nullable=True),
)

cases = Table(
    "indices_cases", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("index_id", String(64), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("unit_name", String(128), nullable=False),
    Column("opened_period", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False),  # open → reported → accepted → published; reported → open
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("report", Text, nullable=True),
    Column("reported_at", DateTime(timezone=True), nullable=True),
    Column("reported_by", String(64), nullable=True),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    Column("reviewed_by", String(64), nullable=True),
    Column("review_note", Text, nullable=True),
    Column("accepted", Boolean, nullable=True),
    Column("published_on", Date, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("index_id", "unit", "opened_period", name="uq_indices_cases_unit_period"),
    Index("ix_indices_cases_state", "index_id", "state"),
)
