"""Normalisation: one indicator's raw values (NaN = missing) → comparable scores, higher always better.

Formulas (x the raw values of the units of one period; OECD/JRC Handbook on Constructing Composite
Indicators, 2008, §1.5 and table 6; Doing Business 2020, ch. 6, for goalposts):

- minmax      s = (x − min x)/(max x − min x) · scale           (mirrored: (max x − x)/(…) for "lower")
- zscore      s = (x − mean x)/sd x · sd_to + mean_to            (sd with n − 1; mirrored by negating)
- rank        s = average rank, 1 = worst … n = best              (ties share their mean rank)
- percentile  s = (rank − 1)/(n − 1) · scale
- goalposts   s = T((worst − clip(x))/(worst − best)) · scale     (clip to [best, worst] either way round;
              T the optional transform: u**p, or linear interpolation through points)
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from qinqing.indices.config import Normalise, PiecewiseLinearTransform, PowerTransform
from qinqing.indices.errors import MethodFailed


def normalise(values: np.ndarray, spec: Normalise, direction: str = "higher", *, name: str = "") -> np.ndarray:
    """Scores of ``values`` (a 1-d float array, NaN kept as NaN) under ``spec``."""
    x = np.asarray(values, dtype=float)
    if spec.method == "goalposts":
        return goalposts(x, spec.best, spec.worst, spec.transform) * spec.scale  # type: ignore[arg-type]
    signed = -x if direction == "lower" else x
    return METHODS[spec.method](signed, spec, name)


def minmax(x: np.ndarray, spec: Normalise, name: str = "") -> np.ndarray:
    present = x[~np.isnan(x)]
    if present.size == 0:
        return x.copy()
    low, high = present.min(), present.max()
    if high == low:  # every unit equal: all at the top, nobody is behind
        return np.where(np.isnan(x), np.nan, spec.scale)
    return (x - low) / (high - low) * spec.scale


def zscore(x: np.ndarray, spec: Normalise, name: str = "") -> np.ndarray:
    present = x[~np.isnan(x)]
    if present.size < 2:
        return np.where(np.isnan(x), np.nan, spec.mean_to)
    sd = present.std(ddof=1)
    if sd == 0:
        return np.where(np.isnan(x), np.nan, spec.mean_to)
    return (x - present.mean()) / sd * spec.sd_to + spec.mean_to


def rank(x: np.ndarray, spec: Normalise | None = None, name: str = "") -> np.ndarray:
    out = np.full(x.shape, np.nan)
    mask = ~np.isnan(x)
    out[mask] = rankdata(x[mask], method="average")
    return out


def percentile(x: np.ndarray, spec: Normalise, name: str = "") -> np.ndarray:
    r = rank(x)
    n = int((~np.isnan(x)).sum())
    if n < 2:
        return np.where(np.isnan(x), np.nan, spec.scale)
    return (r - 1) / (n - 1) * spec.scale


def goalposts(x: np.ndarray, best: float, worst: float, transform=None) -> np.ndarray:
    """The 0–1 distance-to-frontier score: values beyond the goalposts are capped."""
    low, high = min(best, worst), max(best, worst)
    capped = np.clip(x, low, high)
    u = (worst - capped) / (worst - best) + 0.0  # + 0.0 turns -0.0 into 0.0
    if transform is None:
        return u
    if isinstance(transform, PowerTransform):
        return u ** transform.power
    if isinstance(transform, PiecewiseLinearTransform):
        xs = np.array([p[0] for p in transform.points])
        ys = np.array([p[1] for p in transform.points])
        source = u if transform.on == "score" else capped
        out = np.interp(source, xs, ys)
        return np.where(np.isnan(x), np.nan, out)
    raise MethodFailed(f"未知的变换 {transform!r}。")


METHODS = {"minmax": minmax, "zscore": zscore, "rank": rank, "percentile": percentile}
