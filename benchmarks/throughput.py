"""Throughput: N enterprises × P synthetic policies, no pruning; fast path vs a plain numpy 3VL evaluator.

    .venv/bin/python benchmarks/throughput.py --n 1000000 --policies 1000

The catalogue varies thresholds of conditions taken from the real catalogue's shapes (revenue,
employees, R&D, certification years, blacklists) over round values, as real texts do. Both
evaluators produce status for every pair and, for kept pairs, the missing fields; the ratio is
measured in the same run. (ZEN comparison: not yet written, see docs/performance.md.)
"""

from __future__ import annotations

import argparse
import time

import duckdb
import numpy as np
import pyarrow as pa

from qinqing.matching.engines.plan import plan_from_sql
from qinqing.matching.engines.vectorised import VectorisedMatcher

FIELDS = {"revenue": (0, 50000), "employees": (0, 2000), "rd_expense": (0, 3000), "high_tech_cert_year": (2012, 2025)}
FLAGS = ("is_dishonest", "in_abnormal_list")


def registry(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    cols = {"uscc": pa.array([f"U{i:09d}" for i in range(n)])}
    for f, (lo, hi) in FIELDS.items():
        cols[f] = pa.array(rng.integers(lo, hi, n).astype(float), mask=rng.random(n) < 0.2)
    for f in FLAGS:
        cols[f] = pa.array(rng.random(n) < 0.05, mask=rng.random(n) < 0.2)
    return pa.table(cols)


def catalogue(p: int, seed: int = 1) -> list[tuple[str, list[tuple[str, str, float]]]]:
    rng = np.random.default_rng(seed)
    steps = {"revenue": [500, 1000, 2000, 5000, 10000, 20000], "employees": [10, 20, 50, 100, 300, 1000],
             "rd_expense": [50, 100, 200, 500, 1000], "high_tech_cert_year": [2019, 2020, 2021, 2022, 2023]}
    out = []
    for k in range(p):
        conds = [(f, ">=", float(rng.choice(steps[f]))) for f in rng.choice(list(FIELDS), 3, replace=False)]
        conds += [(flag, "not", 0.0) for flag in FLAGS]
        out.append((f"p{k}", conds))
    return out


def to_plans(cat):
    def sql(f, op, v):
        return f"NOT {f}" if op == "not" else f"{f} >= {v}"
    return [plan_from_sql(pid, [(f"c{i}", sql(*c)) for i, c in enumerate(conds)], "20") for pid, conds in cat]


def numpy_3vl(table: pa.Table, cat) -> tuple[int, int]:
    """Per policy, per condition: TRUE/FALSE arrays with NULLs; statuses and missing masks of kept pairs."""
    vals = {f: table.column(f).to_numpy(zero_copy_only=False) for f in (*FIELDS, *FLAGS)}
    nulls = {f: table.column(f).is_null().to_numpy(zero_copy_only=False) for f in vals}
    n = table.num_rows
    eligible = unknown = 0
    for _, conds in cat:
        any_false = np.zeros(n, bool)
        all_true = np.ones(n, bool)
        miss = np.zeros(n, np.uint64)
        for j, (f, op, v) in enumerate(conds):
            x, nul = vals[f], nulls[f]
            true = ~nul & ((x >= v) if op == ">=" else ~x.astype(bool))
            false = ~nul & ~true
            any_false |= false
            all_true &= true
            miss |= np.where(nul, np.uint64(1 << j), np.uint64(0))
        unk = ~any_false & ~all_true
        eligible += int(all_true.sum())
        unknown += int(unk.sum())
        _ = miss[unk]
    return eligible, unknown


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--policies", type=int, default=1000)
    args = ap.parse_args()
    table, cat = registry(args.n), catalogue(args.policies)
    pairs = args.n * args.policies

    t = time.perf_counter()
    ne, nu = numpy_3vl(table, cat)
    t_np = time.perf_counter() - t

    con = duckdb.connect()
    con.register("facts", table)
    matcher = VectorisedMatcher([], None, plans=to_plans(cat))
    t = time.perf_counter()
    fe = fu = 0
    for b in matcher.run(con):
        fe += int(pa.compute.sum(b.counts.column("eligible")).as_py())
        fu += int(pa.compute.sum(b.counts.column("unknown")).as_py())
    t_fast = time.perf_counter() - t
    assert (fe, fu) == (ne, nu), ((fe, fu), (ne, nu))
    print(f"pairs {pairs:,}  eligible {fe:,}  unknown {fu:,}")
    print(f"numpy 3VL   {t_np:8.2f} s  {pairs / t_np / 1e6:8.1f} M pairs/s")
    print(f"fast path   {t_fast:8.2f} s  {pairs / t_fast / 1e6:8.1f} M pairs/s  (incl. building the kept-pair table)")
    print(f"ratio fast / numpy: {t_np / t_fast:.2f}x")


if __name__ == "__main__":
    main()
