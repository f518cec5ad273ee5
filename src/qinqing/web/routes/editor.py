"""The officer's console: the policy editor, live expression checks, impact preview and publishing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from qinqing.catalogue.errors import OverBudgetUnconfirmed, PolicyInvalid, RemitExceeded
from qinqing.catalogue.parse import parse_policy
from qinqing.web.deps import CurrentPrincipal, ServicesDep
from qinqing.web.services.editor import EditorService
from qinqing.web.services.expressions import check_expression
from qinqing.web.services.library import LEVELS, MODES
from qinqing.web.services.policy_form import PolicyForm

router = APIRouter()


class ExpressionCheck(BaseModel):
    expr: str
    kind: str = "condition"  # condition | benefit


class PolicyText(BaseModel):
    yaml: str


class PublishRequest(BaseModel):
    version: int | None = None  # the draft version previewed; publishing fails if the draft changed since
    confirm_over_budget: bool = False
    reason: str = Field(default="", max_length=500)


class Approval(BaseModel):
    reason: str = Field(..., max_length=500)


def _entry_json(entry) -> dict:
    return {"policy_id": entry.policy_id, "title": entry.title, "department": entry.department,
            "draft_version": entry.draft_version, "published_version": entry.published_version,
            "status": entry.status_label}


@router.post("/api/officer/check-expression", tags=["officer"])
def api_check_expression(body: ExpressionCheck, principal: CurrentPrincipal) -> dict:
    """Check one condition or benefit expression; the problems carry a Chinese message and the column."""
    from qinqing.accounts.authz import Role, require_role

    require_role(principal, Role.OFFICER, Role.ADMIN)
    problems = check_expression(body.expr, body.kind)
    return {"ok": not problems, "problems": [p.as_json() for p in problems]}


@router.get("/api/officer/policies", tags=["officer"])
def api_own_policies(services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """The acting officer's department's policies (every policy for an admin), drafts included."""
    return {"policies": [_entry_json(e) for e in services.editor.own_policies(principal)]}


@router.post("/api/officer/policies", tags=["officer"])
def api_save(body: PolicyText, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Save a policy file's text as a new draft version."""
    return _entry_json(services.editor.save(principal, body.yaml))


