"""Errors of the accounts piece, under one root; each carries its HTTP status and a Chinese message."""

from __future__ import annotations

from typing import Any


class AccountError(Exception):
    """Root of account errors. ``message`` is shown to end users, so it is Chinese."""

    status = 400
    code = "account_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotAuthenticated(AccountError):
    status = 401
    code = "not_authenticated"

    def __init__(self, message: str = "请先登录。", **details: Any) -> None:
        super().__init__(message, **details)


class InvalidCredentials(AccountError):
    status = 401
    code = "invalid_credentials"

    def __init__(self, message: str = "用户名或密码错误。", **details: Any) -> None:
        super().__init__(message, **details)


class Forbidden(AccountError):
    status = 403
    code = "forbidden"


class CsrfFailed(AccountError):
    status = 403
    code = "csrf_failed"

    def __init__(self, message: str = "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。", **details: Any) -> None:
        super().__init__(message, **details)


class LoginRateLimited(AccountError):
    status = 429
    code = "login_rate_limited"


class UserExists(AccountError):
    status = 409
    code = "user_exists"


class InvalidAccount(AccountError):
    status = 422
    code = "invalid_account"


class LoginBusy(AccountError):
    """Every argon2 slot of the process is busy: the login is refused rather than queued without bound."""

    status = 429
    code = "login_busy"

    def __init__(self, message: str = "登录请求过多，请稍后再试。", **details: Any) -> None:
        super().__init__(message, **details)


class AccountNotFound(AccountError):
    status = 404
    code = "not_found"

    def __init__(self, message: str = "用户不存在。", **details: Any) -> None:
        super().__init__(message, **details)


class TokenNotFound(AccountError):
    status = 404
    code = "token_not_found"

    def __init__(self, message: str = "API 令牌不存在。", **details: Any) -> None:
        super().__init__(message, **details)
