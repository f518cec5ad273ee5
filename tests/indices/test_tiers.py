"""Tiers by thresholds and by rank shares, hysteresis, the minimum sample, and the 督办 rule."""

from __future__ import annotations

import pytest

from qinqing.indices.config import Supervision, TierLevel, Tiers
from qinqing.indices.tiers import PeriodRanks, assign_tiers, supervision_candidates

LEVELS = [TierLevel(id="green", label="绿", colour="#2e7d32", min=80),
          TierLevel(id="yellow", label="黄", colour="#f9a825", min=60),
          TierLevel(id="red", label="红", colour="#c62828")]


def _tier(score, previous=None, hysteresis=2.0):
    spec = Tiers(levels=LEVELS, hysteresis=hysteresis)
    return assign_tiers(spec, ["u"], {"u": score}, {"u": 1.0}, {"u": previous} if previous else None)["u"].tier


@pytest.mark.parametrize(("score", "previous", "expected"), [
    (85, None, "green"), (80, None, "green"), (79.9, None, "yellow"), (60, None, "yellow"), (59, None, "red"),
    # yellow last period: must reach 80 + 2 to turn green; keeps yellow down to 60 − 2
    (81, "yellow", "yellow"), (82, "yellow", "green"), (59, "yellow", "yellow"), (57.9, "yellow", "red"),
    # green last period: stays green down to 78
    (78.5, "green", "green"), (77.9, "green", "yellow"),
    # red last period: needs 62 to turn yellow
    (61, "red", "red"), (62, "red", "yellow"), (81, "red", "yellow"), (82, "red", "green"),
])
def test_threshold_tiers_with_hysteresis(score, previous, expected) -> None:
    assert _tier(score, previous) == expected


def test_rank_share_tiers() -> None:
    levels = [TierLevel(id="green", label="绿", colour="#2e7d32", share=0.3),
              TierLevel(id="yellow", label="黄", colour="#f9a825", share=0.4),
              TierLevel(id="red", label="红", colour="#c62828")]
    units = [f"u{i}" for i in range(10)]
    ranks = {u: float(i + 1) for i, u in enumerate(units)}
    scores = {u: 100.0 - i for i, u in enumerate(units)}
    got = assign_tiers(Tiers(method="rank_share", levels=levels), units, scores, ranks)
    assert [got[u].tier for u in units] == ["green"] * 3 + ["yellow"] * 4 + ["red"] * 3
    # hysteresis 0.1: u3 (q = 0.3) was green and stays; u7 (q = 0.7) was yellow and stays
    sticky = assign_tiers(Tiers(method="rank_share", levels=levels, hysteresis=0.1), units, scores, ranks,
                          previous={"u3": "green", "u7": "yellow", "u2": "yellow"})
    assert sticky["u3"].tier == "green" and sticky["u7"].tier == "yellow"
    assert sticky["u2"].tier == "yellow"  # q = 0.2 is not beyond 0.3 − 0.1 for a yellow unit


def test_units_under_the_minimum_sample_are_not_coloured() -> None:
    spec = Tiers(levels=LEVELS, min_sample=20)
    got = assign_tiers(spec, ["a", "b"], {"a": 90, "b": 90}, {"a": 1, "b": 1}, samples={"a": 25, "b": 3})
    assert got["a"].tier == "green"
    assert got["b"].tier is None and "样本不足" in got["b"].reason


def _history(*periods):
    return [PeriodRanks(period=p, ranks=r, best_plausible=b) for p, r, b in periods]


def test_bottom_two_for_two_consecutive_periods() -> None:
    ranks1 = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
    ranks2 = {"a": 1, "b": 2, "c": 5, "d": 3, "e": 4}
    got = supervision_candidates(Supervision(), _history(("2025-01", ranks1, None), ("2025-02", ranks2, None)))
    assert set(got) == {"e"}  # d left the bottom two; c entered it only now
    assert "2025-01 第 5/5 名" in got["e"] and "2025-02 第 4/5 名" in got["e"]
    assert supervision_candidates(Supervision(), _history(("2025-02", ranks2, None))) == {}


def test_robust_mode_needs_the_whole_interval_in_the_bottom() -> None:
    ranks = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
    best = {"a": 1, "b": 1, "c": 2, "d": 2, "e": 4}  # d's interval reaches rank 2: not surely bottom two
    history = _history(("2025-01", ranks, best), ("2025-02", ranks, best))
    assert set(supervision_candidates(Supervision(), history)) == {"d", "e"}
    assert set(supervision_candidates(Supervision(robust=True), history)) == {"e"}


def test_configurable_k_and_m() -> None:
    ranks = {"a": 1, "b": 2, "c": 3, "d": 4}
    history = _history(("p1", ranks, None), ("p2", ranks, None), ("p3", ranks, None))
    assert set(supervision_candidates(Supervision(bottom_k=1, consecutive=3), history)) == {"d"}
    assert set(supervision_candidates(Supervision(bottom_k=3, consecutive=1), history)) == {"b", "c", "d"}
