"""Uncertainty and sensitivity of an index (OECD/JRC Handbook 2008, step 7; COINr's ``get_sensitivity``).

- :func:`monte_carlo` — seeded runs over the method choices: every node's weights multiplied by factors drawn
  uniformly from [1 − noise, 1 + noise] (then rescaled to Σ = 1), a normaliser and an aggregator drawn
  uniformly from the valid combinations of the configured lists (z-scores, which are negative, only with
  the arithmetic mean); each unit's rank median and the ``interval`` percentiles (5–95 % by default).
  The same seed gives the same numbers.
- :func:`sensitivity` — variance-based (Sobol) first-order Sᵢ and total STᵢ indices of a scalar output (the
  mean absolute rank shift from the nominal ranking, or one unit's rank) with respect to each uncertain
  input, from Saltelli's sampling with N·(d + 2) model runs: Sᵢ = mean(f_B (f_ABᵢ − f_A)) / V (Saltelli et
  al. 2010, *Computer Physics Communications* 181: 259–270, doi:10.1016/j.cpc.2009.09.018) and
  STᵢ = mean((f_A − f_ABᵢ)²) / (2V) (Jansen 1999). An input that cannot change the output has
  f_ABᵢ = f_A exactly, hence Sᵢ = STᵢ = 0.
- :func:`leave_one_out` — each indicator removed in turn (its siblings reweighted): the rank of every unit and
  the mean absolute rank shift.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from qinqing.indices.config import System, Uncertainty
from qinqing.indices.engine import Inputs, Scorer, prepare, ranks_of


@dataclass
class MonteCarlo:
    runs: int
    seed: int
    interval: tuple[float, float]
    ranks: np.ndarray             # runs × units
    scores: np.ndarray            # runs × units
    units: list[str]
    nominal_rank: np.ndarray

    def summary(self) -> pd.DataFrame:
        low, high = self.interval
        with warnings.catch_warnings():  # units never ranked (all-NaN columns) get NaN, quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pd.DataFrame({
                "nominal_rank": self.nominal_rank,
                "rank_median": np.nanmedian(self.ranks, axis=0),
                "rank_low": np.nanpercentile(self.ranks, low, axis=0),
                "rank_high": np.nanpercentile(self.ranks, high, axis=0),
                "score_median": np.nanmedian(self.scores, axis=0),
            }, index=self.units)
        return frame


def _nodes_with_choices(system: System) -> list[tuple[str, int]]:
    return [(n.id, len(n.children)) for n in system.tree.walk() if n.children and len(n.children) > 1]


def _combinations(spec: Uncertainty) -> list[tuple[str, str]]:
    pairs = [(n, a) for n in dict.fromkeys(spec.normalisers) for a in dict.fromkeys(spec.aggregators)]
    valid = [(n, a) for n, a in pairs if not (n == "zscore" and a in ("geometric", "harmonic"))]
    return valid or [("configured", "configured")]


def monte_carlo(system: System, inputs: Inputs, spec: Uncertainty | None = None, *,
                exclude: set[str] | frozenset[str] = frozenset()) -> MonteCarlo:
    """``exclude``: units scored but not ranked (e.g. under the tiers' minimum sample)."""
    spec = spec or system.uncertainty or Uncertainty()
    prepared = prepare(system, inputs)
    ranked = prepared.scored & np.array([u not in exclude for u in prepared.units])
    scorer = Scorer(system, prepared)
    rng = np.random.default_rng(spec.seed)
    nodes = _nodes_with_choices(system)
    combos = _combinations(spec)
    nominal = ranks_of(scorer.overall(), ranked)
    ranks = np.empty((spec.runs, len(prepared.units)))
    scores = np.empty_like(ranks)
    for run in range(spec.runs):
        factors = {node: rng.uniform(1 - spec.weight_noise, 1 + spec.weight_noise, size=k) for node, k in nodes}
        normaliser, aggregator = combos[int(rng.integers(len(combos)))]
        overall = scorer.overall(normaliser=normaliser, aggregator=aggregator, weight_factors=factors)
        scores[run] = overall
        ranks[run] = ranks_of(overall, ranked)
    return MonteCarlo(runs=spec.runs, seed=spec.seed, interval=spec.interval, ranks=ranks, scores=scores,
                      units=prepared.units, nominal_rank=nominal)


# --- Sobol indices ---------------------------------------------------------------------------------------

def sobol_indices(model: Callable[[np.ndarray], np.ndarray], d: int, n: int, *, seed: int = 0) -> dict:
    """First-order and total Sobol indices of ``model`` (rows of the unit hypercube [0, 1)^d → outputs),
    from a scrambled Sobol' sample of base size ``n`` (a power of two): N·(d + 2) model evaluations."""
    sampler = qmc.Sobol(d=2 * d, scramble=True, seed=seed)
    base = sampler.random(n)
    a, b = base[:, :d], base[:, d:]
    f_a, f_b = model(a), model(b)
    variance = np.var(np.concatenate([f_a, f_b]))
    first, total = np.zeros(d), np.zeros(d)
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        f_ab = model(ab)
        if variance > 0:
            first[i] = np.mean(f_b * (f_ab - f_a)) / variance
            total[i] = 0.5 * np.mean((f_a - f_ab) ** 2) / variance
    return {"S1": first, "ST": total, "variance": float(variance), "runs": n * (d + 2)}


@dataclass
class Sensitivity:
    parameters: list[str]
    first: np.ndarray
    total: np.ndarray
    runs: int
    target: str

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"S1": self.first, "ST": self.total}, index=self.parameters)


