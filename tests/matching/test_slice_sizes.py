"""The fast path's progress total: rows per scope group from one aggregate, equal to counting each
scope's rows with its SQL filter (scope_where) — for any registry of codes and any scopes."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from qinqing.matching.engines.vectorised import VectorisedMatcher, scope_where
from qinqing.matching.scope import Scope

REGIONS = ["330102", "330106", "330110", "330203", "331002", "350102", "350203"]
INDUSTRIES = ["C3511", "C3512", "C39", "F5181", "I6510", "M7320", "A0111"]
PREFIXES = ["", "33", "3301", "330106", "35", "3502", "3310"]
INDUSTRY_PREFIXES = ["C", "C35", "C351", "F", "I65", "M73"]

codes = st.tuples(st.one_of(st.none(), st.sampled_from(REGIONS)), st.one_of(st.none(), st.sampled_from(INDUSTRIES)))
scopes = st.tuples(st.sampled_from(PREFIXES),
                   st.one_of(st.none(), st.lists(st.sampled_from(INDUSTRY_PREFIXES), min_size=1, max_size=3,
                                                 unique=True).map(lambda xs: tuple(sorted(xs)))),
                   st.sampled_from(["all", "known", "regionless"]))


@settings(max_examples=150, deadline=None)
@given(st.lists(codes, max_size=60), st.lists(scopes, min_size=1, max_size=8))
def test_sizes_equal_each_scope_s_own_count(rows, wanted) -> None:
    con = duckdb.connect()
    con.register("facts", pa.table({"region_code": pa.array([r for r, _ in rows], pa.string()),
                                    "industry_code": pa.array([i for _, i in rows], pa.string())}))
    keys = [(Scope(prefix, industries), kind) for prefix, industries, kind in wanted]
    sizes = VectorisedMatcher([], None, plans=[])._slice_sizes(con, "facts", keys)
    for scope, kind in keys:
        expected = con.execute(f"SELECT count(*) FROM facts WHERE {scope_where(scope, kind)}").fetchone()[0]
        assert sizes[(scope, kind)] == expected, (scope, kind)
