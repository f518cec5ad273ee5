"""Policy text → validated Policy, with every problem's place; the rules engine does the checking."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from qinqing.catalogue.errors import PolicyInvalid, Problem
from qinqing.rules import Policy, PolicyErrors, RuleError, parse_policy_text


def parse_policy(yaml_text: str, filename: str = "<editor>") -> Policy:
    """The policy in ``yaml_text``; raises PolicyInvalid listing every problem with line and column.

    A text parsed once in this process is not parsed again (loading a file parses it, saving and
    publishing it would parse it twice more); a policy is immutable, so the object is shared."""
    key = hashlib.sha256(yaml_text.encode("utf-8")).digest()
    with _LOCK:
        cached = _PARSED.get(key)
        if cached is not None:
            _PARSED.move_to_end(key)
            # the same text read under another name: the same policy, recording that name as its file
            return cached if cached.path == filename else cached.model_copy(update={"path": filename})
    try:
        policy = parse_policy_text(yaml_text, filename)
    except RuleError as error:
        raise PolicyInvalid(problems_from_rules_error(error), filename) from error
    with _LOCK:
        _PARSED[key] = policy
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return policy


_PARSED: OrderedDict[bytes, Policy] = OrderedDict()  # sha256 of the text → its policy, least recent first
_PARSED_MAX = 4096
_LOCK = threading.Lock()


def problems_from_rules_error(error: RuleError) -> list[Problem]:
    """One problem per error a rules-engine error holds (PolicyErrors holds several, others are one)."""
    items = error.errors if isinstance(error, PolicyErrors) else [error]
    return [_problem(item) for item in items]


def _problem(error: RuleError) -> Problem:
    span = error.span
    if span is None:
        return Problem(error.message)
    return Problem(error.message, span.line, span.col, span.key or None)
