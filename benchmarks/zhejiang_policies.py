"""Zhejiang-shaped policy files for the user-path benchmark (user_path.py), deterministic for a seed.

Each policy is first drawn as a ``PolicySpec`` (plain data: region, industry prefixes, thresholds,
rate and cap), then written out as a policy YAML file in the repository's format
(docs/policy-format.md) that ``qinqing policy check`` accepts. The benchmark's baseline evaluates
the specs, never the YAML, so that it does not share a parser with qinqing.

Shape (as benchmarks/zhejiang.py): of every 46,000 policies, 2,000 province-wide, 1,000 per city
(11 cities) and the rest spread over the 90 counties (real GB/T 2260 codes under 330000); 40 % are
restricted to one to three GB/T 4754 prefixes (section, division or group); each asks two to four
thresholds over stored registry fields drawn from round values, the two blacklists
(``NOT is_dishonest``, ``NOT in_abnormal_list``), and pays ``revenue × rate`` capped (80 %) or a
fixed sum (20 %). About 3 % have expired before the benchmark's reference date (2025-06-30), so the
runs must leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qinqing.registry.standards import industries, regions

PROVINCE = "330000"
FULL_POLICIES = 46_000
PROVINCE_SHARE, CITY_EACH = 2_000, 1_000
INDUSTRY_SHARE = 0.40
EXPIRED_SHARE = 0.03
FLAGS = (("is_dishonest", "企业未被列为失信被执行人"), ("in_abnormal_list", "企业未被列入经营异常名录"))

# field: (label, unit, thresholds for >=); employees may also be an upper bound (中小企业).
THRESHOLDS: dict[str, tuple[str, str, list[int]]] = {
    "revenue": ("上年度营业收入", "万元", [500, 1000, 2000, 5000, 10000, 20000]),
    "employees": ("从业人员", "人", [10, 20, 50, 100, 300]),
    "rd_expense": ("上年度研发费用", "万元", [20, 50, 100, 200, 500]),
    "tax_paid": ("上年度纳税总额", "万元", [20, 50, 100, 200, 500]),
    "total_assets": ("资产总额", "万元", [1000, 2000, 5000, 10000]),
    "insured_employees": ("参保人数", "人", [10, 20, 50, 100]),
}
EMPLOYEE_CEILINGS = [300, 1000]
RATES = [0.005, 0.01, 0.02]
CAPS = [20, 50, 100, 200]
FIXED = [5, 10, 20, 50]


@dataclass(frozen=True)
class PolicySpec:
    policy_id: str
    region: str  # GB/T 2260 code: 330000, a city or a county
    industries: tuple[str, ...] | None  # GB/T 4754 prefixes, or None = every industry
    thresholds: tuple[tuple[str, str, int], ...]  # (field, ">=" | "<=", value)
    rate: float | None  # amount = min(revenue * rate, cap) …
    cap: float
    fixed: float | None  # … or this fixed sum (cap = fixed)
    expired: bool  # valid_to is before the reference date

    @property
    def level(self) -> str:
        return regions.level(self.region)  # province / city / county

    @property
    def region_range(self) -> tuple[int, int]:
        """The region codes (as integers) the policy applies to, inclusive: its subtree."""
        code = int(self.region)
        if self.level == "province":
            return code, code + 9999
        if self.level == "city":
            return code, code + 99
        return code, code


def cities() -> list[str]:
    return regions.children(PROVINCE)


def counties() -> list[str]:
    return [c for c in regions.descendants(PROVINCE) if regions.level(c) == "county"]


def region_scopes(policies: int) -> list[str]:
    """The region of each policy: the province, then cities, then counties, in Zhejiang's proportions."""
    scale = policies / FULL_POLICIES
    out = [PROVINCE] * max(1, round(PROVINCE_SHARE * scale))
    for city in cities():
        out += [city] * max(1, round(CITY_EACH * scale))
    county = counties()
    out += [county[i % len(county)] for i in range(max(0, policies - len(out)))]
    return out[:policies]


def _industry_pool() -> dict[str, list[str]]:
    return {lvl: industries.codes(lvl) for lvl in ("section", "division", "group")}


