"""docs/registry.md must be what ``python -m qinqing.registry.docs`` prints."""

from __future__ import annotations

from pathlib import Path

from qinqing.registry.docs import render
from qinqing.registry.schema import ALL_FIELDS, HEADER_ALIASES

DOC = Path(__file__).parents[2] / "docs" / "registry.md"


def test_registry_doc_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/registry.md is out of date: run `python -m qinqing.registry.docs > docs/registry.md`"
    )


def test_doc_names_every_field_and_alias():
    text = render()
    for field in ALL_FIELDS:
        assert f"| `{field.name}` | {field.label_zh} |" in text
    for alias in HEADER_ALIASES:
        assert alias in text
