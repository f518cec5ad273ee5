"""A policy text is parsed once per process; the same text under another file name is the same
policy recording that name, exactly what a fresh parse gives."""

from __future__ import annotations

from pathlib import Path

from qinqing.catalogue import parse
from qinqing.rules import parse_policy_text

SHIPPED = next(p for p in sorted((Path(__file__).resolve().parents[2] / "policies").rglob("*.yaml"))
               if ".scenarios." not in p.name)


def test_the_second_read_is_the_first_policy_under_its_own_name(monkeypatch) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    calls = []
    real = parse.parse_policy_text
    monkeypatch.setattr(parse, "parse_policy_text", lambda t, f: calls.append(f) or real(t, f))
    monkeypatch.setattr(parse, "_PARSED", type(parse._PARSED)())
    first = parse.parse_policy(text, str(SHIPPED))
    again = parse.parse_policy(text, str(SHIPPED))
    editor = parse.parse_policy(text, "<editor>")
    assert calls == [str(SHIPPED)]
    assert again is first
    assert editor == parse_policy_text(text, "<editor>") and editor.path == "<editor>"
