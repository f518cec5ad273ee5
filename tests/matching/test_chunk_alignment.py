"""The fast path splits a scope group's expressions over several queries (EXPRS_PER_QUERY). Regression:
past one DuckDB row group (122,880 rows) the query over the helper subquery and the one over the bare
facts returned rows in different orders, so with the whole catalogue in one group (``all_pairs``)
5,059 of 194,939 eligible pairs at 200,000 enterprises got another row's NULL amount."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from qinqing.matching.engines.vectorised import EXPRS_PER_QUERY
from qinqing.matching.run import match_batches
from qinqing.registry.generator import Plan, draw_chunk
from qinqing.rules import load_policies

AS_OF = date(2025, 6, 30)
ROWS = 140_000  # more than one row group


def _eligible(batches) -> pa.Table:
    tables = [b.pairs for b in batches]
    pairs = pa.concat_tables(tables)
    pairs = pairs.filter(pc.equal(pairs.column("status"), "eligible")).select(["uscc", "policy_id", "amount"])
    return pairs.sort_by([("uscc", "ascending"), ("policy_id", "ascending")])


def test_every_chunk_of_a_wide_group_lines_up_with_the_first():
    policies, errors = load_policies(["policies"])
    assert not errors
    expressions = sum(len(p.conditions) + 2 for p in policies)  # + region/industries, + the amount
    assert expressions > EXPRS_PER_QUERY  # one group, several queries
    registry = pa.Table.from_batches([draw_chunk(Plan(7, "350000", date(2024, 12, 31)), 0, 0, ROWS)])
    fast = _eligible(match_batches(policies, registry, AS_OF, all_pairs=True))
    reference = _eligible(match_batches(policies, registry, AS_OF, engine="duckdb"))
    assert fast.num_rows == reference.num_rows > 10_000
    assert pc.sum(pc.is_null(fast.column("amount"))).as_py() == pc.sum(pc.is_null(reference.column("amount"))).as_py()
    assert fast.equals(reference)
