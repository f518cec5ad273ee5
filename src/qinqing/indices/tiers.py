"""Colour tiers with hysteresis, and the 督办 rule — pure functions over one period's (or a history's) results.

Tiers are ordered best first. A unit's *position* is its score (``thresholds``) or its rank share
q = (rank − 1)/n (``rank_share``; level i takes q < the cumulative share up to i). Without a previous tier a
unit goes to the first level whose bound it meets. With one (tier p last period) the bounds move by the
``hysteresis`` band h: the levels better than p need the bound + h (harder to move up), p's own bound is
relaxed by h (easier to stay), so a unit whose position wobbles around a bound keeps its colour.

Units whose sample is below ``min_sample`` (and units not scored) get no tier: they are flagged, not coloured.

督办: a unit is put under supervision in period t when, in each of the ``consecutive`` periods ending at t, it
ranked in the bottom ``bottom_k`` of the ranked units; with ``robust`` only when, in each of those periods,
even the best rank of its Monte Carlo interval lay in the bottom k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qinqing.indices.config import Supervision, Tiers


@dataclass(frozen=True)
class TierAssignment:
    tier: str | None
    reason: str


def assign_tiers(spec: Tiers, units: list[str], scores: dict[str, float], ranks: dict[str, float],
                 previous: dict[str, str | None] | None = None,
                 samples: dict[str, float] | None = None) -> dict[str, TierAssignment]:
    previous = previous or {}
    ranked = [u for u in units if _ok(ranks.get(u))]
    n = len(ranked)
    ids = [level.id for level in spec.levels]
    out: dict[str, TierAssignment] = {}
    for unit in units:
        sample = (samples or {}).get(unit)
        if spec.min_sample is not None and (sample is None or not _ok(sample) or sample < spec.min_sample):
            shown = "无" if sample is None or not _ok(sample) else f"{int(sample)}"
            out[unit] = TierAssignment(None, f"样本不足（{shown} < {spec.min_sample}），不着色")
            continue
        if not _ok(ranks.get(unit)) or not _ok(scores.get(unit)):
            out[unit] = TierAssignment(None, "未计分，不着色")
            continue
        if spec.method == "thresholds":
            position = scores[unit]
            bounds = [level.min for level in spec.levels[:-1]]  # position ≥ bound
        else:
            position = -(ranks[unit] - 1) / n                   # q < cumulative share ⇔ −q > −share
            cumulative, bounds = 0.0, []
            for level in spec.levels[:-1]:
                cumulative += level.share  # type: ignore[operator]
                bounds.append(-cumulative)
        prior = previous.get(unit)
        p = ids.index(prior) if prior in ids else None
        h = spec.hysteresis
        chosen = len(ids) - 1
        for i, bound in enumerate(bounds):
            effective = bound
            if p is not None and h > 0:
                effective = bound + h if i < p else (bound - h if i == p else bound)
            meets = position >= effective if spec.method == "thresholds" else position > effective
            if meets:
                chosen = i
                break
        label = spec.levels[chosen].label
        if p is not None and chosen == p and _raw_tier(position, bounds, spec.method) != p:
            reason = f"{label}（处于滞后带内，保持上期分档）"
        else:
            reason = label
        out[unit] = TierAssignment(ids[chosen], reason)
    return out


def _raw_tier(position: float, bounds: list[float], method: str) -> int:
    for i, bound in enumerate(bounds):
        if (position >= bound) if method == "thresholds" else (position > bound):
            return i
    return len(bounds)


def _ok(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class PeriodRanks:
    """One period's ranking: rank per unit (ranked units only), and optionally the best rank of each unit's
    Monte Carlo interval (the low percentile)."""

    period: str
    ranks: dict[str, float]
    best_plausible: dict[str, float] | None = None

    @property
    def n(self) -> int:
        return sum(1 for r in self.ranks.values() if _ok(r))


def supervision_candidates(spec: Supervision, history: list[PeriodRanks],
                           names: dict[str, str] | None = None) -> dict[str, str]:
    """Units to put under 督办 at the last period of ``history`` (oldest first), each with its reason."""
    names = names or {}
    if len(history) < spec.consecutive:
        return {}
    window = history[-spec.consecutive:]
    out: dict[str, str] = {}
    for unit in window[-1].ranks:
        parts = []
        for period in window:
            rank = period.ranks.get(unit)
            if not _ok(rank) or rank <= period.n - spec.bottom_k:
                break
            if spec.robust:
                best = (period.best_plausible or {}).get(unit)
                if not _ok(best) or best <= period.n - spec.bottom_k:
                    break
                parts.append(f"{period.period} 第 {int(rank)}/{period.n} 名（区间最好 {best:g}）")
            else:
                parts.append(f"{period.period} 第 {int(rank)}/{period.n} 名")
        else:
            mode = "，且排名区间整体位于倒数范围" if spec.robust else ""
            out[unit] = (f"{names.get(unit, unit)} 连续 {spec.consecutive} 期排名倒数 {spec.bottom_k} 名以内{mode}："
                         + "；".join(parts))
    return out
