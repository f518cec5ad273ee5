"""Policy text → validated Policy, with every problem's place; the rules engine does the checking."""

from __future__ import annotations

from qinqing.catalogue.errors import PolicyInvalid, Problem
from qinqing.rules import Policy, PolicyErrors, RuleError, parse_policy_text


def parse_policy(yaml_text: str, filename: str = "<editor>") -> Policy:
    """The policy in ``yaml_text``; raises PolicyInvalid listing every problem with line and column."""
    try:
        return parse_policy_text(yaml_text, filename)
    except RuleError as error:
        raise PolicyInvalid(problems_from_rules_error(error), filename) from error


def problems_from_rules_error(error: RuleError) -> list[Problem]:
    """One problem per error a rules-engine error holds (PolicyErrors holds several, others are one)."""
    items = error.errors if isinstance(error, PolicyErrors) else [error]
    return [_problem(item) for item in items]


def _problem(error: RuleError) -> Problem:
    span = error.span
    if span is None:
        return Problem(error.message)
    return Problem(error.message, span.line, span.col, span.key or None)
