"""The bitset kernel against hand-worked cases and against a row-by-row three-valued combination."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from qinqing.matching.engines.plan import plan_from_sql
from qinqing.matching.engines.vectorised import VectorisedMatcher, bit_positions, bitsets
from qinqing.matching.scope import Scope

AS_OF = date(2024, 6, 1)

FACTS = pa.table({
    "uscc": ["A", "B", "C", "D", "E"],
    "region_code": ["330106", "330106", "330212", None, "230102"],
    "industry_code": ["C3911", "I6510", "C2611", "C3911", None],
    "revenue": [Decimal("2500"), None, Decimal("800"), Decimal("3000"), Decimal("5000")],
    "employees": [120, 40, None, 10, 300],
    "is_dishonest": [False, False, None, False, True],
})

REGION = "(starts_with(region_code, '3301'))"
MANUFACTURING = "(starts_with(industry_code, 'C'))"
PLANS = [
    plan_from_sql("big", [("region", REGION), ("rev", "revenue >= 2000"), ("honest", "NOT is_dishonest")],
                  "least(revenue * 0.01, 20)", Scope("3301", None)),
    plan_from_sql("mfg", [("industries", MANUFACTURING), ("staff", "employees > 50 OR revenue > 1000")],
                  "10", Scope("", ("C",))),
]


def run(plans, facts=FACTS, **kw):
    con = duckdb.connect()
    con.register("facts", facts)
    matcher = VectorisedMatcher([], AS_OF, plans=plans)
    batches = list(matcher.run(con, **kw))
    return pa.concat_tables(b.pairs for b in batches), pa.concat_tables(b.counts for b in batches)


def rows(table):
    return {(r["uscc"], r["policy_id"]): (r["status"], r["amount"], tuple(r["failed"]), tuple(r["missing"]))
            for r in table.to_pylist()}


def test_hand_worked_pairs_with_pruning():
    pairs, counts = run(PLANS)
    assert rows(pairs) == {
        ("A", "big"): ("eligible", Decimal("20.0000"), (), ()),
        ("B", "big"): ("unknown", None, (), ("revenue",)),
        ("D", "big"): ("unknown", None, (), ("region_code",)),
        ("A", "mfg"): ("eligible", Decimal("10.0000"), (), ()),
        ("D", "mfg"): ("eligible", Decimal("10.0000"), (), ()),
        ("C", "mfg"): ("unknown", None, (), ("employees",)),  # NULL > 50 OR FALSE is unknown
        ("E", "mfg"): ("unknown", None, (), ("industry_code",)),
    }
    by_policy = {}  # a policy's counts come in one row per pass (region-less enterprises apart): summed
    for r in counts.to_pylist():
        total = by_policy.setdefault(r["policy_id"], dict.fromkeys(("eligible", "unknown", "ineligible",
                                                                     "amount_total"), 0))
        for k in total:
            total[k] += r[k]
    # "big" sees A, B, D (3301… or missing region); "mfg" sees A, C, D, E (C… or missing industry).
    assert (by_policy["big"]["eligible"], by_policy["big"]["unknown"], by_policy["big"]["ineligible"]) == (1, 2, 0)
    assert (by_policy["mfg"]["eligible"], by_policy["mfg"]["unknown"], by_policy["mfg"]["ineligible"]) == (2, 2, 0)
    assert by_policy["mfg"]["amount_total"] == Decimal("20")


def test_all_pairs_lists_failed_conditions():
    pairs, _ = run(PLANS, all_pairs=True)
    got = rows(pairs)
    assert len(got) == 10
    assert got[("E", "big")] == ("ineligible", None, ("region", "honest"), ())
    assert got[("C", "big")] == ("ineligible", None, ("region", "rev"), ())
    assert got[("B", "mfg")] == ("ineligible", None, ("industries",), ())  # staff: FALSE OR NULL


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_bitsets_round_trip(n):
    rng = np.random.default_rng(n)
    values = [None if r < 0.3 else bool(r > 0.6) for r in rng.random(n)]
    true, false = bitsets(pa.chunked_array([pa.array(values[:n // 2], pa.bool_()), pa.array(values[n // 2:], pa.bool_())]), n)
    assert list(bit_positions(true)) == [i for i, v in enumerate(values) if v is True]
    assert list(bit_positions(false)) == [i for i, v in enumerate(values) if v is False]


def three_valued(cols):
    if any(v is False for v in cols):
        return "ineligible"
    return "eligible" if all(v is True for v in cols) else "unknown"


opt_int = st.one_of(st.none(), st.integers(0, 100))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(opt_int, opt_int, st.one_of(st.none(), st.booleans())), min_size=1, max_size=150),
       st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100)), min_size=1, max_size=6))
def test_kernel_equals_row_by_row(records, thresholds):
    facts = pa.table({"uscc": [f"U{i}" for i in range(len(records))],
                      "region_code": ["330106"] * len(records), "industry_code": ["C3911"] * len(records),
                      "employees": [r[0] for r in records], "insured_employees": [r[1] for r in records], "is_listed": [r[2] for r in records]})
    plans = [plan_from_sql(f"p{k}", [("a", f"employees >= {a}"), ("b", f"insured_employees < {b} OR is_listed"), ("c", "NOT is_listed OR employees > insured_employees")], "employees + 1")
             for k, (a, b) in enumerate(thresholds)]
    pairs, _ = run(plans, facts, all_pairs=True)
    got = rows(pairs)
    con = duckdb.connect()
    con.register("facts", facts)
    for plan in plans:
        sql = ", ".join(c.sql for c in plan.conditions)
        for uscc, x, a, b, c in con.execute(f"SELECT uscc, employees, {sql} FROM facts").fetchall():
            status = three_valued([a, b, c])
            failed = tuple(cid for cid, v in zip("abc", [a, b, c]) if v is False)
            reads = {"a": {"employees"}, "b": {"insured_employees", "is_listed"},
                     "c": {"is_listed", "employees", "insured_employees"}}
            rec = dict(zip(("employees", "insured_employees", "is_listed"), records[int(uscc[1:])]))
            missing = tuple(sorted({f for cid, v in zip("abc", [a, b, c]) if v is None for f in reads[cid]
                                    if rec[f] is None})) if status == "unknown" else ()
            amount = Decimal(x + 1) if status == "eligible" else None
            assert got[(uscc, plan.policy_id)] == (status, amount, failed, missing)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 300), conditions=st.integers(0, 4), all_pairs=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_count_policy_counts_what_emit_policy_writes(n, conditions, all_pairs, seed):
    """Policies are written side by side at places given by count_policy: the two must agree."""
    from qinqing.matching.engines.kernel import count_policy, debruijn_table, emit_policy
    from qinqing.matching.engines.vectorised import _tail_mask

    rng = np.random.default_rng(seed)
    words = (n + 63) // 64
    tail = _tail_mask(n)
    value = rng.integers(0, 3, size=(conditions, n))  # 0 FALSE, 1 NULL, 2 TRUE
    true = np.zeros((conditions, words), np.uint64)
    false = np.zeros((conditions, words), np.uint64)
    for j in range(conditions):
        for r in range(n):
            bit = np.uint64(1) << np.uint64(r % 64)
            if value[j, r] == 2:
                true[j, r // 64] |= bit
            elif value[j, r] == 0:
                false[j, r // 64] |= bit
    idx = np.arange(conditions, dtype=np.int64)
    expected = n if all_pairs else int(((value > 0).all(axis=0)).sum())  # no FALSE condition: kept
    assert count_policy(true, false, idx, tail, all_pairs) == expected
    out = [np.empty(n, dt) for dt in (np.int32, np.int32, np.int8, np.int64, bool, np.uint64)]
    end, *_ = emit_policy(true, false, idx, tail, np.zeros(n, np.uint64), np.uint64(0), np.zeros(0, np.int64),
                          np.zeros(0, np.uint64), np.zeros(1, np.int64), np.zeros(1, bool), False, np.uint64(0), 0,
                          all_pairs, *out, np.zeros(n, np.uint64), 0, debruijn_table(), np.zeros(0, np.uint64),
                          np.zeros(0, np.uint64), np.uint64(0))
    assert end == expected


def test_a_forked_child_matches_after_the_parent_used_the_writer_threads():
    """The policy-writer pool is per process: a fork (a server's workers, say) must not hang on the
    parent's threads, which the child does not have."""
    import multiprocessing

    plans = [plan_from_sql("p", [("c", "revenue >= 100")], None)]
    table = pa.table({"uscc": ["A", "B"], "region_code": ["330106", None], "industry_code": ["C3911", None],
                      "revenue": [150.0, 50.0]})
    assert _eligible(plans, table) == 1  # run here first: the parent has used the pool
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        assert pool.apply_async(_eligible, (plans, table)).get(timeout=20) == 1


def _eligible(plans, table) -> int:
    """Eligible pairs of a tiny registry, matched in the calling process."""
    con = duckdb.connect()
    con.register("facts", table)
    return sum(sum(b.counts.column("eligible").to_pylist())
               for b in VectorisedMatcher([], None, plans=plans).run(con, prune=False))
