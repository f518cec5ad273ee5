"""Errors of the appeals piece (接诉即办), under one root that is a ``QinqingError``."""

from __future__ import annotations

from qinqing.errors import QinqingError


class AppealError(QinqingError):
    """Root of the appeals piece's errors."""

    code = "appeals.error"
    status = 422
    default_message = "诉求办理操作失败。"


class AppealNotFound(AppealError):
    """No appeal with that id — or one the caller may not see (an enterprise asking for another's)."""

    code = "appeals.not_found"
    status = 404
    default_message = "未找到该诉求工单。"


class IllegalTransition(AppealError):
    """The action is not allowed from the appeal's current state (or the state changed meanwhile)."""

    code = "appeals.illegal_transition"
    status = 409
    default_message = "工单当前状态不允许该操作。"


class AppealForbidden(AppealError):
    """The caller's role or department may not take this action on this appeal."""

    code = "appeals.forbidden"
    status = 403
    default_message = "无权对该工单执行此操作。"


class InvalidAppeal(AppealError):
    """Bad input: a missing description, an unknown category, a rating outside 1–5, …"""

    code = "appeals.invalid"
    status = 422
    default_message = "诉求内容有误。"


class ConfigError(AppealError):
    """The dispatch catalogue or time-limit table does not validate (names the place)."""

    code = "appeals.config_invalid"
    status = 422
    default_message = "派单目录或办理时限配置有误。"


class Open311Error(AppealError):
    """An Open311 GeoReport v2 error: rendered as an array of ``{code, description}`` in XML or JSON.

    ``status`` is set per instance (400, 403 or 404, as the spec lists them)."""

    code = "appeals.open311"
    status = 400
    default_message = "Open311 请求有误。"

    def __init__(self, message: str | None = None, *, status: int = 400, **details) -> None:
        super().__init__(message, **details)
        self.status = status  # type: ignore[misc]  # per instance: the spec's 400 / 403 / 404