def sensitivity(system: System, inputs: Inputs, spec: Uncertainty | None = None, *, n: int = 256,
                target: str = "mean_rank_shift") -> Sensitivity:
    """Sobol indices of ``target`` (``"mean_rank_shift"`` or a unit id: that unit's rank) with respect to each
    node's child weights, the normaliser and the aggregator (the last two only when there is a choice)."""
    spec = spec or system.uncertainty or Uncertainty()
    prepared = prepare(system, inputs)
    scorer = Scorer(system, prepared)
    nodes = _nodes_with_choices(system)
    combos = _combinations(spec)
    normalisers = sorted({c[0] for c in combos}, key=[c[0] for c in combos].index)
    aggregators = sorted({c[1] for c in combos}, key=[c[1] for c in combos].index)
    parameters = [f"weight:{node}/{child.id}" for node, _ in nodes for child in system.node(node).children or ()]
    if len(normalisers) > 1:
        parameters.append("normaliser")
    if len(aggregators) > 1:
        parameters.append("aggregator")
    nominal = ranks_of(scorer.overall(), prepared.scored)
    unit_index = prepared.units.index(target) if target != "mean_rank_shift" else None
    noise = spec.weight_noise

    def one(row: np.ndarray) -> float:
        factors, k = {}, 0
        for node, count in nodes:
            factors[node] = 1 - noise + 2 * noise * row[k:k + count]
            k += count
        normaliser = normalisers[min(int(row[k] * len(normalisers)), len(normalisers) - 1)] \
            if len(normalisers) > 1 else normalisers[0]
        k += len(normalisers) > 1
        aggregator = aggregators[min(int(row[k] * len(aggregators)), len(aggregators) - 1)] \
            if len(aggregators) > 1 else aggregators[0]
        if normaliser == "zscore" and aggregator in ("geometric", "harmonic"):
            aggregator = "arithmetic"
        ranks = ranks_of(scorer.overall(normaliser=normaliser, aggregator=aggregator, weight_factors=factors),
                         prepared.scored)
        if unit_index is not None:
            return float(ranks[unit_index])
        return float(np.nanmean(np.abs(ranks - nominal)))

    result = sobol_indices(lambda rows: np.array([one(r) for r in rows]), len(parameters), n, seed=spec.seed)
    return Sensitivity(parameters=parameters, first=result["S1"], total=result["ST"], runs=result["runs"],
                       target=target)


def leave_one_out(system: System, inputs: Inputs) -> pd.DataFrame:
    """One row per indicator: the mean absolute rank shift when it is left out, and each unit's rank then."""
    prepared = prepare(system, inputs)
    scorer = Scorer(system, prepared)
    nominal = ranks_of(scorer.overall(), prepared.scored)
    rows = []
    for indicator in system.indicators():
        if indicator.id not in prepared.active:
            continue
        ranks = ranks_of(scorer.overall(leave_out=frozenset({indicator.id})), prepared.scored)
        row = {"indicator": indicator.id, "name": indicator.name,
               "mean_abs_rank_shift": float(np.nanmean(np.abs(ranks - nominal)))}
        row.update({f"rank:{u}": r for u, r in zip(prepared.units, ranks, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)
