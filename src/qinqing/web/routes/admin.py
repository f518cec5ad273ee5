"""用户管理 for admins: list, create (role + binding), reset a password, deactivate / reactivate, and a
user's API tokens (list, revoke). Ids that name no user (or no token of it) are 404, however large."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from qinqing.accounts.errors import AccountError
from qinqing.web.deps import CurrentPrincipal, ServicesDep
from qinqing.web.services.users import NewUser, role_choices

router = APIRouter()

NOTICES = {
    "created": "已创建用户。",
    "password": "已重置密码。",
    "deactivated": "已停用用户。",
    "activated": "已启用用户。",
}


class UserCreate(BaseModel):
    username: str
    password: str
    role: str
    display_name: str = ""
    uscc: str = ""
    department: str = ""
    region_code: str = ""


class PasswordReset(BaseModel):
    password: str


def _user_json(record) -> dict:
    p = record.principal
    return {"id": p.user_id, "username": p.username, "role": p.role.value, "display_name": p.display_name,
            "uscc": p.uscc, "department": p.department, "region_code": p.region_code, "active": record.active}


@router.get("/api/admin/users", tags=["admin"])
def api_users(services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Every user with its role, binding and state."""
    return {"users": [_user_json(r) for r in services.users.list(principal)]}


@router.post("/api/admin/users", tags=["admin"], status_code=201)
def api_create(body: UserCreate, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Create a user: an enterprise user needs `uscc`, an officer `department` and `region_code`."""
    created = services.users.create(principal, NewUser(**body.model_dump()))
    return {"id": created.user_id, "username": created.username, "role": created.role.value}


@router.post("/api/admin/users/{user_id}/password", tags=["admin"])
def api_reset_password(user_id: int, body: PasswordReset, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Set a new password for the user."""
    services.users.reset_password(principal, user_id, body.password)
    return {"id": user_id, "password_reset": True}


@router.post("/api/admin/users/{user_id}/deactivate", tags=["admin"])
def api_deactivate(user_id: int, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Deactivate the user: its sessions and tokens stop working."""
    services.users.set_active(principal, user_id, False)
    return {"id": user_id, "active": False}


@router.post("/api/admin/users/{user_id}/activate", tags=["admin"])
def api_activate(user_id: int, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Reactivate a deactivated user."""
    services.users.set_active(principal, user_id, True)
    return {"id": user_id, "active": True}


@router.get("/api/admin/users/{user_id}/tokens", tags=["admin"])
def api_user_tokens(user_id: int, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """The user's API tokens (never the tokens themselves) with their state: active, expired or revoked."""
    return {"id": user_id, "tokens": [t.as_dict() for t in services.users.tokens(principal, user_id)]}


@router.post("/api/admin/users/{user_id}/tokens/{token_id}/revoke", tags=["admin"])
def api_revoke_user_token(user_id: int, token_id: int, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Revoke one of the user's API tokens: it stops working at once."""
    return services.users.revoke_token(principal, user_id, token_id).as_dict()


def _page(request: Request, services, principal, *, error: str = "", form: dict | None = None, status_code: int = 200):
    return request.app.state.templates.TemplateResponse(
        request, "admin_users.html",
        {"records": services.users.list(principal), "roles": role_choices(), "error": error, "form": form or {},
         "notice": NOTICES.get(request.query_params.get("done", ""), "")},
        status_code=status_code,
    )


@router.get("/admin/users", include_in_schema=False)
def users_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    return _page(request, services, principal)


@router.post("/admin/users", include_in_schema=False)
def create_form(request: Request, services: ServicesDep, principal: CurrentPrincipal,
                username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                role: Annotated[str, Form()] = "", display_name: Annotated[str, Form()] = "",
                uscc: Annotated[str, Form()] = "", department: Annotated[str, Form()] = "",
                region_code: Annotated[str, Form()] = ""):
    new = NewUser(username, password, role, display_name, uscc, department, region_code)
    try:
        services.users.create(principal, new)
    except AccountError as error:
        if error.status in (401, 403):
            raise
        form = {k: v for k, v in new.__dict__.items() if k != "password"}
        return _page(request, services, principal, error=error.message, form=form, status_code=error.status)
    return RedirectResponse("/admin/users?done=created", status_code=303)


@router.post("/admin/users/{user_id}/password", include_in_schema=False)
def reset_password_form(user_id: int, request: Request, services: ServicesDep, principal: CurrentPrincipal,
                        password: Annotated[str, Form()] = ""):
    try:
        services.users.reset_password(principal, user_id, password)
    except AccountError as error:
        if error.status in (401, 403):
            raise
        return _page(request, services, principal, error=error.message, status_code=error.status)
    return RedirectResponse("/admin/users?done=password", status_code=303)


@router.post("/admin/users/{user_id}/deactivate", include_in_schema=False)
def deactivate_form(user_id: int, services: ServicesDep, principal: CurrentPrincipal):
    services.users.set_active(principal, user_id, False)
    return RedirectResponse("/admin/users?done=deactivated", status_code=303)


@router.post("/admin/users/{user_id}/activate", include_in_schema=False)
def activate_form(user_id: int, services: ServicesDep, principal: CurrentPrincipal):
    services.users.set_active(principal, user_id, True)
    return RedirectResponse("/admin/users?done=activated", status_code=303)
