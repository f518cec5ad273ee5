"""What a run file holds: its tables, the Arrow schemas the store takes, and the records it answers with.

Format 2 (``FORMAT_VERSION``) adds to format 1 the run's provenance (``provenance``, ``run_policies``),
the field table its ``missing`` masks are decoded with (``missing_fields``), and per-region counts
(``region_counts``). A mask is one or more UBIGINT words: bit ``i`` of the field table is bit ``i % 64`` of
word ``i // 64`` (column ``missing`` for word 0, ``missing_<k>`` beyond), so a schema past 64 fields
adds a column instead of changing the meaning of the old ones. A run is always decoded with its own
table, never with today's schema (a field added, removed or reordered since does not shift its names).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa

from qinqing.matching.pairs import FIELD_NAMES, STATUS_NAMES

FORMAT_VERSION = 2
KEPT_STATUSES = ("eligible", "unknown")
WORD_BITS = 64

MATCH_SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("policy_id", pa.string()),
        ("status", pa.string()),
        ("amount", pa.decimal128(18, 4)),
        ("failed", pa.list_(pa.string())),
        ("missing", pa.list_(pa.string())),
    ]
)
COUNT_SCHEMA = pa.schema(
    [
        ("policy_id", pa.string()),
        ("eligible", pa.int64()),
        ("unknown", pa.int64()),
        ("ineligible", pa.int64()),
        ("amount_total", pa.decimal128(38, 4)),
    ]
)
STATUS_SQL = "[" + ", ".join(f"'{s}'" for s in STATUS_NAMES) + "]"


@dataclass(frozen=True)
class Match:
    """One kept pair: an enterprise that is eligible for, or may be eligible for, a policy."""

    uscc: str
    policy_id: str
    status: str
    amount: Decimal | None
    failed: tuple[str, ...]
    missing: tuple[str, ...]
    run_id: str
    computed_at: datetime


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    as_of: date
    engine: str
    started_at: datetime
    finished_at: datetime
    policies: int
    enterprises: int
    pairs_evaluated: int
    note: str


@dataclass(frozen=True)
class PolicyCount:
    policy_id: str
    eligible: int
    unknown: int
    ineligible: int
    amount_total: Decimal


@dataclass(frozen=True)
class RegionCount:
    """One region code of a run (the code the run scoped its enterprises by; None when unknown)."""

    region_code: str | None
    registered: int  # enterprises of the run in this region
    enterprises: int  # with at least one eligible policy
    eligible: int  # eligible pairs
    unknown: int  # unknown pairs
    amount_total: Decimal  # sum of eligible amounts


@dataclass(frozen=True)
class PolicyVersion:
    """Which version of a policy a run matched, and the hash of the plan it evaluated."""

    policy_id: str
    version: int | None = None
    plan_hash: str | None = None


@dataclass(frozen=True)
class RunProvenance:
    """What a run was computed from, recorded in the run file and in the run history.

    ``policies`` takes ``PolicyVersion``s or ``(policy_id, version, plan_hash)`` tuples. ``fields`` is the
    table the run's ``missing`` masks are encoded with (bit i ↔ ``fields[i]``): ``pairs.FIELD_NAMES``, the
    schema order the engines fold their masks to. A run is written in the store's ``format_version``; a
    format-1 run read back has only its field table."""

    catalogue_revision: str | None = None
    policies: tuple[PolicyVersion, ...] = ()
    registry_rows: int | None = None
    registry_hash: str | None = None
    format_version: int = FORMAT_VERSION
    fields: tuple[str, ...] = FIELD_NAMES

    def __post_init__(self) -> None:
        policies = tuple(p if isinstance(p, PolicyVersion) else PolicyVersion(*p) for p in self.policies)
        object.__setattr__(self, "policies", policies)
        object.__setattr__(self, "fields", tuple(self.fields))
        if self.catalogue_revision is not None:
            object.__setattr__(self, "catalogue_revision", str(self.catalogue_revision))
        if len(set(self.fields)) != len(self.fields):
            raise ValueError("missing-mask field table names a field twice")
        if not 1 <= self.format_version <= FORMAT_VERSION:
            raise ValueError(f"unknown results format {self.format_version} (this store knows 1 to {FORMAT_VERSION})")


@dataclass(frozen=True)
class RunRecord:
    """A run as the history keeps it (for ever, also after its file is pruned)."""

    info: RunInfo
    provenance: RunProvenance
    published_at: datetime
    policy_counts: dict[str, PolicyCount] = field(default_factory=dict)
    region_counts: list[RegionCount] = field(default_factory=list)


def mask_words(fields: Sequence[str]) -> int:
    return max(1, -(-len(fields) // WORD_BITS))


def word_column(k: int) -> str:
    return "missing" if k == 0 else f"missing_{k}"


def word_columns(fields: Sequence[str]) -> list[str]:
    return [word_column(k) for k in range(mask_words(fields))]


def _quoted(names: Iterable[str]) -> str:
    return "[" + ", ".join("'" + n.replace("'", "''") + "'" for n in names) + "]::VARCHAR[]"


def decode_missing_sql(fields: Sequence[str], alias: str = "m") -> str:
    """SQL spelling a pair's mask words out as the list of its missing fields' names, in table order."""
    parts = []
    for k in range(mask_words(fields)):
        names = fields[k * WORD_BITS:(k + 1) * WORD_BITS]
        parts.append(f"list_filter({_quoted(names)}, lambda f, i: "
                     f"(({alias}.{word_column(k)} >> (i - 1)::UBIGINT) & 1::UBIGINT) = 1)")
    return parts[0] if len(parts) == 1 else f"list_concat({', '.join(parts)})"


def encode_missing_sql(fields: Sequence[str], column: str = "missing") -> list[str]:
    """SQL per mask word: a list of field names (``column``) → that word of the mask."""
    position = f"list_position({_quoted(fields)}, f)"
    return [f"coalesce(list_sum(list_transform(list_filter({column}, lambda f: ({position} - 1) // {WORD_BITS} = {k}), "
            f"lambda f: 1::UBIGINT << (({position} - 1) % {WORD_BITS})::UBIGINT)), 0)::UBIGINT"
            for k in range(mask_words(fields))]


def run_ddl(fields: Sequence[str]) -> str:
    """The tables a run file starts with (``pairs``, counts and the view are made at publish)."""
    words = ", ".join(f"{c} UBIGINT" for c in word_columns(fields))
    return f"""
