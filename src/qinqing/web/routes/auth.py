"""Login, logout, API tokens (issue, list, revoke) and the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from qinqing.accounts.authz import require_login
from qinqing.accounts.errors import InvalidCredentials, LoginBusy, LoginRateLimited
from qinqing.accounts.sessions import Session
from qinqing.web.deps import CurrentPrincipal, ServicesDep
from qinqing.web.middleware import set_session

router = APIRouter()


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(next_url: str) -> str:
    # Only local paths: never redirect a login to another site.
    return next_url if next_url.startswith("/") and not next_url.startswith("//") else "/"


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/"):
    return request.app.state.templates.TemplateResponse(request, "login.html", {"next": _safe_next(next)})


@router.post("/login", include_in_schema=False)
def login(request: Request, services: ServicesDep, username: Annotated[str, Form()],
          password: Annotated[str, Form()], next: Annotated[str, Form()] = "/"):
    try:
        principal = services.accounts.authenticate(username.strip(), password, _client(request))
    except (InvalidCredentials, LoginRateLimited, LoginBusy) as error:
        return request.app.state.templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(next), "error": error.message, "username": username[:64]},
            status_code=error.status,
        )
    set_session(request, request.state.session.logged_in(principal.user_id, principal.auth_epoch))
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, services: ServicesDep):
    """Ends every session of the user on the server (a copied cookie stops working too), not only this one."""
    services.accounts.end_sessions(request.state.session)
    set_session(request, Session.anonymous())
    return RedirectResponse("/login", status_code=303)


class TokenRequest(BaseModel):
    username: str
    password: str
    name: str = "api"


@router.post("/api/auth/token", tags=["accounts"])
def issue_token(body: TokenRequest, request: Request, services: ServicesDep) -> dict:
    """Exchange a username and password for an API token (sent as `Authorization: Bearer <token>`).
    The token expires after `QINQING_TOKEN_TTL_DAYS` (90 by default) and can be revoked."""
    principal = services.accounts.authenticate(body.username, body.password, _client(request))
    issued = services.accounts.issue(principal, body.name)
    return {"token": issued.token, "token_type": "bearer", "id": issued.record.id,
            "expires_at": issued.record.expires_at.isoformat()}


@router.get("/api/me/tokens", tags=["accounts"])
def my_tokens(services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """The acting user's API tokens (never the tokens themselves): name, created, expires, last used, state."""
    return {"tokens": [t.as_dict() for t in services.users.own_tokens(principal)]}


@router.post("/api/me/tokens/{token_id}/revoke", tags=["accounts"])
def revoke_my_token(token_id: int, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Revoke one of the acting user's API tokens: it stops working at once."""
    return services.users.revoke_own_token(principal, token_id).as_dict()


@router.get("/api/me", tags=["accounts"])
def me(principal: CurrentPrincipal) -> dict:
    """The acting user and its role."""
    p = require_login(principal)
    return {"username": p.username, "role": p.role.value, "display_name": p.display_name, "uscc": p.uscc,
            "department": p.department, "region_code": p.region_code}
