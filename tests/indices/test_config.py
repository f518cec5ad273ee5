"""The configuration format: the shipped JSON Schema equals the model's, shipped configurations load and
validate against it, and a bad file's error names its line and key."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from qinqing.indices.config import SCHEMA_FILE, system_schema
from qinqing.indices.errors import ConfigInvalid
from qinqing.indices.load import builtin_paths, load_system, parse_system


def test_shipped_schema_is_the_models() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == system_schema(), (
        "run: python -c 'from qinqing.indices.config import write_schema; write_schema()'")


@pytest.mark.parametrize("path", builtin_paths(), ids=lambda p: p.name)
def test_builtin_configurations_load_and_validate(path) -> None:
    load_system(path)
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), system_schema())


GOOD = """\
id: t
name: 测试
tables: {d: {}}
tree:
  id: total
  name: 总
  children:
    - {id: a, name: A, source: {table: d, column: a}}
    - {id: b, name: B, source: {table: d, column: b}}
"""


@pytest.mark.parametrize(("text", "line", "words"), [
    (GOOD.replace("column: b}}", "column: b}, normalise: {method: goalposts, best: 1}}"), 9, "best 与 worst"),
    (GOOD.replace("{id: b, name: B,", "{id: a, name: B,"), 1, "重复"),
    (GOOD.replace("source: {table: d, column: b}", "source: {table: x, column: b}"), 1, "tables"),
    (GOOD.replace("  children:", "  weights: {method: expert, values: {a: 1}}\n  children:"), 1, "weights.values"),
    (GOOD.replace("{id: b, name: B,", "{id: B, name: B,"), 9, "pattern"),
    (GOOD + "  colour: red\n", 10, "Extra"),
    ("id: [unclosed\n", 2, "YAML"),
])
def test_bad_configuration_names_the_place(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_system(text, filename="bad.yaml")
    error = caught.value
    assert words in str(error)
    assert error.place is not None and error.place.file == "bad.yaml"
    assert error.place.line == line


def test_ahp_matrix_must_match_children() -> None:
    text = GOOD.replace("  children:", "  weights: {method: ahp, matrix: [[1, 2], [0.5, 1], [1, 1]]}\n  children:")
    with pytest.raises(ConfigInvalid, match="AHP"):
        parse_system(text)
