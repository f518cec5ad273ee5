"""Weights of a node's children.

- equal    wᵢ = 1/n
- expert   wᵢ = vᵢ / Σ v
- ahp      w = the principal right eigenvector of the pairwise matrix A (scaled to Σ w = 1);
           CI = (λmax − n)/(n − 1), CR = CI / RI(n), RI from Saaty's random index table (below).
           Saaty, T. L. (1980) *The Analytic Hierarchy Process*, McGraw-Hill; the same table in Saaty (1987),
           "The analytic hierarchy process — what it is and how it is used", *Mathematical Modelling* 9(3–5):
           161–176, doi:10.1016/0270-0255(87)90473-8. A matrix with CR > 0.1 is refused by default.
- entropy  pᵢⱼ = xᵢⱼ / Σᵢ xᵢⱼ, eⱼ = −(1/ln m) Σᵢ pᵢⱼ ln pᵢⱼ, dⱼ = 1 − eⱼ, wⱼ = dⱼ / Σ d
           (Shannon entropy weights; Hwang & Yoon (1981) *Multiple Attribute Decision Making*, Springer, §4).
- critic   x min-max scaled to [0, 1] per column, σⱼ its sd, rⱼₖ the Pearson correlations,
           Cⱼ = σⱼ Σₖ (1 − rⱼₖ), wⱼ = Cⱼ / Σ C (Diakoulaki, Mavrotas & Papayannakis (1995), *Computers &
           Operations Research* 22(7): 763–770, doi:10.1016/0305-0548(94)00059-H).
- pca      OECD/JRC Handbook (2008) §6.1: components of the correlation matrix with eigenvalue ≥
           ``min_eigenvalue`` (Kaiser: 1) are kept, their loadings (eigenvector · √eigenvalue) rotated by
           varimax; each indicator goes to the component where its squared loading, scaled to unity sum
           within the component, is largest; wⱼ = that scaled squared loading × the component's share of
           the retained variance; then Σ w = 1.

The data-driven methods use the units with every child present (complete cases).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qinqing.indices.config import Weights
from qinqing.indices.errors import MethodFailed

# Saaty's random consistency index RI(n), n = 1 … 10 (Saaty 1980, table 1.7; Saaty 1987, p. 171).
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}


@dataclass(frozen=True)
class WeightResult:
    weights: np.ndarray
    method: str
    details: dict = field(default_factory=dict)  # e.g. {"cr": 0.03, "lambda_max": 3.04}


def weigh(spec: Weights | None, child_ids: list[str], scores: np.ndarray | None = None, *,
          node: str = "") -> WeightResult:
    """Weights (Σ = 1, in ``child_ids`` order) for ``spec``; ``scores`` (units × children) for data methods."""
    spec = spec or Weights()
    n = len(child_ids)
    if spec.method == "equal":
        return WeightResult(np.full(n, 1.0 / n), "equal")
    if spec.method == "expert":
        v = np.array([spec.values[c] for c in child_ids], dtype=float)  # type: ignore[index]
        if v.sum() <= 0:
            raise MethodFailed(f"节点 {node} 的专家权重之和须大于 0。")
        return WeightResult(v / v.sum(), "expert")
    if spec.method == "ahp":
        order = spec.order or child_ids
        w_order, details = ahp(np.array(spec.matrix, dtype=float), node=node)
        if details["cr"] > spec.max_cr:
            raise MethodFailed(
                f"节点 {node} 的 AHP 判断矩阵一致性比率 CR = {details['cr']:.3f}，超过 {spec.max_cr}，"
                "请修改两两比较后再计算（Saaty 建议 CR ≤ 0.1）。", **details)
        index = {c: i for i, c in enumerate(order)}
        return WeightResult(np.array([w_order[index[c]] for c in child_ids]), "ahp", details)
    if scores is None:
        raise MethodFailed(f"节点 {node} 的 {spec.method} 权重需要数据。")
    complete = np.asarray(scores, dtype=float)
    complete = complete[~np.isnan(complete).any(axis=1)]
    if complete.shape[0] < 2:
        raise MethodFailed(f"节点 {node} 的 {spec.method} 权重需要至少 2 个数据完整的单位。")
    if spec.method == "entropy":
        return WeightResult(entropy(complete, node=node), "entropy")
    if spec.method == "critic":
        return WeightResult(critic(complete), "critic")
    if spec.method == "pca":
        w, details = pca(complete, min_eigenvalue=spec.min_eigenvalue, rotation=spec.rotation)
        return WeightResult(w, "pca", details)
    raise MethodFailed(f"未知的赋权方法 {spec.method}。")


def ahp(matrix: np.ndarray, *, node: str = "") -> tuple[np.ndarray, dict]:
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    if a.shape != (n, n) or np.any(a <= 0):
        raise MethodFailed(f"节点 {node} 的 AHP 矩阵须为正的方阵。")
    if not np.allclose(a * a.T, 1.0, rtol=1e-3):
        raise MethodFailed(f"节点 {node} 的 AHP 矩阵须互反（a_ji = 1/a_ij）。")
    if n > max(RANDOM_INDEX):
        raise MethodFailed(f"节点 {node} 的 AHP 比较对象多于 {max(RANDOM_INDEX)} 个，Saaty 随机一致性指标表未覆盖。")
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    lam = float(values[k].real)
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    return w, {"lambda_max": lam, "ci": max(ci, 0.0), "ri": ri, "cr": max(cr, 0.0)}


def entropy(x: np.ndarray, *, node: str = "") -> np.ndarray:
    if np.any(x < 0):
        raise MethodFailed(f"节点 {node} 的熵权法需要非负得分（请用 minmax、percentile 或 goalposts 标准化）。")
    m = x.shape[0]
    sums = x.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(sums > 0, x / sums, 1.0 / m)
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(m)
    d = 1.0 - e
    if d.sum() <= 1e-15:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return d / d.sum()


def critic(x: np.ndarray) -> np.ndarray:
    low, high = x.min(axis=0), x.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    z = (x - low) / span
    sd = z.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(z, rowvar=False) if x.shape[1] > 1 else np.ones((1, 1))
    r = np.nan_to_num(np.atleast_2d(r), nan=0.0)  # a constant column correlates with nothing
    c = sd * (1.0 - r).sum(axis=0)
    if c.sum() <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return c / c.sum()


def varimax(loadings: np.ndarray, *, gamma: float = 1.0, iterations: int = 100, tol: float = 1e-8) -> np.ndarray:
    """Kaiser's varimax rotation of a (variables × factors) loading matrix."""
    p, k = loadings.shape
    if k < 2:
        return loadings.copy()
    rotation = np.eye(k)
    previous = 0.0
    for _ in range(iterations):
        lam = loadings @ rotation
        u, s, vt = np.linalg.svd(
            loadings.T @ (lam ** 3 - (gamma / p) * lam @ np.diag(np.sum(lam ** 2, axis=0))))
        rotation = u @ vt
        if s.sum() < previous * (1 + tol):
            break
        previous = s.sum()
    return loadings @ rotation


def pca(x: np.ndarray, *, min_eigenvalue: float = 1.0, rotation: str = "varimax") -> tuple[np.ndarray, dict]:
    n = x.shape[1]
    if n == 1:
        return np.ones(1), {"components": 1, "explained": [1.0]}
    sd = x.std(axis=0, ddof=1)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    corr = np.nan_to_num(np.corrcoef(z, rowvar=False), nan=0.0)
    np.fill_diagonal(corr, 1.0)
    values, vectors = np.linalg.eigh(corr)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    keep = max(1, int(np.sum(values >= min_eigenvalue - 1e-9)))
    loadings = vectors[:, :keep] * np.sqrt(np.clip(values[:keep], 0, None))
    if rotation == "varimax":
        loadings = varimax(loadings)
    squared = loadings ** 2
    variance = squared.sum(axis=0)  # each rotated component's variance
    scaled = squared / np.where(variance > 0, variance, 1.0)
    component = np.argmax(scaled, axis=1)
    share = variance / variance.sum()
    w = scaled[np.arange(n), component] * share[component]
    if w.sum() <= 0:
        w = np.full(n, 1.0 / n)
    return w / w.sum(), {"components": keep, "eigenvalues": [float(v) for v in values],
                         "explained": [float(v) for v in share]}
