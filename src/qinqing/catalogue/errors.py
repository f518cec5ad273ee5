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


class DraftChanged(CatalogueError):
    """The draft changed between the preview an officer saw and the publish they asked for."""

    status = 409
    code = "draft_changed"

    def __init__(self, policy_id: str, expected: int, actual: int | None) -> None:
        now = f"现为第 {actual} 版" if actual is not None else "已被他人修改"
        super().__init__(f"政策 {policy_id} 的草稿已变化（预览的是第 {expected} 版，{now}），请重新预览后再发布。",
                         policy_id=policy_id, expected=expected, actual=actual)


class RemitExceeded(CatalogueError):
    """An officer asked to publish a policy wider than the department's remit, with no supervisor's approval."""

    status = 403
    code = "remit_exceeded"

    def __init__(self, policy_id: str, problems: list[Problem]) -> None:
        reasons = "；".join(p.message for p in problems)
        super().__init__(f"政策 {policy_id} 超出本部门的发布权限：{reasons} 如确需发布，请由督查人员审核同意后再发布。",
                         policy_id=policy_id, problems=[p.as_dict() for p in problems])
        self.problems = problems


class OverBudgetUnconfirmed(CatalogueError):
    """The preview's total is over the policy's budget and the officer has not confirmed with a reason."""

    status = 409
    code = "over_budget_unconfirmed"

    def __init__(self, policy_id: str, amount_total, budget) -> None:
        super().__init__(f"政策 {policy_id} 预计金额 {amount_total} 万元超出预算 {budget} 万元；如确需发布，"
                         "请勾选“确认超预算发布”并填写理由（理由将记入发布记录）。",
                         policy_id=policy_id, amount_total=str(amount_total), budget=str(budget))


class ApprovalReasonMissing(CatalogueError):
    status = 422
    code = "approval_reason_missing"

    def __init__(self) -> None:
        super().__init__("请填写审核意见（理由）。")
