"""Aggregation of a node's children scores (units × children, NaN = missing) with weights w.

- arithmetic  Σ wᵢ sᵢ / Σ wᵢ
- geometric   Π sᵢ^(wᵢ/Σw)            (needs sᵢ ≥ 0; any sᵢ = 0 gives 0)
- harmonic    Σ wᵢ / Σ (wᵢ / sᵢ)        (needs sᵢ ≥ 0; any sᵢ = 0 gives 0)

A missing child is left out and the remaining weights are rescaled (Σ over the children present), so a unit's
score is the same formula over what it has; ``min_available`` on the node decides whether that is enough.
"""

from __future__ import annotations

import numpy as np

from qinqing.indices.errors import MethodFailed


def aggregate(scores: np.ndarray, weights: np.ndarray, method: str, *, node: str = "") -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    w = np.broadcast_to(np.asarray(weights, dtype=float), s.shape)
    present = ~np.isnan(s)
    wp = np.where(present, w, 0.0)
    total = wp.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "arithmetic":
            out = (np.where(present, s, 0.0) * wp).sum(axis=1) / total
        elif method in ("geometric", "harmonic"):
            if np.any(s[present] < 0):
                raise MethodFailed(
                    f"节点 {node} 的{'几何' if method == 'geometric' else '调和'}平均需要非负得分，"
                    "请改用 minmax、percentile 或 goalposts 标准化（z-score 有负值）。")
            safe = np.where(present, s, 1.0)
            if method == "geometric":
                zero = np.any(present & (safe == 0), axis=1)
                logs = np.where(present & (safe > 0), np.log(np.where(safe > 0, safe, 1.0)), 0.0)
                out = np.exp((logs * wp).sum(axis=1) / total)
                out = np.where(zero, 0.0, out)
            else:
                zero = np.any(present & (safe == 0), axis=1)
                inv = np.where(present & (safe > 0), wp / np.where(safe > 0, safe, 1.0), 0.0)
                out = total / inv.sum(axis=1)
                out = np.where(zero, 0.0, out)
        else:
            raise MethodFailed(f"未知的汇总方法 {method}。")
    return np.where(total > 0, out, np.nan)


AGGREGATORS = ("arithmetic", "geometric", "harmonic")
