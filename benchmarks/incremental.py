"""Incremental: one new county policy re-matched, and one changed enterprise re-matched, against a
store holding a full run; the full run's time is the baseline measured in the same run.

    .venv/bin/python benchmarks/incremental.py                         # 300,000 × 4,600
    .venv/bin/python benchmarks/incremental.py --n 3000000 --policies 46000

A long-lived process (the web application) keeps the registry's facts connection and an
EnterpriseMatcher; both are built once here, outside the timed calls, and their build times printed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date

import numpy as np
import pyarrow as pa
import zhejiang

from qinqing.matching.results import ResultStore
from qinqing.matching.run import facts_connection, full_run, rematch_enterprise, rematch_policy
from qinqing.matching.single import EnterpriseMatcher


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--policies", type=int, default=4_600)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    as_of = date(2024, 6, 1)
    table = zhejiang.registry(args.n)
    plans = zhejiang.catalogue(args.policies)
    rng = np.random.default_rng(9)
    with tempfile.TemporaryDirectory() as root:
        store = ResultStore(root)
        t = time.perf_counter()
        full = full_run(plans, table, store, as_of)
        t_full = time.perf_counter() - t

        t = time.perf_counter()
        facts = facts_connection(table, as_of)
        t_facts = time.perf_counter() - t
        t = time.perf_counter()
        matcher = EnterpriseMatcher([], as_of, plans=plans)
        t_matcher = time.perf_counter() - t

        policy_times, kept = [], []
        for k in range(args.repeat):
            county = zhejiang.counties()[int(rng.integers(0, 90))]
            new = zhejiang.policy_plan(f"new{k}", county, rng)
            t = time.perf_counter()
            s = rematch_policy(new, None, store, as_of, facts=facts)
            policy_times.append(time.perf_counter() - t)
            kept.append(s.eligible + s.unknown)

        enterprise_times = []
        for k in range(args.repeat):
            i = int(rng.integers(0, args.n))
            row = table.slice(i, 1)
            row = row.set_column(row.schema.get_field_index("revenue"), "revenue",
                                 pa.array([float(rng.integers(100, 30000))]))
            t = time.perf_counter()
            rematch_enterprise(row, plans, store, as_of, matcher=matcher)
            enterprise_times.append(time.perf_counter() - t)
        got = store.matches_for(row.column("uscc")[0].as_py())

    print(f"{args.n:,} enterprises × {args.policies:,} policies; full run {t_full:.1f} s "
          f"({full.eligible + full.unknown:,} kept pairs)")
    print(f"kept by the process: facts connection {t_facts:.1f} s, EnterpriseMatcher {t_matcher:.1f} s (built once)")
    print(f"one new county policy re-matched: median {np.median(policy_times) * 1000:.0f} ms, "
          f"max {max(policy_times) * 1000:.0f} ms ({np.mean(kept):,.0f} kept pairs each; target < 1 s); "
          f"{t_full / np.median(policy_times):,.0f}x faster than the full run")
    print(f"one changed enterprise re-matched: median {np.median(enterprise_times) * 1000:.0f} ms, "
          f"max {max(enterprise_times) * 1000:.0f} ms ({len(got)} kept matches); "
          f"{t_full / np.median(enterprise_times):,.0f}x faster than the full run")


if __name__ == "__main__":
    main()
