"""Fixtures of the audit tests."""

from __future__ import annotations

import pytest
from audit_support import append_rows


@pytest.fixture
def trail_of_five(engine):
    return append_rows(engine, 5)
