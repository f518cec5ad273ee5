"""Profile tags: declared once, three-valued, asserted only when TRUE."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinqing.registry import tags
from qinqing.registry.schema import FIELDS_BY_NAME

AS_OF = date(2024, 5, 1)


def test_declarations_are_well_formed() -> None:
    assert len(tags.TAGS_BY_ID) == len(tags.TAGS)
    assert {t.dimension for t in tags.TAGS} == set(tags.DIMENSIONS)
    for tag in tags.TAGS:
        assert tag.condition.reads and all(name in FIELDS_BY_NAME for name in tag.condition.reads), tag.id


@pytest.mark.parametrize(
    ("row", "tag", "truth"),
    [
        ({"high_tech_cert_year": 2022}, "high_tech", True),  # 2022, 2023, 2024: three years
        ({"high_tech_cert_year": 2021}, "high_tech", False),
        ({"high_tech_cert_year": 2025}, "high_tech", False),  # not yet granted on the reference date
        ({}, "high_tech", None),
        ({"tech_sme_year": 2023}, "tech_sme", True),
        ({"tech_sme_year": 2022}, "tech_sme", False),
        ({"above_scale_since": 2023}, "newly_above_scale", True),
        ({"above_scale_since": 2022}, "newly_above_scale", False),
        ({"revenue": Decimal("120"), "revenue_prev": Decimal("100")}, "high_growth", True),  # exactly 20%
        ({"revenue": Decimal("119.99"), "revenue_prev": Decimal("100")}, "high_growth", False),
        ({"revenue": Decimal("120"), "revenue_prev": None}, "high_growth", None),
        ({"revenue": Decimal("99"), "revenue_prev": Decimal("100")}, "revenue_decline", True),
        ({"established_on": date(2021, 5, 2)}, "startup", True),  # 2 years 364 days
        ({"established_on": date(2021, 5, 1)}, "startup", False),
        ({"established_on": date(2014, 5, 1)}, "established", True),
        ({"rd_expense": Decimal("3"), "revenue": Decimal("100")}, "rd_intensive", True),
        ({"rd_expense": Decimal("2.99"), "revenue": Decimal("100")}, "rd_intensive", False),
        ({"rd_expense": Decimal("3"), "revenue": Decimal("0")}, "rd_intensive", None),
        ({"rd_expense": Decimal("1000")}, "rd_large", True),
        ({"software_revenue": Decimal("0")}, "software", False),
        ({"industry_code": "C3911", "employees": 300, "revenue": Decimal("2000")}, "medium", True),
        ({"industry_code": "C3911", "employees": 300, "revenue": Decimal("2000")}, "small", False),
        ({"industry_code": "C3911", "employees": 300}, "medium", None),
        ({"smart_factory_level": "智能工厂"}, "smart_factory", True),
        ({"major_accident_year": 2022}, "recent_major_accident", True),
        ({"major_accident_year": 2021}, "recent_major_accident", False),
        ({"is_dishonest": False, "in_abnormal_list": False, "in_safety_blacklist": False}, "credit_clean", True),
        ({"is_dishonest": False, "in_abnormal_list": True}, "credit_clean", False),  # known bad beats unknown
        ({"is_dishonest": False, "in_abnormal_list": False}, "credit_clean", None),
    ],
)
def test_truth(row: dict[str, Any], tag: str, truth: bool | None) -> None:
    assert tags.evaluate(row, AS_OF)[tag] is truth


def test_tags_for_lists_only_true_tags_in_declared_order() -> None:
    row = {"industry_code": "C3911", "employees": 10, "revenue": Decimal("100"), "is_above_scale": True,
           "srdi_year": 2023, "is_dishonest": True}
    assert [t.id for t in tags.tags_for(row, AS_OF)] == ["micro", "above_scale", "srdi", "dishonest"]


def test_missing_inputs_name_what_would_decide() -> None:
    tag = tags.TAGS_BY_ID["credit_clean"]
    assert tags.missing_inputs(tag, {"is_dishonest": False}, AS_OF) == ("in_abnormal_list", "in_safety_blacklist")


_flags = st.one_of(st.none(), st.booleans())
_years = st.one_of(st.none(), st.integers(1990, 2030))
_rows = st.fixed_dictionaries({
    "is_above_scale": _flags, "is_dishonest": _flags, "in_abnormal_list": _flags, "in_safety_blacklist": _flags,
    "is_listed": _flags, "high_tech_cert_year": _years, "srdi_year": _years, "above_scale_since": _years,
    "major_accident_year": _years,
})


@settings(max_examples=200, deadline=None)
@given(row=_rows)
def test_a_missing_input_never_asserts_a_tag(row: dict[str, Any]) -> None:
    truths = tags.evaluate(row, AS_OF)
    asserted = {t.id for t in tags.tags_for(row, AS_OF)}
    assert asserted == {i for i, v in truths.items() if v is True}
    for tag in tags.TAGS:
        if tag.id != "credit_clean" and tags.missing_inputs(tag, row, AS_OF):
            assert truths[tag.id] is None and tag.id not in asserted
    assert not {"dishonest", "credit_clean"} <= asserted  # never both
