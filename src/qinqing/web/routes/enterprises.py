"""企业画像 and 我的政策: one enterprise's profile and matches (an enterprise sees only its own)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from qinqing.accounts.authz import Role, require_role
from qinqing.web.deps import CurrentPrincipal, ServicesDep

router = APIRouter()


@router.get("/api/enterprises/{uscc}", tags=["enterprises"])
def get_profile(uscc: str, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """The enterprise's profile: stored fields, derived variables and tags."""
    return services.profiles.profile(principal, uscc, services.today()).as_json()


@router.get("/api/enterprises/{uscc}/matches", tags=["enterprises"])
def get_matches(uscc: str, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """我的政策: eligible policies with amounts, unknown ones with the missing data, each explained."""
    return services.matches.for_enterprise(principal, uscc, services.today()).as_json()


@router.get("/api/my/matches", tags=["enterprises"])
def my_matches(services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """我的政策 of the logged-in enterprise user."""
    p = require_role(principal, Role.ENTERPRISE)
    return services.matches.for_enterprise(p, p.uscc, services.today()).as_json()


@router.get("/my", include_in_schema=False)
def my_page(principal: CurrentPrincipal):
    p = require_role(principal, Role.ENTERPRISE)
    return RedirectResponse(f"/enterprises/{p.uscc}/policies", status_code=303)


@router.get("/enterprises/{uscc}", include_in_schema=False)
def profile_page(uscc: str, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    profile = services.profiles.profile(principal, uscc, services.today())
    return request.app.state.templates.TemplateResponse(request, "profile.html", {"profile": profile})


@router.get("/enterprises/{uscc}/policies", include_in_schema=False)
def matches_page(uscc: str, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    mine = services.matches.for_enterprise(principal, uscc, services.today())
    return request.app.state.templates.TemplateResponse(request, "my_policies.html", {"mine": mine})
