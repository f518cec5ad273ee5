"""Policy text → validated Policy, with every problem's place; the rules engine does the checking."""

from __future__ import annotations

from typing import Any

import yaml

from qinqing.catalogue.errors import PolicyInvalid, Problem
from qinqing.catalogue.labels import error_kind_label, path_label
from qinqing.rules.model import Policy


def parse_policy(yaml_text: str, filename: str = "<editor>") -> Policy:
    """The policy in ``yaml_text``; raises PolicyInvalid listing every problem with line and column."""
    try:
        from qinqing.rules import parse_policy_text
    except ImportError:  # the rules engine's checker has not landed in this checkout
        return _parse_model_only(yaml_text, filename)
    try:
        return parse_policy_text(yaml_text, filename)
    except Exception as error:  # noqa: BLE001 - every rules error becomes problems with places
        problems = problems_from_rules_error(error)
        if not problems:
            raise
        raise PolicyInvalid(problems, filename) from error


def problems_from_rules_error(error: BaseException) -> list[Problem]:
    """Problems from a rules-engine error, which may hold several errors (``errors``) or be one."""
    inner = getattr(error, "errors", None)
    items = list(inner) if isinstance(inner, (list, tuple)) and inner else [error]
    problems = []
    for item in items:
        if not isinstance(item, BaseException) and not hasattr(item, "message"):
            continue
        problems.append(problem_from(item))
    return problems


def problem_from(item: Any) -> Problem:
    span = getattr(item, "span", None)
    line = getattr(item, "line", None) or getattr(span, "line", None)
    column = getattr(item, "column", None) or getattr(item, "col", None) or getattr(span, "col", None)
    column = column or getattr(span, "column", None)
    message = (
        getattr(item, "message_zh", None)
        or getattr(item, "message", None)
        or (str(item.args[0]) if getattr(item, "args", None) else str(item))
    )
    path = getattr(item, "path", None) or getattr(span, "key", None) or getattr(span, "json_path", None)
    return Problem(message=str(message), line=line, column=column, path=str(path) if path else None)


def _parse_model_only(yaml_text: str, filename: str) -> Policy:
    from pydantic import ValidationError

    try:
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise PolicyInvalid(
            [Problem("YAML 格式错误：" + str(getattr(error, "problem", error)),
                     mark.line + 1 if mark else None, mark.column + 1 if mark else None)],
            filename,
        ) from error
    if not isinstance(data, dict):
        raise PolicyInvalid([Problem("政策文件应为键值结构（YAML 映射）。", 1, 1)], filename)
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        problems = [
            Problem(f"{path_label(e['loc'])}：{error_kind_label(e['type'], e['msg'])}",
                    path=".".join(str(p) for p in e["loc"]))
            for e in error.errors()
        ]
        raise PolicyInvalid(problems, filename) from error
