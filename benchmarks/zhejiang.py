"""A province-shaped registry and catalogue for the province, latency and incremental benchmarks.

Regions are Zhejiang's real 11 cities and 90 counties (registry.standards.regions). The catalogue
has Zhejiang's shape: about 46,000 policies, of which 2,000 province-wide, 1,000 per city and about
367 per county (scaled by ``policies / 46,000``); 40 % name an industry section. Each policy asks
two or three of revenue / employees / R&D / tax thresholds drawn from round values, the two
blacklists, and pays ``min(revenue × rate, cap)``. Enterprise figures are log-normal (most
enterprises are small), 10 % of every field missing.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from qinqing.matching.engines.plan import plan_from_sql
from qinqing.matching.scope import Scope
from qinqing.registry.standards import regions

PROVINCE = "330000"
FULL_POLICIES = 46_000
PROVINCE_SHARE, CITY_EACH, = 2_000, 1_000  # the rest is split over the counties
THRESHOLDS = {"revenue": [500, 1000, 2000, 5000, 10000, 20000], "employees": [10, 20, 50, 100, 300],
              "rd_expense": [20, 50, 100, 200, 500], "tax_paid": [20, 50, 100, 200, 500]}
FLAGS = ("is_dishonest", "in_abnormal_list")
SECTIONS = ["C", "I", "M", "F", "G"]
INDUSTRIES = ["C3911", "C2611", "C1310", "C3420", "I6510", "I6420", "M7320", "F5211", "G5411", "E4813"]
MISSING = 0.10


def cities() -> list[str]:
    return regions.children(PROVINCE)


def counties() -> list[str]:
    return [c for c in regions.descendants(PROVINCE) if c[4:] != "00"]


def registry(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    county = np.array(counties())
    weights = rng.gamma(2.0, 1.0, len(county))
    revenue = np.round(rng.lognormal(np.log(300), 1.6, n), 1)

    def holes() -> np.ndarray:
        return rng.random(n) < MISSING

    cols = {
        "uscc": pa.array([f"9133{i:014d}" for i in range(n)]),
        "region_code": pa.array(county[rng.choice(len(county), n, p=weights / weights.sum())], mask=holes()),
        "industry_code": pa.array(np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), n)], mask=holes()),
        "revenue": pa.array(revenue, mask=holes()),
        "employees": pa.array(np.round(rng.lognormal(np.log(15), 1.2, n)).astype(np.int64), mask=holes()),
        "rd_expense": pa.array(np.round(revenue * rng.uniform(0, 0.06, n), 1), mask=holes()),
        "tax_paid": pa.array(np.round(revenue * rng.uniform(0.01, 0.08, n), 1), mask=holes()),
    }
    for f in FLAGS:
        cols[f] = pa.array(rng.random(n) < 0.03, mask=holes())
    return pa.table(cols)


def region_scopes(policies: int, seed: int = 1) -> list[str]:
    """The region code of each policy: province, then cities, then counties, in Zhejiang's proportions."""
    scale = policies / FULL_POLICIES
    out = [PROVINCE] * max(1, round(PROVINCE_SHARE * scale))
    for city in cities():
        out += [city] * max(1, round(CITY_EACH * scale))
    rest = max(0, policies - len(out))
    county = counties()
    out += [county[i % len(county)] for i in range(rest)]
    return out[:policies]


def catalogue(policies: int, seed: int = 1) -> list:
    """PolicyPlans (the fast path's input) with scopes, as the rules engine would compile them."""
    rng = np.random.default_rng(seed)
    plans = []
    for k, code in enumerate(region_scopes(policies, seed)):
        plans.append(policy_plan(f"zj{k:05d}", code, rng))
    return plans


def policy_plan(policy_id: str, code: str, rng: np.random.Generator):
    prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
    section = str(rng.choice(SECTIONS)) if rng.random() < 0.4 else None
    conds = [("region", f"starts_with(region_code, '{prefix}')")]
    if section:
        conds.append(("industries", f"starts_with(industry_code, '{section}')"))
    for f in rng.choice(list(THRESHOLDS), int(rng.integers(2, 4)), replace=False):
        conds.append((str(f), f"{f} >= {rng.choice(THRESHOLDS[str(f)])}"))
    conds += [(flag, f"NOT {flag}") for flag in FLAGS]
    rate, cap = float(rng.choice([0.005, 0.01, 0.02])), float(rng.choice([20, 50, 100, 200]))
    raw = f"round(revenue * {rate}, 2)"
    amount = f"CASE WHEN {raw} > {cap} THEN {cap} ELSE {raw} END"
    return plan_from_sql(policy_id, conds, amount, Scope(prefix, (section,) if section else None))


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
