"""Errors of the accounts piece, under one root (a ``QinqingError``): a stable code, an HTTP status, a
Chinese message."""

from __future__ import annotations

from typing import Any

from qinqing.errors import QinqingError


class AccountError(QinqingError):
    """Root of account errors. ``message`` is shown to end users, so it is Chinese."""

    status = 400
    code = "accounts.error"


class NotAuthenticated(AccountError):
    status = 401
    code = "accounts.not_authenticated"

    def __init__(self, message: str = "请先登录。", **details: Any) -> None:
        super().__init__(message, **details)


class InvalidCredentials(AccountError):
    status = 401
    code = "accounts.invalid_credentials"

    def __init__(self, message: str = "用户名或密码错误。", **details: Any) -> None:
        super().__init__(message, **details)


class Forbidden(AccountError):
    status = 403
    code = "accounts.forbidden"


class CsrfFailed(AccountError):
    status = 403
    code = "accounts.csrf_failed"

    def __init__(self, message: str = "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。", **details: Any) -> None:
        super().__init__(message, **details)


class LoginRateLimited(AccountError):
    status = 429
    code = "accounts.login_rate_limited"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = details.get("retry_after_seconds")


class UserExists(AccountError):
    status = 409
    code = "accounts.user_exists"


class InvalidAccount(AccountError):
    status = 422
    code = "accounts.invalid_account"


class LoginBusy(AccountError):
    """Every argon2 slot of the process is busy: the login is refused rather than queued without bound."""

    status = 429
    code = "accounts.login_busy"

    def __init__(self, message: str = "登录请求过多，请稍后再试。", **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = details.get("retry_after_seconds")


class AccountNotFound(AccountError):
    status = 404
    code = "accounts.account_not_found"

    def __init__(self, message: str = "用户不存在。", **details: Any) -> None:
        super().__init__(message, **details)


class TokenNotFound(AccountError):
    status = 404
    code = "accounts.token_not_found"

    def __init__(self, message: str = "API 令牌不存在。", **details: Any) -> None:
        super().__init__(message, **details)
