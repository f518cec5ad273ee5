"""Session cookie handling: every visitor has a signed session (anonymous until login).

A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware runs
each request in an extra task and stream, which costs more than the rest of a cached API call.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qinqing.accounts.sessions import Session

SESSION_COOKIE = "qinqing_session"


class SessionMiddleware:
    """Puts ``request.state.session`` in place and sends the cookie back when the session changed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        codec = scope["app"].state.session_codec
        session = codec.decode(request.cookies.get(SESSION_COOKIE))
        state = scope.setdefault("state", {})
        state["session_dirty"] = session is None
        state["session"] = session or Session.anonymous()
        # API clients with a token get no cookie: they have no use for one.
        wants_cookie = "authorization" not in request.headers
        secure = request.url.scheme == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and wants_cookie and state.get("session_dirty"):
                cookie = Response()
                cookie.set_cookie(SESSION_COOKIE, codec.encode(state["session"]), max_age=codec.max_age,
                                  httponly=True, samesite="lax", secure=secure, path="/")
                headers = MutableHeaders(scope=message)
                for key, value in cookie.raw_headers:
                    if key == b"set-cookie":
                        headers.append("set-cookie", value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def set_session(request: Request, session: Session) -> None:
    request.state.session = session
    request.state.session_dirty = True


# Every page loads only this origin's files: no inline script, no CDN, and no framing (clickjacking).
# Inline style *attributes* are allowed (style-src-attr) because ECharts and Swagger UI draw with them;
# <style> elements and style sheets must still come from this origin.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
STATIC_PREFIX = "/static/"


def security_headers(path: str) -> dict[str, str]:
    """The headers every response carries; all but static files are personal (session, CSRF token) → no-store."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if not path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeadersMiddleware:
    """Adds ``security_headers`` to every response (pages, API, static files, errors) unless already set.

    The 500 answer of Starlette's ServerErrorMiddleware is sent outside every middleware, so
    ``web/errors.py`` puts the same headers on it itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in wanted.items():
                    headers.setdefault(key, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, counting the bytes as they arrive.

    A declared Content-Length over the limit is refused before the app runs; a chunked or
    under-declared body raises ``BodyTooLarge`` from ``receive`` as soon as the count passes the
    limit, which the one error handler renders (FastAPI re-raises HTTP exceptions from body parsing).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from qinqing.web.errors import BodyTooLarge, handle_error

        declared = Request(scope).headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.max_bytes:
            response = await handle_error(Request(scope, receive), BodyTooLarge(self.max_bytes))
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)