@router.get("/api/officer/policies/{policy_id}/preview", tags=["officer"])
def api_preview(policy_id: str, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Impact of the current draft on the registry; nothing is stored."""
    return services.editor.preview(principal, policy_id, services.today()).as_json()


@router.post("/api/officer/policies/{policy_id}/publish", tags=["officer"])
def api_publish(policy_id: str, services: ServicesDep, principal: CurrentPrincipal,
                body: PublishRequest | None = None) -> dict:
    """Publish the current draft; returns at once, and the re-match runs as a job whose progress
    ``rematch_url`` gives. Over budget: 409 unless confirmed with a reason; wider than the officer's
    remit: 403 unless a supervisor approved this version."""
    body = body or PublishRequest()
    entry = services.editor.publish(principal, policy_id, services.today(), version=body.version,
                                    confirm_over_budget=body.confirm_over_budget, reason=body.reason)
    return {**_entry_json(entry), "rematch_url": f"/api/officer/policies/{policy_id}/rematch"}


@router.get("/api/officer/policies/{policy_id}/rematch", tags=["officer"])
def api_rematch(policy_id: str, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Progress of the policy's re-match jobs (newest first); ``busy`` until the latest has finished."""
    return services.editor.rematch_jobs(principal, policy_id).as_json()


@router.get("/api/jobs/{job_id}", tags=["officer"])
def api_job(job_id: int, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """One background job (a re-match, a scheduled run, a clock): state, attempts, progress, result."""
    return services.editor.job(principal, job_id).as_json()


@router.post("/api/supervisor/policies/{policy_id}/approve-remit", tags=["supervisor"])
def api_approve_remit(policy_id: str, body: Approval, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """A supervisor approves the current draft of a policy wider than its officer's remit."""
    return _entry_json(services.editor.approve_remit(principal, policy_id, body.reason))


@router.get("/api/officer/policies/{policy_id}/publications", tags=["officer"])
def api_publications(policy_id: str, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Who published which version of the policy, and why when it was over budget."""
    services.editor.draft(principal, policy_id)  # authorisation: the owner department or an admin
    rows = services.catalogue.publications(policy_id)
    return {"publications": [{**r, "published_at": r["published_at"].isoformat()} for r in rows]}


def _render_form(request: Request, form: PolicyForm, *, entry=None, problems=(), message: str = "",
                 status_code: int = 200, rematch=None):
    return request.app.state.templates.TemplateResponse(
        request, "editor.html",
        {"form": form, "entry": entry, "problems": list(problems), "message": message, "levels": LEVELS,
         "modes": MODES, "rematch": rematch},
        status_code=status_code,
    )


@router.get("/officer/policies", include_in_schema=False)
def own_policies_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    entries = services.editor.own_policies(principal)
    published = request.query_params.get("published", "")
    rematch = None
    if published and any(e.policy_id == published for e in entries):
        rematch = services.editor.rematch_jobs(principal, published)
    return request.app.state.templates.TemplateResponse(request, "officer_policies.html",
                                                        {"entries": entries, "rematch": rematch})


@router.get("/officer/policies/new", include_in_schema=False)
def new_policy_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    services.editor.own_policies(principal)  # authorisation: officers and admins only
    p = principal
    return _render_form(request, PolicyForm(issuer=p.department or "", region=p.region_code or ""))


@router.get("/officer/policies/{policy_id}/edit", include_in_schema=False)
def edit_policy_page(policy_id: str, request: Request, services: ServicesDep, principal: CurrentPrincipal,
                     saved: str = ""):
    entry = services.editor.draft(principal, policy_id)
    form = PolicyForm.from_policy(parse_policy(entry.yaml_text, policy_id))
    return _render_form(request, form, entry=entry, message="已保存草稿。" if saved else "",
                        rematch=services.editor.rematch_jobs(principal, policy_id))


@router.post("/officer/policies", include_in_schema=False)
async def save_policy_form(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    data = await request.form()
    form = PolicyForm.from_form({k: data.getlist(k) for k in data.keys()})
    try:
        entry = services.editor.save(principal, form.to_yaml())
    except PolicyInvalid as error:
        return _render_form(request, form, problems=error.problems, status_code=422)
    return RedirectResponse(f"/officer/policies/{entry.policy_id}/edit?saved=1", status_code=303)


@router.get("/officer/policies/{policy_id}/preview", include_in_schema=False)
def preview_page(policy_id: str, request: Request, services: ServicesDep, principal: CurrentPrincipal,
                 publish_error: str = "", status_code: int = 200):
    editor: EditorService = services.editor
    entry = editor.draft(principal, policy_id)
    preview = editor.preview(principal, policy_id, services.today())
    return request.app.state.templates.TemplateResponse(
        request, "preview.html", {"entry": entry, "preview": preview, "preview_json": preview.as_json(),
                                  "publish_error": publish_error}, status_code=status_code,
    )


@router.post("/officer/policies/{policy_id}/publish", include_in_schema=False)
async def publish_form(policy_id: str, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    data = await request.form()
    version = str(data.get("version") or "")
    try:
        services.editor.publish(principal, policy_id, services.today(),
                                version=int(version) if version.isdigit() else None,
                                confirm_over_budget=data.get("confirm_over_budget") == "1",
                                reason=str(data.get("reason") or "")[:500])
    except (OverBudgetUnconfirmed, RemitExceeded) as error:
        return preview_page(policy_id, request, services, principal, publish_error=error.message,
                            status_code=error.status)
    return RedirectResponse("/officer/policies?published=" + policy_id, status_code=303)
