"""The pipeline of one period: raw values → missing-data rules → normalise → weight → aggregate → rank.

``compute(system, inputs)`` gives a ``Result``: every node's score per unit, the ranks, the values used with
the imputation method of each imputed cell, the weights used at every node (with AHP's consistency ratio),
and the units and indicators left out with the reason. ``Scorer`` is the same pipeline with its methods
open to override (a normaliser, an aggregator, weight multipliers, indicators left out), which the Monte
Carlo and the sensitivity analysis call many times on the same imputed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from qinqing.indices.aggregate import aggregate
from qinqing.indices.config import Node, Normalise, System
from qinqing.indices.errors import DataMissing
from qinqing.indices.normalise import normalise
from qinqing.indices.weighting import WeightResult, weigh

IMPUTE_LABELS = {"mean": "均值插补", "median": "中位数插补", "min": "最小值插补", "max": "最大值插补",
                 "carry_forward": "沿用上期"}


@dataclass
class Inputs:
    """What the sources gave for one period: ``raw`` (units × indicator ids, NaN = missing), the display
    ``names`` of the units, optional ``sample`` sizes and ``numerator``/``denominator`` per cell, the
    ``provenance`` of each cell (what records it came from), and the ``previous`` period's raw values
    (for carry-forward imputation)."""

    raw: pd.DataFrame
    names: dict[str, str] = field(default_factory=dict)
    period: str | None = None
    sample: pd.DataFrame | None = None
    numerator: pd.DataFrame | None = None
    denominator: pd.DataFrame | None = None
    provenance: dict[tuple[str, str], Any] = field(default_factory=dict)
    previous: pd.DataFrame | None = None


@dataclass
class Result:
    system: System
    period: str | None
    units: list[str]
    names: dict[str, str]
    raw: pd.DataFrame                 # units × indicators, as the sources gave them
    values: pd.DataFrame              # units × indicators, after imputation (NaN where none applied)
    imputed: pd.DataFrame             # units × indicators: the method ("mean", …) or ""
    scores: pd.DataFrame              # units × every node (indicators: their normalised scores)
    ranks: pd.DataFrame               # units × every node: 1 = best among the scored units
    weights: dict[str, WeightResult]
    excluded_units: dict[str, str]    # unit → why it is not scored
    dropped_indicators: dict[str, str]
    inputs: Inputs

    @property
    def root(self) -> str:
        return self.system.tree.id

    def overall(self) -> pd.Series:
        return self.scores[self.root]

    def ranking(self) -> pd.DataFrame:
        """One row per unit, best first: unit, name, score, rank, imputed cells, exclusion reason."""
        rows = []
        for unit in self.units:
            flags = [f"{ind}:{m}" for ind, m in self.imputed.loc[unit].items() if m]
            rows.append({"unit": unit, "name": self.names.get(unit, unit),
                         "score": self.scores.at[unit, self.root], "rank": self.ranks.at[unit, self.root],
                         "imputed": ";".join(flags), "excluded": self.excluded_units.get(unit, "")})
        frame = pd.DataFrame(rows)
        return frame.sort_values(["rank", "unit"], na_position="last").reset_index(drop=True)


def compute(system: System, inputs: Inputs) -> Result:
    prepared = prepare(system, inputs)
    scorer = Scorer(system, prepared)
    scores, weights = scorer.score()
    ranks = rank_all(scores, prepared.scored)
    return Result(system=system, period=inputs.period, units=prepared.units, names=inputs.names,
                  raw=prepared.raw, values=prepared.values, imputed=prepared.imputed, scores=scores,
                  ranks=ranks, weights=weights, excluded_units=prepared.excluded_units,
                  dropped_indicators=prepared.dropped, inputs=inputs)


@dataclass
class Prepared:
    units: list[str]
    raw: pd.DataFrame
    values: pd.DataFrame
    imputed: pd.DataFrame
    active: set[str]                  # indicators kept
    dropped: dict[str, str]
    excluded_units: dict[str, str]
    scored: np.ndarray                # bool per unit: takes part in normalisation and ranking


def prepare(system: System, inputs: Inputs) -> Prepared:
    """Missing-data rules: coverage per indicator, availability per unit, imputation per cell."""
    indicators = [node.id for node in system.indicators()]
    missing_columns = [i for i in indicators if i not in inputs.raw.columns]
    if missing_columns:
        raise DataMissing(f"数据缺少指标 {', '.join(missing_columns)} 的列。", indicators=missing_columns)
    raw = inputs.raw[indicators].astype(float)
    units = [str(u) for u in raw.index]
    raw.index = units
    rules = system.missing
    dropped: dict[str, str] = {}
    for ind in indicators:
        coverage = raw[ind].notna().mean() if len(raw) else 0.0
        if coverage < rules.indicator_coverage:
            dropped[ind] = f"仅 {coverage:.0%} 的单位有数据，低于 {rules.indicator_coverage:.0%}，本期不计入"
    active = [i for i in indicators if i not in dropped]
    excluded: dict[str, str] = {}
    if active:
        availability = raw[active].notna().mean(axis=1)
        for unit, share in availability.items():
            if share < rules.unit_availability:
                excluded[unit] = f"仅有 {share:.0%} 的指标有数据，低于 {rules.unit_availability:.0%}，不参与计算"
    else:
        excluded = {unit: "本期没有可用的指标" for unit in units}
    scored = np.array([u not in excluded for u in units])
    values = raw.copy()
    imputed = pd.DataFrame("", index=units, columns=indicators)
    for ind in active:
        node = system.node(ind)
        method = node.impute or rules.impute
        if method == "none":
            continue
        column = values[ind]
        gaps = column.isna().to_numpy() & scored
        if not gaps.any():
            continue
        present = column[scored & column.notna().to_numpy()]
        if method == "carry_forward":
            previous = inputs.previous
            if previous is None or ind not in previous.columns:
                continue
            fill = previous[ind].reindex(units)
            for i in np.flatnonzero(gaps):
                if not np.isnan(fill.iloc[i]):
                    values.iat[i, values.columns.get_loc(ind)] = fill.iloc[i]
                    imputed.iat[i, imputed.columns.get_loc(ind)] = method
            continue
        if present.empty:
            continue
        fill_value = {"mean": present.mean, "median": present.median, "min": present.min,
                      "max": present.max}[method]()
        for i in np.flatnonzero(gaps):
            values.iat[i, values.columns.get_loc(ind)] = fill_value
            imputed.iat[i, imputed.columns.get_loc(ind)] = method
    return Prepared(units=units, raw=raw, values=values, imputed=imputed, active=set(active), dropped=dropped,
                    excluded_units=excluded, scored=scored)


class Scorer:
    """The tree pass over prepared values, with optional overrides (for uncertainty and sensitivity).

    ``normaliser`` replaces every indicator's method (``"configured"`` keeps it; goalposts indicators keep
    their goalposts under ``"configured"`` only); ``aggregator`` replaces every node's; ``weight_factors``
    maps node id → multipliers of its children's weights; ``leave_out`` names indicators to drop.
    """

    def __init__(self, system: System, prepared: Prepared) -> None:
        self.system = system
        self.prepared = prepared
        self.values = prepared.values.to_numpy(dtype=float)
        self.columns = {c: i for i, c in enumerate(prepared.values.columns)}
        self._cache: dict[tuple, np.ndarray] = {}

    def indicator_scores(self, node: Node, normaliser: str = "configured") -> np.ndarray:
        key = (node.id, normaliser)
        if key not in self._cache:
            spec = self.system.normalise_of(node)
            if normaliser != "configured":
                spec = Normalise(method=normaliser, scale=spec.scale)  # type: ignore[arg-type]
            x = self.values[:, self.columns[node.id]].copy()
            x[~self.prepared.scored] = np.nan
            self._cache[key] = normalise(x, spec, node.direction or "higher", name=node.id)
        return self._cache[key]

    def score(self, *, normaliser: str = "configured", aggregator: str = "configured",
              weight_factors: dict[str, np.ndarray] | None = None,
              leave_out: frozenset[str] = frozenset()) -> tuple[pd.DataFrame, dict[str, WeightResult]]:
        columns: dict[str, np.ndarray] = {}
        weights: dict[str, WeightResult] = {}
        self._node(self.system.tree, columns, weights, normaliser, aggregator, weight_factors or {}, leave_out)
        frame = pd.DataFrame(columns, index=self.prepared.units)
        ordered = [n.id for n in self.system.tree.walk() if n.id in frame.columns]
        return frame[ordered], weights

    def overall(self, **overrides) -> np.ndarray:
        frame, _ = self.score(**overrides)
        return frame[self.system.tree.id].to_numpy()

    def _node(self, node: Node, columns, weights, normaliser, aggregator, factors, leave_out) -> np.ndarray | None:
        if node.is_indicator:
            if node.id not in self.prepared.active or node.id in leave_out:
                return None
            s = self.indicator_scores(node, normaliser)
            columns[node.id] = s
            return s
        kids, ids = [], []
        for child in node.children or ():
            s = self._node(child, columns, weights, normaliser, aggregator, factors, leave_out)
            if s is not None:
                kids.append(s)
                ids.append(child.id)
        if not kids:
            return None
        matrix = np.column_stack(kids)
        spec = node.weights
        all_ids = [c.id for c in node.children or ()]
        if spec is not None and spec.method in ("expert", "ahp") and ids != all_ids:
            full = weigh(spec, all_ids, None, node=node.id)
            w = np.array([full.weights[all_ids.index(i)] for i in ids])
            result = WeightResult(w / w.sum(), full.method, full.details)
        else:
            result = weigh(spec, ids, matrix[self.prepared.scored], node=node.id)
        w = result.weights
        if node.id in factors:
            f = np.asarray(factors[node.id])[: len(w)]
            w = w * f
            w = w / w.sum()
        weights[node.id] = WeightResult(w, result.method, result.details)
        method = self.system.aggregate_of(node) if aggregator == "configured" else aggregator
        out = aggregate(matrix, w, method, node=node.id)
        if node.min_available is not None:
            share = (~np.isnan(matrix)).mean(axis=1)
            out = np.where(share + 1e-12 >= node.min_available, out, np.nan)
        out = np.where(self.prepared.scored, out, np.nan)
        columns[node.id] = out
        return out


def ranks_of(scores: np.ndarray, scored: np.ndarray | None = None) -> np.ndarray:
    """Competition ranks (1 = highest score; ties share the best rank); NaN for unscored or missing."""
    s = np.asarray(scores, dtype=float)
    mask = ~np.isnan(s) if scored is None else (~np.isnan(s) & scored)
    out = np.full(s.shape, np.nan)
    if mask.any():
        out[mask] = rankdata(-s[mask], method="min")
    return out


def rank_all(scores: pd.DataFrame, scored: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({c: ranks_of(scores[c].to_numpy(), scored) for c in scores.columns}, index=scores.index)
