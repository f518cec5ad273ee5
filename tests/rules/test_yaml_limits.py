"""Review issue 12 (YAML alias expansion) and issue 10 (the C loader): the policy loader refuses anchors,
aliases, deep nesting and huge documents before anything is composed, and reads clean files with libyaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qinqing.rules import PolicyErrors, load_policy, parse_policy_text, policy_files
from qinqing.rules import load as load_module
from qinqing.rules.load import MAX_CHARS, MAX_DEPTH
from rules_helpers import policy_text

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = policy_files([ROOT / "policies", ROOT / "tests/rules/policies"])


def _errors(text: str) -> list:
    with pytest.raises(PolicyErrors) as failure:
        parse_policy_text(text, "bad.yaml")
    return failure.value.errors


def _bomb(levels: int = 9) -> str:
    """The 'billion laughs' shape of the review's 911-byte file: each level lists the previous one ten times."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return policy_text({"a": "revenue > 1"}) + "\n".join(lines) + "\n"


class _Counting:
    """Counts the nodes the loader indexes and the documents jsonschema validates."""

    def __init__(self, monkeypatch):
        self.indexed = 0
        self.validated = 0
        index, schema = load_module._Loader._index, load_module._Loader._schema

        def counted_index(loader, node, path):
            self.indexed += 1
            return index(loader, node, path)

        def counted_schema(loader, data):
            self.validated += 1
            return schema(loader, data)

        monkeypatch.setattr(load_module._Loader, "_index", counted_index)
        monkeypatch.setattr(load_module._Loader, "_schema", counted_schema)


def test_alias_bomb_is_refused_before_composing_issue_12(monkeypatch):
    counts = _Counting(monkeypatch)
    text = _bomb()
    errors = _errors(text)
    assert len(errors) == 1
    error = errors[0]
    assert "锚点（&）或别名（*）" in error.message and "&a0" in error.message
    line = text.splitlines().index("a0: &a0 [x, x, x, x, x, x, x, x, x, x]") + 1
    assert (error.span.line, error.span.col) == (line, 5)
    assert "bad.yaml:" in str(error) and "^" in str(error)
    assert counts.indexed == 0 and counts.validated == 0  # nothing was composed, expanded or validated


def test_alias_is_refused_at_its_place_issue_12():
    text = policy_text({"a": "revenue > 1"}).replace("title: 测试政策", "title: *t")
    (error,) = _errors(text)
    assert "“*t”" in error.message
    line = next(i for i, x in enumerate(text.splitlines(), 1) if x.startswith("title:"))
    assert (error.span.line, error.span.col) == (line, 8)


def test_unused_anchor_is_refused_too_issue_12():
    text = policy_text({"a": "revenue > 1"}).replace("title: 测试政策", "title: &t 测试政策")
    (error,) = _errors(text)
    assert "“&t”" in error.message and error.span.col == 8


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, 900, 100_000])
def test_nesting_is_bounded_issue_12(depth):
    text = policy_text({"a": "revenue > 1"}) + "notes: " + "[" * depth + "]" * depth + "\n"
    errors = _errors(text)  # never a RecursionError: the pure-Python composer recursed at ~900 levels
    deep = [e for e in errors if "嵌套过深" in e.message]
    if depth + 1 > MAX_DEPTH:  # the root mapping is one level
        assert deep and f"最多 {MAX_DEPTH} 层" in deep[0].message
        assert deep[0].span.line == text.count("\n")
    else:
        assert not deep and any("notes" in e.message or "文本" in e.message for e in errors)


def test_block_nesting_is_bounded_issue_12():
    text = policy_text({"a": "revenue > 1"}) + "materials:\n" + "  " + "- " * 2000 + "x\n"
    assert any("嵌套过深" in e.message for e in _errors(text))


def test_huge_document_is_refused_unread_issue_12(tmp_path):
    (error,) = _errors("notes: " + "x" * MAX_CHARS)
    assert "过大" in error.message and (error.span.line, error.span.col) == (1, 1)
    big = tmp_path / "big.yaml"
    big.write_text("notes: " + "长" * (MAX_CHARS + 10), encoding="utf-8")
    with pytest.raises(PolicyErrors, match="过大"):
        load_policy(big)


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.name)
def test_fast_and_position_keeping_paths_agree_issue_10(path):
    text = path.read_text(encoding="utf-8")
    fast = parse_policy_text(text, str(path))
    slow = load_module._Loader(text, str(path))
    slow_policy = _without_fast_path(slow)
    assert fast == slow_policy


def _without_fast_path(loader):
    original = load_module._FAST_LOADER
    load_module._FAST_LOADER = None
    try:
        return loader.load()
    finally:
        load_module._FAST_LOADER = original


def test_clean_file_is_read_by_libyaml_only_issue_10(monkeypatch):
    assert yaml.__with_libyaml__, "PyYAML here is built with libyaml"
    composed = []
    monkeypatch.setattr(yaml.composer.Composer, "compose_node", lambda *a: composed.append(a) or None)
    parse_policy_text(policy_text({"a": "revenue > 1"}), "ok.yaml")
    assert composed == []  # the pure-Python composer was never used


def test_error_is_located_by_the_position_keeping_path_issue_10():
    text = policy_text({"a": "revenue > 1"}).replace("revenue > 1", "revenu > 1")
    (error,) = _errors(text)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "revenu > 1" in x)
    assert error.span.line == line and text.splitlines()[line - 1][error.span.col - 1 :].startswith("revenu")


def test_duplicate_key_is_found_on_the_fast_path_too_issue_10():
    text = policy_text({"a": "revenue > 1"}) + "title: 又一个标题\n"
    (error,) = _errors(text)
    assert "键“title”重复出现" in error.message and error.span.line == text.count("\n")
