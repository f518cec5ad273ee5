"""Doing Business reproduced from configuration alone: the shipped YAML and CSV, no code for DB.

Published scores are rounded to two decimals, so the engine must agree within half a unit of the last digit
(0.005, plus float error). Sources of every row: the ``source`` column of the CSVs; docs/indices.md.
"""

from __future__ import annotations

import csv

import pytest

from qinqing.indices import compute, gather, load_system
from qinqing.indices.load import BUILTIN_DIR

TOLERANCE = 0.005 + 1e-9


def _published(name: str) -> list[dict[str, str]]:
    with open(BUILTIN_DIR / f"{name}.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _result(name: str):
    system = load_system(BUILTIN_DIR / f"{name}.yaml")
    return compute(system, gather(system, base_dir=BUILTIN_DIR))


TOPIC_CASES = [(row["economy"], float(row["published_overall"])) for row in _published("doing_business_topics")]
INDICATOR_CASES = [
    (row["economy"], node, float(row[f"published_{node}"]))
    for row in _published("doing_business_indicators")
    for node in ("starting_business", "getting_credit", "minority_investors")
    if row[f"published_{node}"]
]


@pytest.mark.parametrize(("economy", "published"), TOPIC_CASES)
def test_overall_is_the_mean_of_the_topics(economy: str, published: float) -> None:
    assert _result("doing_business_topics").scores.at[economy, "overall"] == pytest.approx(published, abs=TOLERANCE)


@pytest.mark.parametrize(("economy", "topic", "published"), INDICATOR_CASES)
def test_topic_scores_from_indicators_with_fixed_goalposts(economy: str, topic: str, published: float) -> None:
    assert _result("doing_business_indicators").scores.at[economy, topic] == pytest.approx(published, abs=TOLERANCE)


def test_the_total_tax_rate_is_transformed_nonlinearly() -> None:
    system = load_system(BUILTIN_DIR / "doing_business_indicators.yaml")
    spec = system.normalise_of(system.node("pt_ttcr"))
    assert spec.transform is not None and spec.transform.power == 0.8
    import numpy as np

    from qinqing.indices.normalise import normalise

    # 55.05 % is half-way between the goalposts 26.1 and 84.0: (0.5 ** 0.8) · 100 = 57.43; below 26.1 capped
    got = normalise(np.array([55.05, 20.0]), spec, "lower")
    assert got == pytest.approx([100 * 0.5 ** 0.8, 100])
