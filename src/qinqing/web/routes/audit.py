"""The audit trail of an object (操作记录): a page, a section other pages include, and the API."""

from __future__ import annotations

from fastapi import APIRouter, Request

from qinqing.web.deps import CurrentPrincipal, ServicesDep
from qinqing.web.services.audit import AuditTrailService

router = APIRouter()


def trail_service(services) -> AuditTrailService:
    return AuditTrailService(services.engine, services.catalogue.department_of)


def audit_trail(request: Request, object_type: str, object_id: str):
    """Template global: the trail for ``_audit_trail.html`` when the viewer may read it, else None."""
    return trail_service(request.app.state.services).for_page(request, object_type, object_id)


@router.get("/api/audit/{object_type}/{object_id}", tags=["audit"])
def api_trail(object_type: str, object_id: str, services: ServicesDep, principal: CurrentPrincipal,
              limit: int = 200) -> dict:
    """The object's newest rows of the audit trail (at most ``limit``, up to 1000), oldest first: who did
    what when and why, with the hashes of the states before and after and the row's chain hash.
    Supervisors and admins read any object; officers the policies of their own department."""
    limit = max(1, min(limit, 1000))
    return trail_service(services).trail(principal, object_type, object_id, limit=limit).as_json()


@router.get("/audit/{object_type}/{object_id}", include_in_schema=False)
def trail_page(object_type: str, object_id: str, request: Request, services: ServicesDep,
               principal: CurrentPrincipal):
    trail = trail_service(services).trail(principal, object_type, object_id, limit=1000)
    return request.app.state.templates.TemplateResponse(request, "audit.html", {"trail": trail})
