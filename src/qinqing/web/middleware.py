"""Session cookie handling: every visitor has a signed session (anonymous until login)."""

from __future__ import annotations

from fastapi import Request

from qinqing.accounts.sessions import Session

SESSION_COOKIE = "qinqing_session"


async def session_middleware(request: Request, call_next):
    codec = request.app.state.session_codec
    session = codec.decode(request.cookies.get(SESSION_COOKIE))
    request.state.session_dirty = session is None
    request.state.session = session or Session.anonymous()
    response = await call_next(request)
    if request.state.session_dirty and "authorization" not in request.headers:
        response.set_cookie(
            SESSION_COOKIE, codec.encode(request.state.session), max_age=codec.max_age, httponly=True,
            samesite="lax", secure=request.url.scheme == "https", path="/",
        )
    return response


def set_session(request: Request, session: Session) -> None:
    request.state.session = session
    request.state.session_dirty = True
