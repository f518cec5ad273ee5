"""The run history's tables (created by the alembic branch in qinqing/migrations/matching).

One row per published run in ``matching_runs`` (what it was computed from, its totals), and its
per-policy and per-region counts beside it. Rows are only ever added: indices and appeals read how
a policy's reach or a region's money changed from run to run, long after the run files are pruned.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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

ID = BigInteger().with_variant(Integer(), "sqlite")

runs = Table(
    "matching_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("engine", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False, index=True),
    Column("policies", BigInteger, nullable=False),
    Column("enterprises", BigInteger, nullable=False),
    Column("pairs_evaluated", BigInteger, nullable=False),
    Column("eligible", BigInteger, nullable=False),
    Column("unknown", BigInteger, nullable=False),
    Column("amount_total", Numeric(38, 4), nullable=False),
    Column("format_version", Integer, nullable=False),
    Column("catalogue_revision", String(64), nullable=True),
    Column("registry_rows", BigInteger, nullable=True),
    Column("registry_hash", String(128), nullable=True),
    Column("fields", Text, nullable=False),  # JSON list: the run's missing-mask field table
)

run_policies = Table(
    "matching_run_policies",
    metadata,
    Column("run_id", String(64), ForeignKey("matching_runs.run_id"), primary_key=True),
    Column("policy_id", String(128), primary_key=True, index=True),
    Column("version", Integer, nullable=True),
    Column("plan_hash", String(128), nullable=True),
    Column("eligible", BigInteger, nullable=False),
    Column("unknown", BigInteger, nullable=False),
    Column("ineligible", BigInteger, nullable=False),
    Column("amount_total", Numeric(38, 4), nullable=False),
)

run_regions = Table(
    "matching_run_regions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("matching_runs.run_id"), nullable=False, index=True),
    Column("region_code", String(12), nullable=True, index=True),  # None: enterprises without a region code
    Column("registered", BigInteger, nullable=False),
    Column("enterprises", BigInteger, nullable=False),
    Column("eligible", BigInteger, nullable=False),
    Column("unknown", BigInteger, nullable=False),
    Column("amount_total", Numeric(38, 4), nullable=False),
)