CREATE TABLE run (
    run_id VARCHAR PRIMARY KEY, as_of DATE, engine VARCHAR, started_at TIMESTAMP,
    finished_at TIMESTAMP, policies BIGINT, enterprises BIGINT, pairs_evaluated BIGINT, note VARCHAR);
CREATE TABLE provenance (format_version INTEGER, catalogue_revision VARCHAR, registry_rows BIGINT,
                         registry_hash VARCHAR);
CREATE TABLE run_policies (policy_id VARCHAR, version BIGINT, plan_hash VARCHAR);
CREATE TABLE missing_fields (bit INTEGER, name VARCHAR);
CREATE TABLE enterprises (ent INTEGER, uscc VARCHAR, region_code VARCHAR, industry_code VARCHAR);
CREATE TABLE policies (pol INTEGER, policy_id VARCHAR);
CREATE TABLE staging (ent INTEGER, pol INTEGER, status TINYINT, amount DECIMAL(18,4), {words},
                      computed_at TIMESTAMP);
CREATE TABLE staging_counts (
    policy_id VARCHAR, eligible BIGINT, unknown BIGINT, ineligible BIGINT, amount_total DECIMAL(38,4));
"""


def decode_sql(fields: Sequence[str], where: str) -> str:
    """Kept pairs matching ``where`` (over ``pairs``' own columns), spelt out as MATCH rows."""
    return f"""
SELECT e.uscc, p.policy_id, {STATUS_SQL}[m.status + 1] AS status, m.amount, []::VARCHAR[] AS failed,
       {decode_missing_sql(fields)} AS missing, (SELECT run_id FROM run) AS run_id, m.computed_at
FROM (SELECT * FROM pairs WHERE {where}) m JOIN enterprises e USING (ent) JOIN policies p USING (pol)
"""


def matches_view(fields: Sequence[str]) -> str:
    return f"""
CREATE VIEW matches AS
SELECT e.uscc, p.policy_id, {STATUS_SQL}[m.status + 1] AS status, m.amount,
       []::VARCHAR[] AS failed, {decode_missing_sql(fields)} AS missing,
       (SELECT run_id FROM run) AS run_id, m.computed_at, m.ent, m.pol
FROM pairs m JOIN enterprises e USING (ent) JOIN policies p USING (pol)
"""


def region_counts_sql(where: str = "TRUE") -> str:
    """Per region code of the enterprises matching ``where`` (over ``enterprises``): what RegionCount holds."""
    return f"""
SELECT e.region_code, count(*)::BIGINT AS registered,
       count(*) FILTER (p.eligible > 0)::BIGINT AS enterprises,
       coalesce(sum(p.eligible), 0)::BIGINT AS eligible, coalesce(sum(p.unknown), 0)::BIGINT AS unknown,
       coalesce(sum(p.amount), 0)::DECIMAL(38,4) AS amount_total
FROM (SELECT * FROM enterprises WHERE {where}) e LEFT JOIN (
    SELECT ent, count(*) FILTER (status = 0) AS eligible, count(*) FILTER (status = 1) AS unknown,
           sum(amount) FILTER (status = 0) AS amount
    FROM pairs {"" if where == "TRUE" else f"WHERE ent IN (SELECT ent FROM enterprises WHERE {where})"}
    GROUP BY ent) p USING (ent)
GROUP BY e.region_code
"""


def match_from_row(row: tuple) -> Match:
    uscc, policy_id, status, amount, failed, missing, run_id, computed_at = row
    return Match(uscc, policy_id, status, amount, tuple(failed or ()), tuple(missing or ()), run_id, computed_at)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select and cast the columns a store table needs, by name."""
    return pa.table([table.column(f.name).cast(f.type) for f in schema], schema=schema)
