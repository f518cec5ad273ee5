"""Full and incremental matching runs into the results store.

``full_run`` matches every active policy against the registry and publishes a new run atomically;
``rematch_enterprise`` and ``rematch_policy`` replace only the rows of what changed, in one
transaction of the current run. All three use the same engine, so an incremental run gives the
rows a full run would (tests/matching/test_run.py checks it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from qinqing.matching.engines.vectorised import MatchBatch, VectorisedMatcher
from qinqing.matching.errors import UnknownEngine
from qinqing.matching.pairs import EncodedPairs
from qinqing.matching.single import EnterpriseMatcher
from qinqing.matching.results import ResultStore
from qinqing.matching.scope import in_scope, select_policies

Progress = Callable[[int, int], None]
ENGINES = ("vectorised", "duckdb", "spark")


@dataclass(frozen=True)
class RunSummary:
    run_id: str | None
    as_of: date
    engine: str
    policies: int
    skipped_expired: int
    enterprises: int
    pairs_evaluated: int
    eligible: int
    unknown: int
    seconds: float
    refused: dict[str, str] = field(default_factory=dict)  # policy id → why it was not matched


_SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "money": "DECIMAL(18,4)", "number": "DOUBLE",
              "boolean": "BOOLEAN", "date": "DATE"}


def facts_connection(enterprises: pa.Table, as_of: date) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding ``facts``: the stored fields (absent ones as NULL, i.e. missing)
    plus the derived ones as of ``as_of``."""
    from qinqing.registry.derived import derived_sql
    from qinqing.registry.schema import STORED_FIELDS

    con = duckdb.connect()
    con.register("_enterprises", enterprises)
    have = set(enterprises.column_names)
    absent = [f"NULL::{_SQL_TYPES[f.type.value]} AS \"{f.name}\"" for f in STORED_FIELDS if f.name not in have]
    if absent:
        con.execute(f"CREATE TEMP VIEW _stored AS SELECT *, {', '.join(absent)} FROM _enterprises")
    else:
        con.execute("CREATE TEMP VIEW _stored AS SELECT * FROM _enterprises")
    derived = ", ".join(f'{e.sql(dialect="duckdb")} AS "{name}"'
                        for name, e in derived_sql(as_of).items() if name not in have)
    # _ent numbers enterprises in uscc order, as the results store does (RunWriter), so that
    # pairs reach the store already numbered.
    # Rows sorted by region code: a region's scope is a range of rows, found by zone maps.
    con.execute(f"CREATE TABLE facts AS SELECT *{', ' + derived if derived else ''}, "
                "(row_number() OVER (ORDER BY uscc) - 1)::INTEGER AS _ent FROM _stored "
                "ORDER BY region_code NULLS LAST, uscc")
    con.execute("DROP VIEW _stored")
    con.unregister("_enterprises")
    return con


def match_batches(policies: Sequence[Any], enterprises: pa.Table, as_of: date, *, engine: str = "vectorised",
                  progress: Progress | None = None, all_pairs: bool = False) -> Iterable[MatchBatch]:
    """Kept pairs (every pair with ``all_pairs``) and per-policy counts, batch by batch, from the
    chosen engine."""
    if engine == "vectorised":
        con = facts_connection(enterprises, as_of)
        yield from VectorisedMatcher(policies, as_of).run(con, progress=progress, all_pairs=all_pairs)
        return
    if engine == "duckdb":
        from qinqing.matching.engines.duckdb import match
    elif engine == "spark":
        from qinqing.matching.engines.spark import match
    else:
        raise UnknownEngine(f"未知的匹配引擎：{engine}（可选：{'、'.join(ENGINES)}）", engine=engine)
    table = match(policies, enterprises, as_of)
    if progress:
        progress(table.num_rows, table.num_rows)
    yield batch_from_all_pairs(table, keep_all=all_pairs)


@dataclass
class _NamedBatch:
    """Kept pairs from an engine that names them (duckdb, spark), shaped like a MatchBatch."""

    pairs: pa.Table
    counts: pa.Table
    pairs_evaluated: int

    @property
    def encoded(self) -> pa.Table:  # the store takes named pairs too
        return self.pairs


