"""Full runs into the store, and incremental runs that give the rows a full run gives."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from qinqing.matching.engines.plan import plan_from_sql
from qinqing.matching.results import ResultStore
from qinqing.matching.run import full_run, rematch_enterprise, rematch_policy
from qinqing.matching.scope import Scope

AS_OF = date(2024, 6, 1)


def catalogue(threshold=2000):
    return [
        plan_from_sql("prov", [("rev", f"revenue >= {threshold}"), ("honest", "NOT is_dishonest")], "20",
                      Scope("33", None)),
        plan_from_sql("hz-mfg", [("region", "starts_with(region_code, '3301')"),
                                 ("industries", "starts_with(industry_code, 'C')"),
                                 ("staff", "employees >= 100")], "least(revenue * 0.01, 50)",
                      Scope("3301", ("C",))),
        plan_from_sql("xihu", [("region", "region_code = '330106'"), ("small", "employees < 300")], "5",
                      Scope("330106", None)),
    ]


def snapshot(store, usccs):
    return sorted((m.uscc, m.policy_id, m.status, m.amount, m.missing) for u in usccs for m in store.matches_for(u))


def test_full_run_publishes_counts_and_pairs(tmp_path, registry):
    store = ResultStore(tmp_path)
    summary = full_run(catalogue(), registry(), store, AS_OF)
    counts = store.counts_by_policy()
    assert summary.run_id == store.current_run().run_id
    assert summary.eligible == sum(c.eligible for c in counts.values()) > 0
    assert summary.unknown == sum(c.unknown for c in counts.values()) > 0
    # Scope pruning: the 西湖区 policy only ever sees 330106 and enterprises without a region.
    enterprises = registry()
    in_scope = sum(1 for r in enterprises.column("region_code").to_pylist() if r in ("330106", None))
    x = counts["xihu"]
    assert x.eligible + x.unknown + x.ineligible == in_scope


@pytest.mark.parametrize("changed", [[3, 17, 250], list(range(0, 400, 19))],
                         ids=["single-path", "batch-path"])  # up to 16 rows: EnterpriseMatcher, else batch
def test_incremental_enterprise_equals_full_run(tmp_path, registry, changed):
    before, after = registry(seed=1), registry(seed=2)  # every field of every enterprise changed
    mixed = pa.concat_tables([before.take([i for i in range(before.num_rows) if i not in changed]),
                              after.take(changed)])
    incremental, full = ResultStore(tmp_path / "inc"), ResultStore(tmp_path / "full")
    full_run(catalogue(), before, incremental, AS_OF)
    rematch_enterprise(after.take(changed), catalogue(), incremental, AS_OF)
    full_run(catalogue(), mixed, full, AS_OF)
    usccs = mixed.column("uscc").to_pylist()
    assert snapshot(incremental, usccs) == snapshot(full, usccs)
    # Counts too: the changed enterprises' old pairs (and old scope: regions changed) taken out.
    assert incremental.counts_by_policy() == full.counts_by_policy()
    rematch_enterprise(after.take(changed), catalogue(), incremental, AS_OF)  # again: nothing changes
    assert incremental.counts_by_policy() == full.counts_by_policy()


def test_incremental_policy_equals_full_run(tmp_path, registry):
    enterprises = registry()
    changed = catalogue(threshold=500)
    incremental, full = ResultStore(tmp_path / "inc"), ResultStore(tmp_path / "full")
    full_run(catalogue(), enterprises, incremental, AS_OF)
    rematch_policy(changed[0], enterprises, incremental, AS_OF)
    full_run(changed, enterprises, full, AS_OF)
    usccs = enterprises.column("uscc").to_pylist()
    assert snapshot(incremental, usccs) == snapshot(full, usccs)
    assert incremental.counts_by_policy() == full.counts_by_policy()


def test_full_run_over_several_spill_ranges_is_stored_in_enterprise_order(tmp_path, registry):
    """20,000 enterprises: pairs go through several enterprise ranges (spill.py) and must come out
    as the engine gave them, in enterprise order (what one enterprise's lookup relies on)."""
    import duckdb

    from qinqing.matching.run import match_batches
    from qinqing.matching.spill import MIN_RANGE

    table = registry(n=20_000, seed=3)
    assert table.num_rows // MIN_RANGE > 1
    store = ResultStore(tmp_path)
    summary = full_run(catalogue(), table, store, AS_OF)
    want = sorted((b.pairs.to_pylist() for b in match_batches(catalogue(), table, AS_OF)), key=len)
    want = sorted((r["uscc"], r["policy_id"], r["status"], r["amount"], tuple(r["missing"]))
                  for batch in want for r in batch)
    path = tmp_path / "runs" / f"{summary.run_id}.duckdb"
    store.close()
    with duckdb.connect(str(path), read_only=True) as con:
        ents = [e for (e,) in con.execute("SELECT ent FROM pairs").fetchall()]  # physical order
        got = sorted((u, p, s, a, tuple(m)) for u, p, s, a, m in con.execute(
            "SELECT uscc, policy_id, status, amount, missing FROM matches").fetchall())
    assert ents == sorted(ents) and len(ents) == summary.eligible + summary.unknown
    assert got == want
