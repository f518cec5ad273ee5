"""Errors of the policy catalogue, under one root (a ``QinqingError``): a stable code, an HTTP status, a
Chinese message and, where there is one, the place (policy id, file, line)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from qinqing.errors import Place, QinqingError


@dataclass(frozen=True)
class Problem:
    """One problem in a policy text, at its place (1-based line and column when known)."""

    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None  # e.g. "conditions[2].expr"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CatalogueError(QinqingError):
    """Root of the catalogue's errors."""

    status = 400
    code = "catalogue.error"


class PolicyNotFound(CatalogueError):
    status = 404
    code = "catalogue.policy_not_found"

    def __init__(self, policy_id: str) -> None:
        super().__init__(f"未找到政策 {policy_id}。", place=Place(policy_id=policy_id), policy_id=policy_id)


class PolicyInvalid(CatalogueError):
    """The text does not make a valid policy; ``problems`` lists every problem found, with its place."""

    status = 422
    code = "catalogue.policy_invalid"

    def __init__(self, problems: list[Problem], filename: str = "") -> None:
        first = problems[0] if problems else Problem("政策文本无效。")
        more = f"（共 {len(problems)} 处问题）" if len(problems) > 1 else ""
        file = filename if filename and not filename.startswith("<") else None  # "<editor>" names no file
        place = Place(file=file, line=first.line, column=first.column, field=first.path)
        super().__init__(f"{first.message}{more}", place=place, problems=[p.as_dict() for p in problems],
                         filename=filename)
        self.problems = problems


class PolicyOwnedElsewhere(CatalogueError):
    status = 403
    code = "catalogue.policy_owned_elsewhere"


class DraftChanged(CatalogueError):
    """The draft changed between the preview an officer saw and the publish they asked for."""

    status = 409
    code = "catalogue.draft_changed"

    def __init__(self, policy_id: str, expected: int, actual: int | None) -> None:
        now = f"现为第 {actual} 版" if actual is not None else "已被他人修改"
        super().__init__(f"政策 {policy_id} 的草稿已变化（预览的是第 {expected} 版，{now}），请重新预览后再发布。",
                         place=Place(policy_id=policy_id),
                         policy_id=policy_id, expected=expected, actual=actual)


class RemitExceeded(CatalogueError):
    """An officer asked to publish a policy wider than the department's remit, with no supervisor's approval."""

    status = 403
    code = "catalogue.remit_exceeded"

    def __init__(self, policy_id: str, problems: list[Problem]) -> None:
        reasons = "；".join(p.message for p in problems)
        super().__init__(f"政策 {policy_id} 超出本部门的发布权限：{reasons} 如确需发布，请由督查人员审核同意后再发布。",
                         place=Place(policy_id=policy_id),
                         policy_id=policy_id, problems=[p.as_dict() for p in problems])
        self.problems = problems


class OverBudgetUnconfirmed(CatalogueError):
    """The preview's total is over the policy's budget and the officer has not confirmed with a reason."""

    status = 409
    code = "catalogue.over_budget_unconfirmed"

    def __init__(self, policy_id: str, amount_total, budget) -> None:
        super().__init__(f"政策 {policy_id} 预计金额 {amount_total} 万元超出预算 {budget} 万元；如确需发布，"
                         "请勾选“确认超预算发布”并填写理由（理由将记入发布记录）。",
                         place=Place(policy_id=policy_id),
                         policy_id=policy_id, amount_total=str(amount_total), budget=str(budget))


class ApprovalReasonMissing(CatalogueError):
    status = 422
    code = "catalogue.approval_reason_missing"

    def __init__(self) -> None:
        super().__init__("请填写审核意见（理由）。")