def batch_from_all_pairs(table: pa.Table, *, keep_all: bool = False) -> _NamedBatch:
    """A complete pair table (every status) → kept pairs (all of them with ``keep_all``) plus counts,
    as the fast path gives them."""
    con = duckdb.connect()
    con.register("pairs", table)
    counts = con.sql(
        "SELECT policy_id, count(*) FILTER (status = 'eligible') AS eligible, "
        "count(*) FILTER (status = 'unknown') AS unknown, count(*) FILTER (status = 'ineligible') AS ineligible, "
        "coalesce(sum(amount) FILTER (status = 'eligible'), 0)::DECIMAL(38,4) AS amount_total "
        "FROM pairs GROUP BY policy_id").to_arrow_table()
    kept = table if keep_all else table.filter(pc.is_in(table.column("status"), pa.array(["eligible", "unknown"])))
    return _NamedBatch(kept, counts, table.num_rows)


def full_run(policies: Sequence[Any], enterprises: pa.Table, store: ResultStore, as_of: date,
             progress: Progress | None = None, *, engine: str = "vectorised", include_expired: bool = False,
             note: str = "", catalogue_revision: str | int | None = None) -> RunSummary:
    """Match everything and publish the result as the new current run (atomically).

    A policy that cannot be compiled is left out and named in ``RunSummary.refused``; the others
    are matched and published (one bad policy never stops a province's run). The run records its
    provenance: ``catalogue_revision``, each matched policy's ``version`` and plan ``digest`` (from the
    plan, else from the policy of the same id) and a snapshot of ``enterprises`` (results/provenance.py)."""
    from qinqing.matching.results import provenance_of

    started = time.perf_counter()
    active, skipped = select_policies(policies, as_of, include_expired)
    active, refused = compilable(active, as_of, engine)
    provenance = provenance_of(active, enterprises, originals=policies, catalogue_revision=catalogue_revision)
    writer = store.begin_run(as_of, engine, note, enterprises=_codes(enterprises), provenance=provenance)
    evaluated = eligible = unknown = 0
    try:
        for batch in match_batches(active, enterprises, as_of, engine=engine, progress=progress):
            writer.add(batch.encoded)
            writer.add_counts(batch.counts)
            evaluated += batch.pairs_evaluated
            eligible += int(pc.sum(batch.counts.column("eligible")).as_py() or 0)
            unknown += int(pc.sum(batch.counts.column("unknown")).as_py() or 0)
        info = writer.publish(policies=len(active), enterprises=enterprises.num_rows, pairs_evaluated=evaluated)
    except BaseException:
        writer.abort()
        raise
    return RunSummary(info.run_id, as_of, engine, len(active), len(skipped), enterprises.num_rows, evaluated,
                      eligible, unknown, time.perf_counter() - started, refused)


def compilable(policies: Sequence[Any], as_of: date, engine: str = "vectorised") -> tuple[list[Any], dict[str, str]]:
    """``policies`` split into those that compile for ``engine`` (as plans for the fast path) and
    the others, each with its error message."""
    from qinqing.matching.engines.plan import PolicyPlan, plan_policy
    from qinqing.rules import RuleError, compile_policy

    kept: list[Any] = []
    refused: dict[str, str] = {}
    for policy in policies:
        try:
            if engine == "vectorised":
                kept.append(policy if isinstance(policy, PolicyPlan) else plan_policy(policy, as_of))
            else:
                compile_policy(policy, engine, as_of)
                kept.append(policy)
        except (RuleError, RecursionError) as error:
            refused[policy.id] = getattr(error, "message", None) or str(error) or type(error).__name__
    return kept, refused


