"""The fast path against the rules engine's own compiled SQL, pair by pair, on random registries.

Each catalogue policy is compiled by ``qinqing.rules.compile_policy``; its ``select_sql`` gives
the complete pair table (status, amount, failed, missing) that every engine must reproduce.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from qinqing.matching.engines.vectorised import VectorisedMatcher
from qinqing.matching.run import facts_connection
from qinqing.registry.schema import STORED_FIELDS

POLICIES = Path(__file__).resolve().parents[2] / "policies"
AS_OF = date(2024, 6, 1)


def random_registry(n: int, seed: int) -> pa.Table:
    """Every stored field, a third of values missing, values near typical thresholds."""
    rng = np.random.default_rng(seed)
    regions = ["230102", "230103", "440106", "440113", "330106", "330212", "500103"]
    industries = ["C3911", "C2611", "I6510", "B0610", "D4411", "M7320", "F5211"]
    cols: dict[str, list] = {"uscc": [f"91{i:016d}" for i in range(n)]}
    for f in STORED_FIELDS[1:]:
        t = f.type.value
        if f.name == "region_code":
            vals = [regions[i] for i in rng.integers(0, len(regions), n)]
        elif f.name == "industry_code":
            vals = [industries[i] for i in rng.integers(0, len(industries), n)]
        elif t == "string":
            vals = [["未来工厂", "智能工厂", "数字化车间", "x"][i] for i in rng.integers(0, 4, n)]
        elif t == "boolean":
            vals = [bool(v) for v in rng.integers(0, 2, n)]
        elif t == "integer":
            vals = [int(v) for v in (rng.integers(2015, 2026, n) if "year" in f.name or "since" in f.name
                                     else rng.integers(0, 600, n))]
        elif t == "money":
            vals = [Decimal(int(v)) / 10 for v in rng.integers(0, 60000, n)]
        elif t == "number":
            vals = [float(v) for v in rng.random(n).round(3)]
        else:
            vals = [date(2000, 1, 1) + (date(2024, 1, 1) - date(2000, 1, 1)) * float(v) for v in rng.random(n)]
        holes = rng.random(n) < 0.3
        cols[f.name] = [None if h else v for v, h in zip(vals, holes)]
    return pa.table(cols)


def test_fast_path_equals_compiled_sql_on_the_catalogue():
    rules = pytest.importorskip("qinqing.rules.load")
    from qinqing.rules.compile import compile_policy

    policies, errors = rules.load_policies([POLICIES])
    if not policies:
        pytest.skip("no catalogue policies loaded yet")
    enterprises = random_registry(3000, seed=7)
    con = facts_connection(enterprises, AS_OF)
    expected = {}
    for p in policies:
        sql = compile_policy(p, "duckdb", AS_OF).select_sql("facts")
        for r in con.sql(sql).to_arrow_table().to_pylist():
            expected[(r["uscc"], r["policy_id"])] = (r["status"], r["amount"], tuple(r["failed"]), tuple(r["missing"]))
    batches = VectorisedMatcher(policies, AS_OF).run(con, all_pairs=True)
    got = {}
    for b in batches:
        for r in b.pairs.to_pylist():
            got[(r["uscc"], r["policy_id"])] = (r["status"], r["amount"], tuple(r["failed"]), tuple(r["missing"]))
    assert len(got) == len(expected) == 3000 * len(policies)
    diff = [(k, expected[k], got[k]) for k in expected if expected[k] != got[k]]
    assert diff[:5] == []
    statuses = {v[0] for v in got.values()}
    assert {"eligible", "unknown", "ineligible"} <= statuses or len(policies) < 3
