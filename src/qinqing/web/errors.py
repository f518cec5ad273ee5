"""One handler renders every error: as JSON in one canonical shape under /api, as an HTML page elsewhere.

The JSON shape::

    {"error": {"status": 403, "code": "forbidden", "message": "无权查看其他企业的信息。", "details": {...}}}

Domain errors (accounts, catalogue, rules, web) carry ``status``, ``code``, ``message`` and ``details``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from qinqing.accounts.errors import AccountError
from qinqing.catalogue.errors import CatalogueError
from qinqing.rules.errors import RuleError

log = logging.getLogger(__name__)

DOMAIN_ERRORS = (AccountError, CatalogueError, RuleError)

_HTTP_MESSAGES = {
    400: ("bad_request", "请求有误。"),
    401: ("not_authenticated", "请先登录。"),
    403: ("forbidden", "无权访问。"),
    404: ("not_found", "页面或资源不存在。"),
    405: ("method_not_allowed", "不支持该请求方法。"),
    409: ("conflict", "请求与当前状态冲突。"),
    422: ("invalid_request", "请求参数有误。"),
    500: ("internal_error", "服务器内部错误，请稍后再试。"),
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


def error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "details": details or {}}}


def _describe(error: Exception) -> tuple[int, str, str, Any]:
    if isinstance(error, RuleError):
        from qinqing.catalogue.parse import problems_from_rules_error

        problems = [p.as_dict() for p in problems_from_rules_error(error)]
        return 422, "policy_invalid", problems[0]["message"] if problems else error.message, {"problems": problems}
    if isinstance(error, (AccountError, CatalogueError, WebError)):
        return error.status, error.code, error.message, error.details
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
        log.exception("unhandled error on %s", request.url.path, exc_info=error)
    if wants_json(request):
        return JSONResponse(error_body(status, code, message, details), status_code=status)
    if status == 401 and request.method == "GET":
        return RedirectResponse(f"/login?next={quote(str(request.url.path))}", status_code=303)
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "code": code, "message": message, "details": details},
        status_code=status,
    )


def install(app: FastAPI) -> None:
    for error_type in (*DOMAIN_ERRORS, WebError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(error_type, handle_error)