def specs(policies: int, seed: int = 1) -> list[PolicySpec]:
    rng = np.random.default_rng([seed, 0x7A])
    pool = _industry_pool()
    sections = [s for s in pool["section"] if s != "T"]
    out = []
    for k, region in enumerate(region_scopes(policies)):
        inds = None
        if rng.random() < INDUSTRY_SHARE:
            chosen: list[str] = []
            for _ in range(int(rng.integers(1, 4))):
                r = rng.random()
                lvl_pool = sections if r < 0.5 else pool["division"] if r < 0.85 else pool["group"]
                code = str(lvl_pool[int(rng.integers(0, len(lvl_pool)))])
                if code not in chosen:
                    chosen.append(code)
            inds = tuple(chosen)
        fields = rng.choice(list(THRESHOLDS), int(rng.integers(2, 5)), replace=False)
        thresholds = []
        for f in fields:
            f = str(f)
            if f == "employees" and rng.random() < 0.3:
                thresholds.append((f, "<=", int(rng.choice(EMPLOYEE_CEILINGS))))
            else:
                thresholds.append((f, ">=", int(rng.choice(THRESHOLDS[f][2]))))
        if rng.random() < 0.8:
            rate, cap, fixed = float(rng.choice(RATES)), float(rng.choice(CAPS)), None
        else:
            fixed = float(rng.choice(FIXED))
            rate, cap = None, fixed
        out.append(PolicySpec(f"zj-bench-{k:05d}", region, inds, tuple(thresholds), rate, cap, fixed,
                              bool(rng.random() < EXPIRED_SHARE)))
    return out


_LEVEL_ZH = {"province": "省", "city": "市", "county": "区县"}


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def to_yaml(spec: PolicySpec) -> str:
    place = regions.name(spec.region) or spec.region
    issuer = f"{place}经济和信息化{'厅' if spec.level == 'province' else '局'}"
    lines = [
        "# Synthetic policy written by benchmarks/zhejiang_policies.py (user-path benchmark); not a real policy.",
        f"id: {spec.policy_id}",
        f"title: {place}企业发展奖励（基准测试 {spec.policy_id[-5:]}）",
        f"issuer: {issuer}",
        f"document: 基准测试〔2025〕{int(spec.policy_id[-5:]) + 1}号",
        f"level: {_LEVEL_ZH[spec.level]}",
        f'region: "{spec.region}"',
    ]
    if spec.industries:
        lines.append("industries: [" + ", ".join(f'"{c}"' for c in spec.industries) + "]")
    lines += [
        "support_type: 奖励",
        f"mode: {'免申即享' if spec.fixed is not None else '申报'}",
        "valid_from: 2024-01-01" if spec.expired else "valid_from: 2025-01-01",
        "valid_to: 2024-12-31" if spec.expired else "valid_to: 2025-12-31",
        "budget: null",
        "source:",
        "  url: https://example.org/qinqing/benchmark",
        "  publisher: qinqing 基准测试",
        "  retrieved: 2026-12-04",
        "conditions:",
    ]
    for field, op, value in spec.thresholds:
        label, unit, _ = THRESHOLDS[field]
        words = "以上" if op == ">=" else "以下"
        lines += [f"  - id: {field}_{'min' if op == '>=' else 'max'}",
                  f"    clause: {label}{value}{unit}{words}",
                  f"    expr: {field} {op} {value}"]
    for flag, clause in FLAGS:
        lines += [f"  - id: not_{flag}", f"    clause: {clause}", f"    expr: NOT {flag}"]
    lines.append("benefit:")
    if spec.fixed is not None:
        lines += [f"  clause: 给予一次性奖励{_num(spec.fixed)}万元", f'  expr: "{_num(spec.fixed)}"',
                  f"  cap: {_num(spec.cap)}"]
    else:
        lines += [f"  clause: 按上年度营业收入的{spec.rate * 100:g}%给予奖励，最高不超过{_num(spec.cap)}万元",
                  f"  expr: revenue * {spec.rate}", f"  cap: {_num(spec.cap)}"]
    return "\n".join(lines) + "\n"


def write(directory: Path, policies: int, seed: int = 1) -> list[PolicySpec]:
    directory.mkdir(parents=True, exist_ok=True)
    out = specs(policies, seed)
    for spec in out:
        (directory / f"{spec.policy_id}.yaml").write_text(to_yaml(spec), encoding="utf-8")
    return out
