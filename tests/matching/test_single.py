"""One enterprise at a time (single.py) against the rules engine's compiled SQL, pair by pair."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from qinqing.matching.engines.plan import plan_from_sql
from qinqing.matching.run import facts_connection
from qinqing.matching.scope import Scope
from qinqing.matching.single import EnterpriseMatcher

AS_OF = date(2024, 6, 1)


def test_hand_worked_enterprise():
    plans = [
        plan_from_sql("zj", [("rev", "revenue >= 2000"), ("honest", "NOT is_dishonest")], "least(revenue * 0.01, 50)",
                      Scope("33", None)),
        plan_from_sql("hz", [("region", "starts_with(region_code, '3301')"), ("staff", "employees >= 100")], "5",
                      Scope("3301", None)),
        plan_from_sql("nb", [("region", "starts_with(region_code, '3302')")], "5", Scope("3302", None)),
        plan_from_sql("mfg", [("industries", "starts_with(industry_code, 'C')")], None, Scope("", ("C",))),
    ]
    m = EnterpriseMatcher([], AS_OF, plans=plans)
    one = pa.table({"uscc": ["A"], "region_code": ["330106"], "industry_code": ["I6510"],
                    "revenue": [3000.0], "employees": pa.array([None], pa.int64()), "is_dishonest": [False]})
    got = {r["policy_id"]: (r["status"], r["amount"], r["failed"], r["missing"]) for r in m.match(one).decode().to_pylist()}
    assert set(got) == {"zj", "hz"}  # 宁波 and the manufacturing policy are out of scope
    assert got["zj"] == ("eligible", 30, [], [])
    assert got["hz"] == ("unknown", None, [], ["employees"])


def test_single_equals_compiled_sql_on_the_catalogue():
    from matching.test_fastpath_semantics import POLICIES, random_registry
    from qinqing.rules.compile import compile_policy
    from qinqing.rules.load import load_policies

    policies, _ = load_policies([POLICIES])
    if not policies:
        pytest.skip("no catalogue policies loaded yet")
    enterprises = random_registry(300, seed=11)
    con = facts_connection(enterprises, AS_OF)
    expected = {}
    for p in policies:
        for r in con.sql(compile_policy(p, "duckdb", AS_OF).select_sql("facts")).to_arrow_table().to_pylist():
            expected[(r["uscc"], r["policy_id"])] = (r["status"], r["amount"], tuple(r["failed"]), tuple(r["missing"]))
    m = EnterpriseMatcher(policies, AS_OF)
    seen = set()
    for i in range(enterprises.num_rows):
        for r in m.match(enterprises.slice(i, 1)).decode().to_pylist():
            key = (r["uscc"], r["policy_id"])
            seen.add(key)
            assert (r["status"], r["amount"], tuple(r["failed"]), tuple(r["missing"])) == expected[key], key
    # Pairs left out by scope are certainly ineligible.
    assert all(v[0] == "ineligible" for k, v in expected.items() if k not in seen)
    assert {expected[k][0] for k in seen} == {"eligible", "unknown", "ineligible"}
