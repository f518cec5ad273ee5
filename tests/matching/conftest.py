"""Fixtures of the matching tests."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest


def small_registry(n=400, seed=1):
    """Zhejiang enterprises with some regions, industries and figures missing."""
    rng = np.random.default_rng(seed)
    regions = ["330106", "330108", "330212", "330302", None]
    return pa.table({
        "uscc": [f"U{i:05d}" for i in range(n)],
        "name": [f"企业{i}" for i in range(n)],
        "region_code": [regions[i] for i in rng.integers(0, len(regions), n)],
        "industry_code": [["C3911", "C2611", "I6510", None][i] for i in rng.integers(0, 4, n)],
        "revenue": [None if r < 0.2 else Decimal(int(r * 10000)) for r in rng.random(n)],
        "employees": [None if r < 0.2 else int(r * 500) for r in rng.random(n)],
        "is_dishonest": [None if r < 0.1 else bool(r > 0.9) for r in rng.random(n)],
    })


@pytest.fixture
def registry():
    return small_registry
