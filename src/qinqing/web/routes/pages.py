"""The home page: each role lands on its main page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from qinqing.accounts.authz import Role, require_login
from qinqing.web.deps import CurrentPrincipal

router = APIRouter(include_in_schema=False)

HOME_BY_ROLE = {
    Role.OFFICER: "/officer/policies",
    Role.SUPERVISOR: "/supervision",
    Role.ADMIN: "/admin/users",
}


@router.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: the icon is static/favicon.svg."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/")
def home(principal: CurrentPrincipal):
    p = require_login(principal)
    if p.role is Role.ENTERPRISE:
        return RedirectResponse(f"/enterprises/{p.uscc}/policies", status_code=303)
    return RedirectResponse(HOME_BY_ROLE[p.role], status_code=303)
