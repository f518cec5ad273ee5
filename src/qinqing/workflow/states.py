"""The application state machine: one table of (state, action) → next state; nothing else moves a state.

申报/即申即享: 草稿 → 已提交 → 已受理 → 审核中 | 联审中 → 已批准 | 已驳回 | 退回补正 (→ 已提交 again) →
待拨付 → 已拨付 | 拨付失败 → 重新拨付 → 已拨付 …; 已拨付 → 追回. 已撤回 before 受理.
免申即享: 公示中 → 已确认 (the enterprise confirmed its 对公账户) → 审核中 → 已批准 …; 已放弃 (declined)
and 已过期 (not confirmed in time) release the reservation.
"""

from __future__ import annotations

from qinqing.workflow.errors import IllegalTransition

DRAFT = "草稿"
SUBMITTED = "已提交"
ACCEPTED = "已受理"
REVIEWING = "审核中"
JOINT_REVIEW = "联审中"
APPROVED = "已批准"
REJECTED = "已驳回"
RETURNED = "退回补正"
AWAITING_PAYMENT = "待拨付"
PAID = "已拨付"
PAYMENT_FAILED = "拨付失败"
REPAYING = "重新拨付"
CLAWED_BACK = "追回"
WITHDRAWN = "已撤回"
PUBLICITY = "公示中"
CONFIRMED = "已确认"
DECLINED = "已放弃"
EXPIRED = "已过期"

TRANSITIONS: dict[tuple[str, str], str] = {
    (DRAFT, "submit"): SUBMITTED,
    (DRAFT, "withdraw"): WITHDRAWN,
    (SUBMITTED, "withdraw"): WITHDRAWN,
    (SUBMITTED, "accept"): ACCEPTED,
    (SUBMITTED, "reject"): REJECTED,  # 不予受理
    (ACCEPTED, "review"): REVIEWING,
    (ACCEPTED, "joint_review"): JOINT_REVIEW,
    (CONFIRMED, "review"): REVIEWING,
    (CONFIRMED, "joint_review"): JOINT_REVIEW,
    (REVIEWING, "approve"): APPROVED,
    (REVIEWING, "reject"): REJECTED,
    (REVIEWING, "return"): RETURNED,
    (JOINT_REVIEW, "approve"): APPROVED,
    (JOINT_REVIEW, "reject"): REJECTED,
    (JOINT_REVIEW, "return"): RETURNED,
    (RETURNED, "submit"): SUBMITTED,
    (RETURNED, "expire"): REJECTED,  # 逾期未补正
    (RETURNED, "withdraw"): WITHDRAWN,
    (APPROVED, "batch"): AWAITING_PAYMENT,
    (APPROVED, "void"): REJECTED,
    (AWAITING_PAYMENT, "paid"): PAID,
    (AWAITING_PAYMENT, "failed"): PAYMENT_FAILED,
    (PAYMENT_FAILED, "batch"): REPAYING,
    (REPAYING, "paid"): PAID,
    (REPAYING, "failed"): PAYMENT_FAILED,
    (PAID, "returned"): PAYMENT_FAILED,  # the bank sent a paid transfer back (退汇)
    (PAID, "clawback"): CLAWED_BACK,
    (PUBLICITY, "confirm"): CONFIRMED,
    (PUBLICITY, "decline"): DECLINED,
    (PUBLICITY, "expire"): EXPIRED,
    (PUBLICITY, "reject"): REJECTED,  # an objection upheld during 公示
}

ACTION_LABELS = {
    "submit": "提交", "withdraw": "撤回", "accept": "受理", "review": "开始审核", "joint_review": "开始联审",
    "approve": "批准", "reject": "驳回", "return": "退回补正", "expire": "逾期", "batch": "列入拨付批次",
    "void": "作废", "paid": "拨付成功", "failed": "拨付失败", "returned": "银行退回", "clawback": "追回",
    "confirm": "确认账户", "decline": "放弃",
}

# States holding a reservation in the ledger (money set aside for the enterprise, not yet paid).
RESERVED = frozenset({PUBLICITY, CONFIRMED, APPROVED, AWAITING_PAYMENT, PAYMENT_FAILED, REPAYING})
IN_REVIEW = frozenset({SUBMITTED, ACCEPTED, REVIEWING, JOINT_REVIEW, CONFIRMED})
FINAL = frozenset({REJECTED, WITHDRAWN, CLAWED_BACK, DECLINED, EXPIRED})
STATES = tuple(dict.fromkeys([s for (s, _a) in TRANSITIONS] + list(TRANSITIONS.values())))


def next_state(state: str, action: str, application_id: int | None = None) -> str:
    """The state ``action`` leads to from ``state``; IllegalTransition (409, with the current state) if none."""
    to = TRANSITIONS.get((state, action))
    if to is None:
        allowed = [ACTION_LABELS[a] for (s, a) in TRANSITIONS if s == state]
        raise IllegalTransition(
            f"申报当前状态为“{state}”，不能{ACTION_LABELS.get(action, action)}"
            + (f"（可执行：{'、'.join(allowed)}）。" if allowed else "。"),
            state=state, action=action, application_id=application_id)
    return to


def allowed_actions(state: str) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == state]
