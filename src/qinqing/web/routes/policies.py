"""政策库: browse and search published policies; a policy's page with its clauses and source."""

from __future__ import annotations

from fastapi import APIRouter, Request

from qinqing.accounts.authz import Role
from qinqing.web.deps import CurrentPrincipal, ServicesDep
from qinqing.web.services.library import LibraryItem, PolicyFilters, region_label

router = APIRouter()


def _filters(q: str = "", level: str = "", region: str = "", industry: str = "", support_type: str = "",
             mode: str = "", valid_now: bool = False) -> PolicyFilters:
    return PolicyFilters(q=q, level=level, region=region, industry=industry, support_type=support_type,
                         mode=mode, valid_now=valid_now)


def _summary(item: LibraryItem) -> dict:
    p = item.policy
    return {
        "policy_id": p.id, "title": p.title, "issuer": p.issuer, "document": p.document, "level": p.level,
        "region": p.region, "region_name": region_label(p.region), "industries": list(p.industries),
        "support_type": p.support_type, "mode": p.mode, "valid_from": p.valid_from.isoformat(),
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
        "budget": str(p.budget) if p.budget is not None else None, "score": item.score,
    }


@router.get("/api/policies", tags=["policies"])
def list_policies(services: ServicesDep, q: str = "", level: str = "", region: str = "", industry: str = "",
                  support_type: str = "", mode: str = "", valid_now: bool = False) -> dict:
    """Published policies, filtered; with `q`, ranked by full-text relevance (jieba + BM25)."""
    items = services.library.browse(_filters(q, level, region, industry, support_type, mode, valid_now),
                                    services.today())
    return {"count": len(items), "policies": [_summary(i) for i in items]}


@router.get("/api/policies/{policy_id}", tags=["policies"])
def get_policy(policy_id: str, services: ServicesDep) -> dict:
    """One published policy with its conditions, benefit, materials and source."""
    item = services.library.get(policy_id)
    return {**_summary(item), "policy": item.policy.model_dump(mode="json")}


@router.get("/policies", include_in_schema=False)
def policies_page(request: Request, services: ServicesDep, principal: CurrentPrincipal, q: str = "",
                  level: str = "", region: str = "", industry: str = "", support_type: str = "", mode: str = "",
                  valid_now: bool = False):
    filters = _filters(q, level, region, industry, support_type, mode, valid_now)
    items = services.library.browse(filters, services.today())
    return request.app.state.templates.TemplateResponse(
        request, "policies.html",
        {"items": items, "filters": filters, "facets": services.library.facets(), "region_label": region_label,
         "today": services.today()},
    )


@router.get("/policies/{policy_id}", include_in_schema=False)
def policy_page(policy_id: str, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    item = services.library.get(policy_id)
    return request.app.state.templates.TemplateResponse(
        request, "policy.html", {"item": item, "p": item.policy, "region_label": region_label,
                                 "today": services.today(),
                                 # Government staff also see the rule expressions; enterprises read Chinese only.
                                 "staff": principal is not None and principal.role is not Role.ENTERPRISE},
    )
