"""One handler renders every error: as JSON in one canonical shape under /api, as an HTML page elsewhere.

The JSON shape::

    {"error": {"status": 403, "code": "accounts.forbidden", "message": "无权查看其他企业的信息。",
               "place": null, "details": {...}}}

Every ``QinqingError`` (``qinqing.errors``: each piece's errors subclass it) brings its own status, code,
Chinese message, place and details; a 5xx shows the class's ``default_message`` (the instance's may name
server files) and no place; ``retry_after`` becomes a ``Retry-After`` header (a busy results store: 503).
The few foreign errors with a meaning of their own (a database that cannot be reached, input nested too
deeply, FastAPI's validation and HTTP errors) get theirs here. Anything else is a 500 with a Chinese
message and an ``error_id`` that finds the traceback in the log — never the traceback.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from qinqing.errors import Place, QinqingError
from qinqing.rules.errors import RuleError
from qinqing.web.middleware import security_headers

log = logging.getLogger(__name__)

# Foreign errors with a meaning of their own: (type, status, code, message).
_FOREIGN: tuple[tuple[type[Exception], int, str, str], ...] = (
    (OperationalError, 503, "db.unavailable", "数据库暂时无法访问，请稍后再试。"),
    # Deeply nested input (an expression, a JSON body) exhausts the parser's stack: the request's fault.
    (RecursionError, 422, "web.too_deeply_nested", "内容嵌套层数过多，无法处理，请简化后重试。"),
)
DOMAIN_ERRORS: tuple[type[Exception], ...] = (QinqingError, *(row[0] for row in _FOREIGN))

_HTTP_MESSAGES = {
    400: ("web.bad_request", "请求有误。"),
    401: ("web.not_authenticated", "请先登录。"),
    403: ("web.forbidden", "无权访问。"),
    404: ("web.not_found", "页面或资源不存在。"),
    405: ("web.method_not_allowed", "不支持该请求方法。"),
    409: ("web.conflict", "请求与当前状态冲突。"),
    413: ("web.body_too_large", "请求内容过大。"),
    415: ("web.unsupported_media_type", "不支持该内容类型。"),
    422: ("web.invalid_request", "请求参数有误。"),
    429: ("web.too_many_requests", "请求过于频繁，请稍后再试。"),
    500: ("web.internal_error", "服务器内部错误，请稍后再试。"),
    503: ("web.unavailable", "服务暂时不可用，请稍后再试。"),
}


class WebError(QinqingError):
    """An error raised by the web services themselves (e.g. an enterprise not in the registry)."""

    status = 400
    code = "web.bad_request"


class NotFound(WebError):
    status = 404
    code = "web.not_found"


class BodyTooLarge(StarletteHTTPException):
    """A request body over QINQING_MAX_BODY_BYTES. An HTTP exception, because FastAPI turns any other
    exception raised while it reads the body into a 400."""

    status = 413
    code = "web.body_too_large"

    def __init__(self, max_bytes: int) -> None:
        size = f"{max_bytes / 1024 / 1024:g} MiB" if max_bytes >= 1024 * 1024 else f"{max_bytes} 字节"
        self.message = f"请求内容过大（上限 {size}），请缩小后重试。"
        self.details = {"max_bytes": max_bytes}
        super().__init__(413, self.message)


@dataclass(frozen=True)
class Answer:
    """What the user is told about an error."""

    status: int
    code: str
    message: str
    place: Place | None = None
    details: Any = None
    retry_after: int | None = None

    def body(self) -> dict[str, Any]:
        place = self.place.to_dict() if self.place else None
        return {"error": {"status": self.status, "code": self.code, "message": self.message, "place": place,
                          "details": self.details or {}}}


def error_body(status: int, code: str, message: str, details: Any = None,
               place: Place | None = None) -> dict[str, Any]:
    return Answer(status, code, message, place, details).body()


def describe(error: BaseException) -> Answer:
    """The answer for ``error``: its own for a QinqingError, a fixed one for the others."""
    if isinstance(error, QinqingError):
        if error.status >= 500:  # the instance's message is for the log
            return Answer(error.status, error.code, type(error).default_message, None, {}, error.retry_after)
        place = error.place
        if isinstance(error, RuleError):
            from qinqing.catalogue.parse import problems_from_rules_error

            problems = [p.as_dict() for p in problems_from_rules_error(error)]
            message = problems[0]["message"] if problems else error.message
            return Answer(error.status, error.code, message, place, {"problems": problems}, error.retry_after)
        return Answer(error.status, error.code, error.message, place, error.details, error.retry_after)
    if isinstance(error, BodyTooLarge):
        return Answer(error.status, error.code, error.message, None, error.details)
    for error_type, status, code, message in _FOREIGN:
        if isinstance(error, error_type):
            return Answer(status, code, message)
    if isinstance(error, RequestValidationError):
        fields = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e.get("msg", "")}
                  for e in error.errors()]
        message = "请求参数有误：" + "；".join(f["field"] for f in fields)
        return Answer(422, "web.invalid_request", message, None, {"fields": fields})
    if isinstance(error, StarletteHTTPException):
        code, message = _HTTP_MESSAGES.get(error.status_code, ("web.http_error", str(error.detail)))
        return Answer(error.status_code, code, message)
    return Answer(500, *_HTTP_MESSAGES[500])


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path == "/api":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def handle_error(request: Request, error: Exception) -> Response:
    answer = describe(error)
    if answer.status == 500:
        answer = Answer(500, answer.code, answer.message, None, {"error_id": secrets.token_hex(6)})
        log.error("unhandled error %s on %s", answer.details["error_id"], request.url.path, exc_info=error)
    elif answer.status >= 500:
        log.warning("%s on %s: %s", answer.code, request.url.path, error)
    response = _render(request, answer)
    if answer.retry_after is not None:
        response.headers["Retry-After"] = str(answer.retry_after)
    # The 500 answer is sent outside SecurityHeadersMiddleware: it gets the headers here.
    for key, value in security_headers(request.url.path).items():
        response.headers.setdefault(key, value)
    return response


def _render(request: Request, answer: Answer) -> Response:
    status, code, message = answer.status, answer.code, answer.message
    if wants_json(request):
        return JSONResponse(answer.body(), status_code=status)
    if status == 401 and request.method == "GET":
        return RedirectResponse(f"/login?next={quote(str(request.url.path))}", status_code=303)
    templates = request.app.state.templates
    try:
        return templates.TemplateResponse(
            request, "error.html",
            {"status": status, "code": code, "message": message, "place": str(answer.place or ""),
             "details": answer.details or {}},
            status_code=status,
        )
    except Exception:  # the page itself failed (e.g. the session state is gone): a bare page, still Chinese
        log.exception("error page for %s failed", request.url.path)
        return HTMLResponse(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>出错了</title>'
                            f'<p data-code="{escape(code)}">{status} · {escape(message)}</p></html>',
                            status_code=status)


def install(app: FastAPI) -> None:
    handled: tuple[type[Exception], ...] = (*DOMAIN_ERRORS, RequestValidationError, StarletteHTTPException,
                                             Exception)
    for error_type in handled:
        app.add_exception_handler(error_type, handle_error)
