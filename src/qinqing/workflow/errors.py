"""The workflow piece's errors: one root, ``WorkflowError``, under ``qinqing.errors.QinqingError``."""

from __future__ import annotations

from qinqing.errors import QinqingError


class WorkflowError(QinqingError):
    code = "workflow.error"
    status = 400
    default_message = "操作失败。"


class ApplicationNotFound(WorkflowError):
    code = "workflow.application_not_found"
    status = 404
    default_message = "申报不存在。"


class NotFound(WorkflowError):
    code = "workflow.not_found"
    status = 404
    default_message = "对象不存在。"


class IllegalTransition(WorkflowError):
    """The action is not allowed in the application's current state (details: state, action)."""

    code = "workflow.illegal_transition"
    status = 409
    default_message = "当前状态下不能执行该操作。"


class NotEligible(WorkflowError):
    code = "workflow.not_eligible"
    status = 422
    default_message = "该企业不符合政策条件，不能申报。"


class BudgetExhausted(WorkflowError):
    code = "workflow.budget_exhausted"
    status = 409
    default_message = "政策资金余额不足，不能批准。"


class AlreadyAwarded(WorkflowError):
    """The (policy, enterprise, period) already has an award, or the exclusion group has one."""

    code = "workflow.already_awarded"
    status = 409
    default_message = "该企业本期已获得该政策（或同组政策）的兑现，不重复享受。"


class AccountNotVerified(WorkflowError):
    code = "workflow.account_not_verified"
    status = 422
    default_message = "对公账户未核验：户名须与统一社会信用代码登记的企业名称一致。"


class LedgerError(WorkflowError):
    """A ledger command that would break an invariant (overdraw an account, resolve a reservation twice)."""

    code = "workflow.ledger_conflict"
    status = 409
    default_message = "账务操作与当前余额或状态冲突。"


class InvalidAmount(WorkflowError):
    code = "workflow.invalid_amount"
    status = 422
    default_message = "金额无效：金额以分为最小单位，必须为正数。"


class BankFileInvalid(WorkflowError):
    code = "workflow.bank_file_invalid"
    status = 422
    default_message = "银行回单文件无效。"


class InvalidInput(WorkflowError):
    code = "workflow.invalid_input"
    status = 422
    default_message = "请求参数有误。"


class IdempotencyKeyMissing(WorkflowError):
    code = "workflow.idempotency_key_missing"
    status = 400
    default_message = "资金类操作须携带 Idempotency-Key 请求头。"


class IdempotencyKeyReused(WorkflowError):
    code = "workflow.idempotency_key_reused"
    status = 422
    default_message = "该 Idempotency-Key 已用于内容不同的请求。"


class IdempotencyInFlight(WorkflowError):
    code = "workflow.idempotency_in_flight"
    status = 409
    default_message = "同一 Idempotency-Key 的请求正在处理，请稍后重试。"
