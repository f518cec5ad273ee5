"""A scope group's rows on the fast path (region ranges and industry masks over the rows in region order,
``_Codes``) are the rows its SQL filter (scope_where) keeps, and their count (the progress total) is
theirs — for any registry of codes and any scopes."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from qinqing.matching.engines.vectorised import _Codes, scope_where
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
def test_group_rows_and_counts_equal_each_scope_s_own_sql(rows, wanted) -> None:
    con = duckdb.connect()
    con.register("facts", pa.table({"region_code": pa.array([r for r, _ in rows], pa.string()),
                                    "industry_code": pa.array([i for _, i in rows], pa.string())}))
    keys = [(Scope(prefix, industries), kind) for prefix, industries, kind in wanted]
    ordered = con.sql("SELECT region_code, industry_code FROM facts ORDER BY region_code NULLS LAST").to_arrow_table()
    codes = _Codes.of(ordered.column("region_code"), ordered.column("industry_code"))
    for scope, kind in keys:
        where = scope_where(scope, kind)
        expected = con.execute(f"SELECT count(*) FROM facts WHERE {where}").fetchone()[0]
        assert codes.count(scope, kind) == expected, (scope, kind)
        rows = sorted((ordered.column("region_code")[i].as_py() or "", ordered.column("industry_code")[i].as_py() or "")
                      for i in codes.positions(scope, kind))
        kept = sorted((r or "", i or "") for r, i in con.execute(f"SELECT region_code, industry_code FROM facts WHERE {where}").fetchall())
        assert rows == kept, (scope, kind)
