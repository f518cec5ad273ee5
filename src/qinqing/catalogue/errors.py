"""Errors of the policy catalogue, under one root; each carries its HTTP status and a Chinese message."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem in a policy text, at its place (1-based line and column when known)."""

    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None  # e.g. "conditions[2].expr"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CatalogueError(Exception):
    status = 400
    code = "catalogue_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class PolicyNotFound(CatalogueError):
    status = 404
    code = "policy_not_found"

    def __init__(self, policy_id: str) -> None:
        super().__init__(f"未找到政策 {policy_id}。", policy_id=policy_id)


class PolicyInvalid(CatalogueError):
    """The text does not make a valid policy; ``problems`` lists every problem found, with its place."""

    status = 422
    code = "policy_invalid"

    def __init__(self, problems: list[Problem], filename: str = "") -> None:
        first = problems[0] if problems else Problem("政策文本无效。")
        where = f"第 {first.line} 行：" if first.line else ""
        more = f"（共 {len(problems)} 处问题）" if len(problems) > 1 else ""
        super().__init__(f"{where}{first.message}{more}", problems=[p.as_dict() for p in problems], filename=filename)
        self.problems = problems


class PolicyOwnedElsewhere(CatalogueError):
    status = 403
    code = "policy_owned_elsewhere"
