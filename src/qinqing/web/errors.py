"""One handler renders every error: as JSON in one canonical shape under /api, as an HTML page elsewhere.

The JSON shape::

    {"error": {"status": 403, "code": "forbidden", "message": "无权查看其他企业的信息。", "details": {...}}}

Domain errors of accounts, catalogue and web carry ``status``, ``code``, ``message`` and ``details``; the
others (rules, registry, the matching results store) get theirs from ``_DESCRIBED``. Anything else is a
500 with a Chinese message and an ``error_id`` that finds the traceback in the log — never the traceback.
"""

from __future__ import annotations

import logging
import secrets
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from qinqing.accounts.errors import AccountError
from qinqing.catalogue.errors import CatalogueError
from qinqing.matching.results import StoreError
from qinqing.registry.errors import RegistryError
from qinqing.registry.values import ValueProblem
from qinqing.rules.errors import RuleError
from qinqing.web.middleware import security_headers

log = logging.getLogger(__name__)

# Errors with no HTTP status of their own: (type, status, code, message); a message of None shows the
# error's own Chinese text (``reason`` when it has one, which leaves out server file paths).
_DESCRIBED: tuple[tuple[type[BaseException], int, str, str | None], ...] = (
    (StoreError, 503, "results_unavailable", "匹配结果暂时无法读取，请稍后再试。"),
    (RegistryError, 422, "registry_error", None),
    (ValueProblem, 422, "invalid_value", None),
    (OperationalError, 503, "database_unavailable", "数据库暂时无法访问，请稍后再试。"),
    # Deeply nested input (an expression, a JSON body) exhausts the parser's stack: the request's fault.
    (RecursionError, 422, "too_deeply_nested", "内容嵌套层数过多，无法处理，请简化后重试。"),
)
DOMAIN_ERRORS = (AccountError, CatalogueError, RuleError, *(row[0] for row in _DESCRIBED))

_HTTP_MESSAGES = {
    400: ("bad_request", "请求有误。"),
    401: ("not_authenticated", "请先登录。"),
    403: ("forbidden", "无权访问。"),
    404: ("not_found", "页面或资源不存在。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
    409: ("conflict", "请求与当前状态冲突。"),
    413: ("body_too_large", "请求内容过大。"),
    415: ("unsupported_media_type", "不支持该内容类型。"),
    422: ("invalid_request", "请求参数有误。"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试。"),
    500: ("internal_error", "服务器内部错误，请稍后再试。"),
    503: ("unavailable", "服务暂时不可用，请稍后再试。"),
}


class WebError(Exception):
    """An error raised by the web services themselves (e.g. an enterprise not in the registry)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(WebError):
    status = 404
    code = "not_found"


class BodyTooLarge(StarletteHTTPException):
    """A request body over QINQING_MAX_BODY_BYTES. An HTTP exception, because FastAPI turns any other
    exception raised while it reads the body into a 400."""

    status = 413
    code = "body_too_large"

    def __init__(self, max_bytes: int) -> None:
        size = f"{max_bytes / 1024 / 1024:g} MiB" if max_bytes >= 1024 * 1024 else f"{max_bytes} 字节"
        self.message = f"请求内容过大（上限 {size}），请缩小后重试。"
        self.details = {"max_bytes": max_bytes}
        super().__init__(413, self.message)


def error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "details": details or {}}}


def _describe(error: Exception) -> tuple[int, str, str, Any]:
    if isinstance(error, RuleError):
        from qinqing.catalogue.parse import problems_from_rules_error

        problems = [p.as_dict() for p in problems_from_rules_error(error)]
        return 422, "policy_invalid", problems[0]["message"] if problems else error.message, {"problems": problems}
    if isinstance(error, (AccountError, CatalogueError, WebError, BodyTooLarge)):
        return error.status, error.code, error.message, error.details
    for error_type, status, code, message in _DESCRIBED:
        if isinstance(error, error_type):
            return status, code, message or getattr(error, "reason", None) or str(error), {}
    if isinstance(error, RequestValidationError):
        fields = [
            {"field": ".".join(str(p) for p in e["loc"][1:]), "message": e.get("msg", "")} for e in error.errors()
        ]
        return 422, "invalid_request", "请求参数有误：" + "；".join(f["field"] for f in fields), {"fields": fields}
    if isinstance(error, StarletteHTTPException):
        code, message = _HTTP_MESSAGES.get(error.status_code, ("http_error", str(error.detail)))
        return error.status_code, code, message, {}
    return 500, *_HTTP_MESSAGES[500], {}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path == "/api":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def handle_error(request: Request, error: Exception) -> Response:
    status, code, message, details = _describe(error)
    if status == 500:
        details = {"error_id": secrets.token_hex(6)}
        log.error("unhandled error %s on %s", details["error_id"], request.url.path, exc_info=error)
    elif status >= 500:
        log.warning("%s on %s: %s", code, request.url.path, error)
    response = _render(request, status, code, message, details)
    # The 500 answer is sent outside SecurityHeadersMiddleware: it gets the headers here.
    for key, value in security_headers(request.url.path).items():
        response.headers.setdefault(key, value)
    return response


def _render(request: Request, status: int, code: str, message: str, details: Any) -> Response:
    if wants_json(request):
        return JSONResponse(error_body(status, code, message, details), status_code=status)
    if status == 401 and request.method == "GET":
        return RedirectResponse(f"/login?next={quote(str(request.url.path))}", status_code=303)
    templates = request.app.state.templates
    try:
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "code": code, "message": message, "details": details},
            status_code=status,
        )
    except Exception:  # the page itself failed (e.g. the session state is gone): a bare page, still Chinese
        log.exception("error page for %s failed", request.url.path)
        return HTMLResponse(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>出错了</title>'
                            f'<p data-code="{escape(code)}">{status} · {escape(message)}</p></html>',
                            status_code=status)


def install(app: FastAPI) -> None:
    for error_type in (*DOMAIN_ERRORS, WebError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(error_type, handle_error)
