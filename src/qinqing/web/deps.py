"""Typed dependencies shared by the routes: services, the acting principal, CSRF enforcement."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qinqing.accounts.authz import Principal
from qinqing.accounts.errors import CsrfFailed
from qinqing.accounts.sessions import Session
from qinqing.web.middleware import set_session
from qinqing.web.services import Services

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Machine clients exchange a password for a token here; the request carries no session to forge.
CSRF_EXEMPT_PATHS = frozenset({"/api/auth/token"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_principal(request: Request, services: ServicesDep) -> Principal | None:
    """The user behind an API token (Authorization: Bearer …) or the session cookie; None if anonymous.

    A cookie whose session was ended on the server (logout, password reset, deactivation: its epoch is
    no longer the user's) is anonymous, and the browser gets a fresh anonymous cookie in its place."""
    token = _bearer(request)
    if token:
        principal = services.accounts.principal_for_token(token)
    else:
        session = request.state.session
        principal = services.accounts.for_session(session)
        if principal is None and session.user_id is not None:
            set_session(request, Session.anonymous())
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal | None, Depends(current_principal)]


async def enforce_csrf(request: Request) -> None:
    """Every state-changing request made with a session must carry the session's CSRF token
    (form field ``csrf_token`` or header ``X-CSRF-Token``); token-authenticated API calls need none."""
    if request.method not in UNSAFE_METHODS or request.url.path in CSRF_EXEMPT_PATHS or _bearer(request):
        return
    token = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if not token and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        token = (await request.form()).get(CSRF_FIELD)
    if not request.app.state.session_codec.csrf_valid(request.state.session, token if isinstance(token, str) else None):
        raise CsrfFailed()
