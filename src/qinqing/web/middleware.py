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
