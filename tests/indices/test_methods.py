"""Every method against values computed by hand (the arithmetic is in each case's comment)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qinqing.indices.aggregate import aggregate
from qinqing.indices.config import Normalise, PiecewiseLinearTransform, PowerTransform, Weights
from qinqing.indices.errors import MethodFailed
from qinqing.indices.normalise import normalise
from qinqing.indices.weighting import RANDOM_INDEX, ahp, critic, entropy, pca, weigh

NAN = float("nan")


@pytest.mark.parametrize(("values", "spec", "direction", "expected"), [
    # min 2, max 10: (x-2)/8*100
    ([2, 4, 10], Normalise(method="minmax"), "higher", [0, 25, 100]),
    # lower is better: (10-x)/8*100
    ([2, 4, 10], Normalise(method="minmax"), "lower", [100, 75, 0]),
    # missing stays missing; min-max over the others
    ([1, NAN, 3], Normalise(method="minmax", scale=1), "higher", [0, NAN, 1]),
    # all equal: nobody behind
    ([5, 5], Normalise(method="minmax"), "higher", [100, 100]),
    # mean 4, sample sd = sqrt(((−2)²+0+2²)/2) = 2
    ([2, 4, 6], Normalise(method="zscore"), "higher", [-1, 0, 1]),
    ([2, 4, 6], Normalise(method="zscore"), "lower", [1, 0, -1]),
    # rescaled: 100 + 10 z
    ([2, 4, 6], Normalise(method="zscore", mean_to=100, sd_to=10), "higher", [90, 100, 110]),
    # ranks with a tie: 10 → 1, the two 20s share (2+3)/2, 30 → 4
    ([10, 20, 20, 30], Normalise(method="rank"), "higher", [1, 2.5, 2.5, 4]),
    ([10, 20, 30], Normalise(method="rank"), "lower", [3, 2, 1]),
    # (rank-1)/(n-1)*100: ranks 1,2,3,4,5
    ([3, 1, 4, 1.5, 9], Normalise(method="percentile"), "higher", [50, 0, 75, 25, 100]),
    # goalposts best 1, worst 18 (DB procedures): (18-x)/17*100, 0.5 capped to 1, 20 capped to 18
    ([1, 4, 18, 0.5, 20], Normalise(method="goalposts", best=1, worst=18), "lower",
     [100, 14 / 17 * 100, 0, 100, 0]),
    # higher is better goalposts: best 12, worst 0: x/12*100
    ([6, 12, 3], Normalise(method="goalposts", best=12, worst=0), "higher", [50, 100, 25]),
    # power transform: ((80-x)/(80-20))**0.8 · 100: x=50 → 0.5**0.8
    ([50, 20], Normalise(method="goalposts", best=20, worst=80, transform=PowerTransform(power=0.8)),
     "lower", [100 * 0.5 ** 0.8, 100]),
    # piecewise-linear on the 0–1 score: u=0.25 → 0.5 (between (0,0) and (0.5,1)), u=0.75 → 1
    ([75, 25], Normalise(method="goalposts", best=0, worst=100, scale=1,
                         transform=PiecewiseLinearTransform(points=[(0, 0), (0.5, 1), (1, 1)])),
     "lower", [0.5, 1]),
    # piecewise-linear on the raw value: 30 → 0.8 between (20, 1) and (70, 0)
    ([30], Normalise(method="goalposts", best=20, worst=70, scale=1,
                     transform=PiecewiseLinearTransform(on="value", points=[(20, 1), (70, 0)])),
     "lower", [0.8]),
])
def test_normalise(values, spec, direction, expected) -> None:
    got = normalise(np.array(values, dtype=float), spec, direction)
    np.testing.assert_allclose(got, np.array(expected, dtype=float), equal_nan=True, atol=1e-12)


@pytest.mark.parametrize(("scores", "weights", "method", "expected"), [
    ([[40, 80]], [0.25, 0.75], "arithmetic", [70]),                        # 10 + 60
    ([[4, 16]], [0.5, 0.5], "geometric", [8]),                             # √(4·16)
    ([[8, 1]], [2 / 3, 1 / 3], "geometric", [4]),                          # 8^(2/3)·1 = 4
    ([[2, 6]], [0.5, 0.5], "harmonic", [3]),                               # 1/(0.25+1/12) = 3
    ([[10, 40]], [0.2, 0.8], "harmonic", [25]),                            # 1/(0.02+0.02) = 25
    ([[0, 50]], [0.5, 0.5], "geometric", [0]),
    ([[0, 50]], [0.5, 0.5], "harmonic", [0]),
    # a missing child: the others' weights rescaled: (0.25·40)/0.25 = 40
    ([[40, NAN]], [0.25, 0.75], "arithmetic", [40]),
    ([[NAN, NAN]], [0.5, 0.5], "arithmetic", [NAN]),
])
def test_aggregate(scores, weights, method, expected) -> None:
    got = aggregate(np.array(scores, dtype=float), np.array(weights), method)
    np.testing.assert_allclose(got, np.array(expected, dtype=float), equal_nan=True, rtol=1e-12)


def test_geometric_refuses_negative_scores() -> None:
    with pytest.raises(MethodFailed, match="非负"):
        aggregate(np.array([[-1.0, 2.0]]), np.array([0.5, 0.5]), "geometric", node="n")


@pytest.mark.parametrize(("spec", "expected"), [
    (Weights(), [1 / 3, 1 / 3, 1 / 3]),
    (Weights(method="expert", values={"a": 2, "b": 1, "c": 1}), [0.5, 0.25, 0.25]),
])
def test_fixed_weights(spec, expected) -> None:
    np.testing.assert_allclose(weigh(spec, ["a", "b", "c"]).weights, expected)


def test_ahp_consistent_matrix() -> None:
    # a perfectly consistent matrix a_ij = w_i/w_j for w = (4, 2, 1)/7: λmax = 3, CI = CR = 0
    w, details = ahp(np.array([[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]]))
    np.testing.assert_allclose(w, [4 / 7, 2 / 7, 1 / 7])
    assert details["lambda_max"] == pytest.approx(3)
    assert details["cr"] == pytest.approx(0, abs=1e-12)


def test_ahp_consistency_ratio_by_hand() -> None:
    # A = [[1,3,1/3],[1/3,1,1/5],[3,5,1]]: its characteristic polynomial is λ³ − 3λ² + c with
    # c = 2 − (a12 a23 a31 + a13 a32 a21) … = −(3·(1/5)·3 + (1/3)·5·(1/3)) + 2 = −(1.8 + 5/9) + 2,
    # so λmax solves λ³ − 3λ² − 0.35556 = 0 → λmax ≈ 3.0385; CI = 0.0193, CR = CI / 0.58 ≈ 0.0332.
    a = np.array([[1, 3, 1 / 3], [1 / 3, 1, 1 / 5], [3, 5, 1]])
    c = -(3 * (1 / 5) * 3 + (1 / 3) * 5 * (1 / 3)) + 2
    lam = max(r.real for r in np.roots([1, -3, 0, c]) if abs(r.imag) < 1e-9)
    _, details = ahp(a)
    assert details["lambda_max"] == pytest.approx(lam)
    assert details["cr"] == pytest.approx((lam - 3) / 2 / 0.58)
    assert details["cr"] == pytest.approx(0.0332, abs=5e-4)


def test_ahp_inconsistent_matrix_is_refused() -> None:
    spec = Weights(method="ahp", matrix=[[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]])
    with pytest.raises(MethodFailed, match="CR"):
        weigh(spec, ["a", "b", "c"], node="n")


def test_saaty_random_index_table() -> None:
    assert [RANDOM_INDEX[n] for n in range(1, 11)] == [0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


def test_entropy_weights_by_hand() -> None:
    # column a = (1, 1): p = (½, ½), e = 1, d = 0; column b = (1, 3): p = (¼, ¾),
    # e = −(¼ ln ¼ + ¾ ln ¾)/ln 2 = 0.811278, d = 0.188722 → weights (0, 1)
    np.testing.assert_allclose(entropy(np.array([[1.0, 1.0], [1.0, 3.0]])), [0, 1], atol=1e-12)
    # three columns: a constant, b = (1,3), c = (3,1) (same entropy as b) → (0, ½, ½)
    np.testing.assert_allclose(entropy(np.array([[2.0, 1.0, 3.0], [2.0, 3.0, 1.0]])), [0, 0.5, 0.5])


def test_entropy_value() -> None:
    x = np.array([[1.0, 2.0], [3.0, 2.0], [4.0, 4.0]])
    # column 1: p = (1/8, 3/8, 4/8); column 2: p = (1/4, 1/4, 1/2)
    e1 = -sum(p * math.log(p) for p in (1 / 8, 3 / 8, 4 / 8)) / math.log(3)
    e2 = -sum(p * math.log(p) for p in (1 / 4, 1 / 4, 1 / 2)) / math.log(3)
    d = np.array([1 - e1, 1 - e2])
    np.testing.assert_allclose(entropy(x), d / d.sum())


def test_critic_weights_by_hand() -> None:
    # a = (0, 1, 2) → (0, ½, 1); b = (0, 2, 4) → same, r_ab = 1; c = (1, 0, 1) → (1, 0, 1), r_ac = r_bc = 0.
    # sd(a) = sd(b) = ½ (n−1), sd(c) = 1/√3. C_a = ½(0 + 0 + 1) = ½ = C_b; C_c = (1/√3)(1 + 1 + 0) = 2/√3.
    x = np.array([[0, 0, 1], [1, 2, 0], [2, 4, 1]], dtype=float)
    c = np.array([0.5, 0.5, 2 / math.sqrt(3)])
    np.testing.assert_allclose(critic(x), c / c.sum())


def test_pca_weights_by_hand() -> None:
    # x2 = 2·x1 (r = 1), x3 uncorrelated with both: correlation eigenvalues 2, 1, 0. Both components with
    # eigenvalue ≥ 1 kept: x1, x2 load (1, 1) on the first (scaled squared loadings ½, ½), x3 loads 1 on
    # the second. Weights: ½·(2/3), ½·(2/3), 1·(1/3) = ⅓ each.
    x1 = np.array([1.0, 2.0, 3.0, 4.0])
    x3 = np.array([1.0, -1.0, -1.0, 1.0])
    w, details = pca(np.column_stack([x1, 2 * x1, x3]))
    np.testing.assert_allclose(w, [1 / 3, 1 / 3, 1 / 3], atol=1e-9)
    assert details["components"] == 2


def test_pca_two_indicators_first_component_only() -> None:
    # r = 0.8: eigenvalues 1.8 and 0.2, one component kept, loadings equal → ½, ½
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([2.0, 1.0, 4.0, 3.0, 5.0])
    w, details = pca(np.column_stack([a, b]))
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(0.8)
    np.testing.assert_allclose(w, [0.5, 0.5])
    assert details["components"] == 1
