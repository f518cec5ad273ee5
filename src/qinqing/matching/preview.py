"""Draft-policy impact preview for the officer: who would qualify and what it would cost. Nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

import pyarrow as pa

from qinqing.matching.engines.vectorised import VectorisedMatcher
from qinqing.matching.run import facts_connection
from qinqing.registry.standards import industries, regions

SAMPLE_SIZE = 20


@dataclass(frozen=True)
class Preview:
    policy_id: str
    evaluated: int  # enterprises in the policy's scope
    eligible: int
    unknown: int
    amount_total: Decimal  # over eligible enterprises
    budget: Decimal | None
    budget_share: float | None  # amount_total / budget
    amount_distribution: list[dict]  # quantiles of eligible amounts
    amount_bands: list[dict]  # low, high, eligible, amount: eligible enterprises by amount band (amount_bands())
    by_region: list[dict]  # region_code, eligible, unknown, amount
    by_industry: list[dict]  # GB/T 4754 section letter
    by_size_class: list[dict]
    sample: list[dict]  # uscc, name, status, amount, missing


def preview(policy: Any, enterprises: pa.Table, as_of: date, *, sample_size: int = SAMPLE_SIZE) -> Preview:
    """Match a draft against the registry in memory and summarise the result."""
    con = facts_connection(enterprises, as_of)
    batches = list(VectorisedMatcher([policy], as_of).run(con))
    pairs = pa.concat_tables([b.pairs for b in batches])
    evaluated = sum(b.pairs_evaluated for b in batches)
    con.register("pairs", pairs)
    con.execute("CREATE TEMP TABLE kept AS SELECT p.*, f.region_code, f.industry_code, f.size_class, f.name "
                "FROM pairs p JOIN facts f USING (uscc)")
    eligible, unknown, total = con.execute(
        "SELECT count(*) FILTER (status='eligible'), count(*) FILTER (status='unknown'), "
        "coalesce(sum(amount) FILTER (status='eligible'), 0) FROM kept").fetchone()
    budget = getattr(policy, "budget", None)
    total = Decimal(total)
    qs = [0.0, 0.25, 0.5, 0.75, 0.9, 1.0]
    values = con.execute(f"SELECT quantile_disc(amount, {qs}) FROM kept "
                         "WHERE status='eligible' AND amount IS NOT NULL").fetchone()[0] or []
    quantiles = list(zip(qs, values))
    amounts = [a for (a,) in con.execute("SELECT amount FROM kept WHERE status='eligible' AND amount IS NOT NULL")
               .fetchall()]

    def breakdown(key: str) -> list[dict]:
        rows = con.execute(
            f"SELECT {key} AS k, count(*) FILTER (status='eligible'), count(*) FILTER (status='unknown'), "
            f"coalesce(sum(amount) FILTER (status='eligible'), 0) FROM kept GROUP BY k ORDER BY 2 DESC, 1").fetchall()
        return [{"key": k, "eligible": e, "unknown": u, "amount": a} for k, e, u, a in rows]

    sample = con.execute(
        "SELECT uscc, name, status, amount, missing FROM kept ORDER BY status, amount DESC NULLS LAST, uscc "
        f"LIMIT {int(sample_size)}").fetchall()
    return Preview(
        policy_id=policy.id, evaluated=evaluated, eligible=eligible, unknown=unknown, amount_total=total,
        budget=budget, budget_share=float(total / budget) if budget else None,
        amount_distribution=[{"quantile": q, "amount": a} for q, a in quantiles],
        amount_bands=amount_bands(amounts),
        by_region=breakdown("region_code"), by_industry=breakdown("left(industry_code, 1)"),
        by_size_class=breakdown("size_class"),
        sample=[{"uscc": u, "name": n, "status": s, "amount": a, "missing": list(m or [])} for u, n, s, a, m in sample],
    )


def amount_bands(amounts: list[Decimal], most: int = 8) -> list[dict]:
    """Eligible amounts counted in equal bands of a round width (1, 2 or 5 × 10ⁿ 万元), at most
    ``most`` bands from 0 up to the largest amount; a band is [low, high), the last includes its
    top. One band holding the single amount when all amounts are equal. Empty bands are kept, so
    the chart's axis is linear."""
    if not amounts:
        return []
    top, bottom = max(amounts), min(amounts)
    if top == bottom:
        return [{"low": bottom, "high": top, "eligible": len(amounts), "amount": sum(amounts, Decimal(0))}]
    width = _round_width(Decimal(top) / most)
    count = max(1, int((Decimal(top) / width).to_integral_value(rounding=ROUND_CEILING)))
    bands = [{"low": width * i, "high": width * (i + 1), "eligible": 0, "amount": Decimal(0)} for i in range(count)]
    for a in amounts:
        band = bands[min(int(Decimal(a) // width), count - 1)]
        band["eligible"] += 1
        band["amount"] += Decimal(a)
    return bands


def _round_width(at_least: Decimal) -> Decimal:
    """The smallest of 1, 2, 5 × 10ⁿ (n ≥ -4: amounts have four decimals) that is ≥ at_least."""
    exponent = -4
    while True:
        for step in (1, 2, 5):
            width = Decimal(step).scaleb(exponent)
            if width >= at_least:
                return width.quantize(Decimal(1)) if width >= 1 else width  # 10, not 1E+1
        exponent += 1


# Labels for the breakdowns' keys, as the officer reads them (web page and CLI).
QUANTILE_ZH = {0.0: "最低", 0.25: "四分之一分位", 0.5: "中位数", 0.75: "四分之三分位", 0.9: "90%分位", 1.0: "最高"}


def quantile_label(q: float) -> str:
    return QUANTILE_ZH.get(q, f"{q:.0%}分位")


def region_label(code: str | None) -> str:
    """"浙江省杭州市西湖区" for 330106; the code itself when GB/T 2260 does not know it."""
    return (regions.full_name(code) or code) if code else "未知地区"


def section_label(letter: str | None) -> str:
    """GB/T 4754 门类 letter → "C 制造业"."""
    return f"{letter} {industries.name(letter) or ''}".strip() if letter else "未知行业"


def size_label(size_class: str | None) -> str:
    return size_class or "未知规模"
