"""Golden files: policy → DuckDB SQL → Spark SQL, in tests/fixtures/compile/*.txt.

Regenerate after an intended change with ``QINQING_UPDATE_GOLDEN=1 pytest tests/rules/test_golden.py``
and review the diff.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from qinqing.rules import compile_policy, load_policy

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests/fixtures/compile"
AS_OF = date(2023, 12, 1)
SOURCES = sorted((ROOT / "tests/rules/policies").glob("*.yaml")) + [
    ROOT / "policies/heilongjiang/hlj-2021-new-above-scale-industrial.yaml"
]


def render(source: Path) -> str:
    policy = load_policy(source)
    parts = [f"# policy: {source.relative_to(ROOT)}", f"# as_of: {AS_OF}"]
    for dialect in ("duckdb", "spark"):
        compiled = compile_policy(policy, dialect, AS_OF)
        parts += [f"# engine: {dialect}", compiled.select(source_relation="enterprises").sql(dialect=dialect, pretty=True)]
    return "\n".join(parts) + "\n"


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_compiled_sql_matches_golden_file(source):
    golden = GOLDEN / f"{source.stem}.txt"
    text = render(source)
    if os.environ.get("QINQING_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden} missing: run with QINQING_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")
