"""Indices at province scale: 政策直达快享指数 over N enterprises' payout records, per county.

    .venv/bin/python benchmarks/indices.py                  # 3,000,000 enterprises, 90 counties
    .venv/bin/python benchmarks/indices.py --n 300000 --runs 100

The built-in ``kuaixiang`` configuration is computed unchanged; its named sources are registered here as
queries over a synthetic per-enterprise table in DuckDB (one row per enterprise: county, eligible, paid
amount, budget share, working days to payment, 免申/即申, 零材料, review steps), aggregated per county the way
the workflow piece's queries will be. Printed: generating the data, the sources' aggregation (gather), the
engine (compute), the Monte Carlo (the configuration's runs), the Sobol analysis (base N = 64), and storing
the period (SQLite), each in seconds; the baseline in the same run is one full GROUP BY over the table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from qinqing.db import make_engine, migrate
from qinqing.indices import compute, gather, load_system, register_query
from qinqing.indices.load import BUILTIN_DIR
from qinqing.indices.service import IndicesService
from qinqing.indices.uncertainty import monte_carlo, sensitivity


def synthetic(n: int, counties: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    codes = np.array([f"33{c // 10 + 1:02d}{c % 10 + 1:02d}" for c in range(counties)])
    quality = rng.uniform(0.2, 0.9, counties)
    county = rng.integers(0, counties, n)
    q = quality[county]
    eligible = rng.random(n) < 0.3
    paid = eligible & (rng.random(n) < q)
    return pa.table({
        "county": codes[county], "eligible": eligible, "paid": paid,
        "amount": np.where(paid, rng.gamma(2.0, 5.0, n), 0.0), "budget": np.where(eligible, 12.0, 0.0),
        "days": np.where(paid, rng.gamma(2.0, 10 * (1.2 - q)), np.nan),
        "auto": paid & (rng.random(n) < q * 0.6), "zero": paid & (rng.random(n) < q * 0.8),
        "steps": np.where(paid, rng.integers(1, 6, n), 0), "policy_count": rng.integers(80, 200, n),
    })


def register(con: duckdb.DuckDBPyConnection) -> None:
    def per_county(sql: str):
        def query(context, params):
            return con.execute(sql.format(**params)).df()
        return query

    register_query("workflow.paid_over_budget", per_county(
        "SELECT county AS unit, sum(amount) AS numerator, sum(budget) AS denominator, count(*) FILTER (paid) AS sample "
        "FROM e GROUP BY county"))
    register_query("catalogue.policies_in_force", per_county(
        "SELECT county AS unit, max(policy_count) AS value FROM e GROUP BY county"))
    register_query("registry.enterprises", per_county("SELECT county AS unit, count(*) AS value FROM e GROUP BY county"))
    register_query("workflow.median_workdays_to_payment", per_county(
        "SELECT county AS unit, median(days) AS value FROM e WHERE paid GROUP BY county"))
    register_query("workflow.share_paid_within", per_county(
        "SELECT county AS unit, avg(CASE WHEN days <= {workdays} THEN 1 ELSE 0 END) * 100 AS value "
        "FROM e WHERE paid GROUP BY county"))
    register_query("workflow.share_auto_or_instant", per_county(
        "SELECT county AS unit, avg(auto::INT) * 100 AS value FROM e WHERE paid GROUP BY county"))
    register_query("workflow.share_zero_material", per_county(
        "SELECT county AS unit, avg(zero::INT) * 100 AS value FROM e WHERE paid GROUP BY county"))
    register_query("workflow.mean_review_steps", per_county(
        "SELECT county AS unit, avg(steps) AS value FROM e WHERE paid GROUP BY county"))


def timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    print(f"{label:<28} {time.perf_counter() - start:8.2f} s")
    return value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3_000_000)
    ap.add_argument("--counties", type=int, default=90)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(f"enterprises {args.n:,}, counties {args.counties}")
    table = timed("generate", lambda: synthetic(args.n, args.counties, args.seed))
    con = duckdb.connect()
    con.register("e", table)
    timed("baseline: one GROUP BY", lambda: con.execute("SELECT county, sum(amount) FROM e GROUP BY county").fetchall())
    register(con)
    path = BUILTIN_DIR / "kuaixiang.yaml"
    system = load_system(path)
    inputs = timed("gather (8 sources)", lambda: gather(system, "2025-03"))
    result = timed("compute", lambda: compute(system, inputs))
    timed(f"monte carlo ({system.uncertainty.runs} runs)", lambda: monte_carlo(system, inputs))
    sa = timed("sobol (N = 64)", lambda: sensitivity(system, inputs, n=64))
    print(f"{'':<28} {sa.runs} model runs, {len(sa.parameters)} parameters")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        migrate(url)
        service = IndicesService(make_engine(url))
        timed("store the period (+MC)", lambda: service.compute_period(
            system, path.read_text(encoding="utf-8"), "2025-03", inputs, actor="bench"))
    ranked = int(result.ranks[result.root].notna().sum())
    print(f"units ranked {ranked} of {len(result.units)}")


if __name__ == "__main__":
    main()
