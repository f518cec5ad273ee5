"""Monte Carlo reproducible from its seed; Sobol estimator checked on the Ishigami function; an input that
cannot change the result gets zero indices; leave-one-indicator-out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from qinqing.indices.config import Uncertainty
from qinqing.indices.engine import Inputs
from qinqing.indices.load import parse_system
from qinqing.indices.uncertainty import leave_one_out, monte_carlo, sensitivity, sobol_indices

SYSTEM = """\
id: t
name: 测试
tables: {d: {}}
tree:
  id: total
  name: 总
  children:
    - id: twins
      name: 双胞胎
      children:
        - {id: a1, name: A1, source: {table: d, column: a1}}
        - {id: a2, name: A2, source: {table: d, column: a2}}
    - {id: b, name: B, source: {table: d, column: b}}
    - {id: c, name: C, source: {table: d, column: c}, direction: lower}
"""


def _inputs(seed: int = 1, units: int = 12) -> Inputs:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 10, units)
    frame = pd.DataFrame({"a1": a, "a2": a, "b": rng.uniform(0, 10, units), "c": rng.uniform(0, 10, units)},
                         index=[f"u{i:02d}" for i in range(units)])
    return Inputs(raw=frame)


SPEC = Uncertainty(runs=200, seed=7, weight_noise=0.5, normalisers=["configured", "rank"],
                   aggregators=["arithmetic", "geometric"])


def test_monte_carlo_is_reproducible_from_its_seed() -> None:
    system = parse_system(SYSTEM)
    first = monte_carlo(system, _inputs(), SPEC).summary()
    again = monte_carlo(system, _inputs(), SPEC).summary()
    pd.testing.assert_frame_equal(first, again)
    other = monte_carlo(system, _inputs(), SPEC.model_copy(update={"seed": 8})).summary()
    assert not first.equals(other)
    assert (first["rank_low"] <= first["rank_median"]).all() and (first["rank_median"] <= first["rank_high"]).all()
    assert set(first["nominal_rank"]) == set(range(1, 13))


def test_no_noise_gives_point_intervals() -> None:
    system = parse_system(SYSTEM)
    spec = Uncertainty(runs=20, seed=1, weight_noise=0.0)
    summary = monte_carlo(system, _inputs(), spec).summary()
    assert (summary["rank_low"] == summary["nominal_rank"]).all()
    assert (summary["rank_high"] == summary["nominal_rank"]).all()


def _ishigami(rows: np.ndarray) -> np.ndarray:
    x = -math.pi + 2 * math.pi * rows
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_estimator_on_ishigami() -> None:
    # analytic values (Ishigami & Homma 1990; a = 7, b = 0.1): S = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437)
    result = sobol_indices(_ishigami, 3, 2 ** 14, seed=3)
    np.testing.assert_allclose(result["S1"], [0.3139, 0.4424, 0.0], atol=0.02)
    np.testing.assert_allclose(result["ST"], [0.5576, 0.4424, 0.2437], atol=0.02)
    assert result["runs"] == 2 ** 14 * 5


def test_an_input_that_cannot_change_the_result_gets_zero_indices() -> None:
    # a1 and a2 are equal for every unit, so the weights between them cannot move any score or rank
    system = parse_system(SYSTEM)
    result = sensitivity(system, _inputs(), SPEC, n=64)
    table = result.table()
    assert table.loc["weight:twins/a1", "S1"] == 0 and table.loc["weight:twins/a1", "ST"] == 0
    assert table.loc["weight:twins/a2", "S1"] == 0 and table.loc["weight:twins/a2", "ST"] == 0
    assert table["ST"].max() > 0.05  # the others matter
    d = len(result.parameters)
    assert result.runs == 64 * (d + 2)


def test_leave_one_out() -> None:
    system = parse_system(SYSTEM)
    frame = leave_one_out(system, _inputs()).set_index("indicator")
    assert list(frame.index) == ["a1", "a2", "b", "c"]
    # leaving out one twin changes nothing: the other carries the same values
    assert frame.at["a1", "mean_abs_rank_shift"] == 0
    assert frame.at["b", "mean_abs_rank_shift"] > 0
