"""Latency: one enterprise against every policy in its scope, with a province catalogue loaded.

    .venv/bin/python benchmarks/latency.py                       # 46,000 policies, 1,000 enterprises
    .venv/bin/python benchmarks/latency.py --policies 4600 --enterprises 200

The catalogue is benchmarks/zhejiang.py's (province, city and county policies). Each call is
``EnterpriseMatcher.match`` (qinqing.matching.single) on a one-row table, then ``kept().decode()``
to the names the portal lists (status, amount, missing fields) — what 算政策 does; decoding every
in-scope pair, failed conditions included, is timed too. The
first call for a (region, industry) prepares its query; p50/p95 are over all calls, and the warm
figures (the same enterprises again) are printed beside them. Baseline in the same run: the
rules engine's compiled SQL for every in-scope policy, one query per policy, on the same row.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import duckdb
import numpy as np
import zhejiang

from qinqing.matching.single import EnterpriseMatcher


def percentiles(ms: list[float]) -> str:
    a = np.array(ms)
    return f"p50 {np.percentile(a, 50):6.2f} ms  p95 {np.percentile(a, 95):6.2f} ms  max {a.max():7.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--policies", type=int, default=46_000)
    ap.add_argument("--enterprises", type=int, default=1000)
    ap.add_argument("--baseline", type=int, default=20, help="enterprises for the one-query-per-policy baseline")
    args = ap.parse_args()
    as_of = date(2024, 6, 1)
    table = zhejiang.registry(max(args.enterprises, 1000), seed=3)
    t = time.perf_counter()
    plans = zhejiang.catalogue(args.policies)
    matcher = EnterpriseMatcher([], as_of, plans=plans)
    t_build = time.perf_counter() - t

    cold, warm, everything, in_scope, kept = [], [], [], [], []
    for sink in (cold, warm):
        for i in range(args.enterprises):
            row = table.slice(i, 1)
            t = time.perf_counter()
            named = matcher.match(row).kept().decode()
            sink.append((time.perf_counter() - t) * 1000)
            if sink is cold:
                kept.append(named.num_rows)
    for i in range(args.enterprises):
        row = table.slice(i, 1)
        t = time.perf_counter()
        named = matcher.match(row).decode()
        everything.append((time.perf_counter() - t) * 1000)
        in_scope.append(named.num_rows)

    # Baseline: each in-scope policy's own query (its conditions as columns) on the one row.
    con = duckdb.connect()
    base = []
    for i in range(args.baseline):
        row = table.slice(i, 1)
        con.register("one", row)
        cand = matcher.candidates(row.column("region_code")[0].as_py(), row.column("industry_code")[0].as_py())
        t = time.perf_counter()
        for j in cand:
            cols = ", ".join(f"CAST(({c.sql}) AS BOOLEAN)" for c in plans[j].conditions)
            con.execute(f"SELECT {cols} FROM one").fetchall()
        base.append((time.perf_counter() - t) * 1000)
        con.unregister("one")

    print(f"{args.policies:,} policies loaded (matcher built in {t_build:.1f} s); {args.enterprises} enterprises, "
          f"{np.mean(in_scope):,.0f} policies in scope each on average, {np.mean(kept):,.0f} kept")
    print(f"match + decode kept, first call per (region, industry): {percentiles(cold)}")
    print(f"match + decode kept, warm:                               {percentiles(warm)}   (target p95 < 20 ms)")
    print(f"match + decode every in-scope pair (failed names too):   {percentiles(everything)}")
    print(f"baseline, one compiled query per in-scope policy:        {percentiles(base)}  "
          f"({args.baseline} enterprises)")
    print(f"ratio baseline / warm p50: {np.percentile(base, 50) / np.percentile(warm, 50):,.0f}x")


if __name__ == "__main__":
    main()