def rematch_enterprise(enterprises: pa.Table, policies: Sequence[Any], store: ResultStore, as_of: date, *,
                       matcher: VectorisedMatcher | EnterpriseMatcher | None = None,
                       include_expired: bool = False) -> RunSummary:
    """Re-match the enterprises in ``enterprises`` (one or a few changed rows) against every policy.

    Pass a ``matcher`` built once for the active catalogue to skip compiling it on every call; the
    portal keeps an ``EnterpriseMatcher`` per process (milliseconds per enterprise)."""
    started = time.perf_counter()
    active, skipped = select_policies(policies, as_of, include_expired)
    if matcher is None:
        matcher = EnterpriseMatcher(active, as_of) if enterprises.num_rows <= 16 else VectorisedMatcher(active, as_of)
    if isinstance(matcher, EnterpriseMatcher):
        encoded = [matcher.match(enterprises.slice(i, 1)) for i in range(enterprises.num_rows)]
        batches = [_counted(e) for e in encoded]
    else:
        batches = list(matcher.run(facts_connection(enterprises, as_of)))
    plans = matcher.plans
    counts = pa.concat_tables([b.counts for b in batches]) if batches else _COUNTS.empty_table()

    def scope(region: str | None, industry: str | None) -> list[str]:
        return [p.policy_id for p in plans if in_scope(p.scope, region, industry)]

    store.replace_pairs(uscc=enterprises.column("uscc").to_pylist(), pairs=[b.encoded for b in batches],
                        counts=counts, codes=_codes(enterprises), scope=scope)
    return _summary(store, as_of, len(matcher.plans), len(skipped), enterprises.num_rows, batches, started)


def rematch_policy(policy: Any, enterprises: pa.Table | None, store: ResultStore, as_of: date, *,
                   include_expired: bool = False, facts: duckdb.DuckDBPyConnection | None = None) -> RunSummary:
    """Re-match one added or changed policy against the registry; an expired one loses its rows.

    ``facts`` (from ``facts_connection``, kept by a long-lived process) saves rebuilding the
    registry's facts on every call; ``enterprises`` is then not read and may be None."""
    started = time.perf_counter()
    active, skipped = select_policies([policy], as_of, include_expired)
    if facts is None:
        facts = facts_connection(enterprises, as_of) if active else None
    batches = list(VectorisedMatcher(active, as_of).run(facts)) if active else []
    counts = pa.concat_tables([b.counts for b in batches]) if batches else None
    store.replace_pairs(policy_ids=[policy.id], pairs=[b.encoded for b in batches], counts=counts)
    registry_size = enterprises.num_rows if enterprises is not None else 0
    return _summary(store, as_of, len(active), len(skipped), registry_size, batches, started)


def _counted(encoded: EncodedPairs) -> MatchBatch:
    """An EnterpriseMatcher result as a MatchBatch (counts of its one enterprise per policy)."""
    t = encoded.pairs
    status = t.column("status").to_numpy()
    pol = t.column("pol").to_numpy()
    amounts = t.column("amount").cast(pa.int64()).to_pylist()
    counts = pa.table({"policy_id": pa.array([encoded.policy_ids[i] for i in pol], pa.string()),
                       "eligible": pa.array((status == 0).astype(np.int64)),
                       "unknown": pa.array((status == 1).astype(np.int64)),
                       "ineligible": pa.array((status == 2).astype(np.int64)),
                       "amount_total": pa.array([Decimal(a or 0).scaleb(-4) if s == 0 else Decimal(0)
                                                 for a, s in zip(amounts, status)], pa.decimal128(38, 4))},
                      schema=_COUNTS)
    return MatchBatch(encoded, counts, len(pol))


_COUNTS = pa.schema([("policy_id", pa.string()), ("eligible", pa.int64()), ("unknown", pa.int64()),
                     ("ineligible", pa.int64()), ("amount_total", pa.decimal128(38, 4))])


def _codes(enterprises: pa.Table) -> pa.Table:
    """uscc, region_code, industry_code: what the store keeps to scope an enterprise's old counts."""
    return pa.table({c: enterprises.column(c) if c in enterprises.column_names else pa.nulls(enterprises.num_rows,
                                                                                                pa.string())
                     for c in ("uscc", "region_code", "industry_code")})


def _summary(store: ResultStore, as_of: date, policies: int, skipped: int, enterprises: int,
             batches: Sequence[MatchBatch], started: float) -> RunSummary:
    eligible = sum(int(pc.sum(b.counts.column("eligible")).as_py() or 0) for b in batches)
    unknown = sum(int(pc.sum(b.counts.column("unknown")).as_py() or 0) for b in batches)
    evaluated = sum(b.pairs_evaluated for b in batches)
    run = store.current_run()
    return RunSummary(run.run_id if run else None, as_of, "vectorised", policies, skipped, enterprises, evaluated,
                      eligible, unknown, time.perf_counter() - started)
