"""Fixtures of the appeals tests: a migrated store (tests/conftest.py's ``engine``), a clock the test moves."""

from __future__ import annotations

from datetime import datetime

import pytest
from appeals_support import Clock

from qinqing.appeals.service import AppealService
from qinqing.appeals.workdays import CHINA


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 9, 14, 9, 0, tzinfo=CHINA))  # a Monday


@pytest.fixture
def service(engine, clock) -> AppealService:
    return AppealService(engine, clock=clock)
