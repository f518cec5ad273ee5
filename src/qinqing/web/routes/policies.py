"""政策库: browse and search published policies; a policy's page with its clauses and source."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from qinqing.accounts.authz import Role
from qinqing.web.deps import CurrentPrincipal, ServicesDep
from qinqing.web.services.library import (
    STATUS_KEYS,
    InvalidFilter,
    LibraryItem,
    highlight,
    industry_choices,
    paginate,
    read_filters,
    region_label,
)

router = APIRouter()


def _summary(item: LibraryItem, today) -> dict:
    p = item.policy
    return {
        "policy_id": p.id, "title": p.title, "issuer": p.issuer, "document": p.document, "level": p.level,
        "region": p.region, "region_name": region_label(p.region), "industries": list(p.industries),
        "support_type": p.support_type, "mode": p.mode, "valid_from": p.valid_from.isoformat(),
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
        "budget": str(p.budget) if p.budget is not None else None, "status": item.status(today),
        "score": item.score, "matched": list(item.matched),
    }


@router.get("/api/policies", tags=["policies"])
def list_policies(request: Request, services: ServicesDep, q: str = "", level: str = "", region: str = "",
                  industry: str = "", support_type: str = "", mode: str = "", status: str = "",
                  valid_now: str = "", offset: int = Query(0, ge=0),
                  limit: int | None = Query(None, ge=1, le=1000)) -> dict:
    """Published policies, filtered; with `q`, every word required (or a synonym of it), ranked by BM25.

    `status`: valid (有效) / upcoming (未生效) / expired (已过期); `valid_now=true` is `status=valid`. A value
    that is not one of a filter's choices is a 422 `web.invalid_filter`. `count` is every match;
    `offset`/`limit` cut the list (default: all)."""
    filters = read_filters(request.query_params)
    if filters.problems:
        raise InvalidFilter("".join(filters.problems), problems=list(filters.problems))
    today = services.today()
    items = services.library.browse(filters, today)
    shown = items[offset:offset + limit] if limit else items[offset:]
    return {"count": len(items), "offset": offset, "policies": [_summary(i, today) for i in shown]}


@router.get("/api/policies/{policy_id}", tags=["policies"])
def get_policy(policy_id: str, services: ServicesDep) -> dict:
    """One published policy with its conditions, benefit, materials and source."""
    item = services.library.get(policy_id)
    return {**_summary(item, services.today()), "policy": item.policy.model_dump(mode="json")}


@router.get("/policies", include_in_schema=False)
def policies_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    filters = read_filters(request.query_params)  # unusable values are shown on the page, never a 422
    pager = paginate(services.library.browse(filters, services.today()), request.query_params.get("page"))
    return request.app.state.templates.TemplateResponse(
        request, "policies.html",
        {"items": pager.items, "pager": pager, "page_url": lambda n: str(request.url.include_query_params(page=n)),
         "filters": filters, "facets": services.library.facets(), "region_label": region_label,
         "industry_choices": industry_choices(), "statuses": STATUS_KEYS, "highlight": highlight,
         "today": services.today()},
    )


@router.get("/policies/{policy_id}", include_in_schema=False)
def policy_page(policy_id: str, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    item = services.library.get(policy_id)
    # Arriving from a search (?q=…), the words found are marked in the title and clauses.
    matched = services.library.matched_in(policy_id, request.query_params.get("q", ""))
    return request.app.state.templates.TemplateResponse(
        request, "policy.html", {"item": item, "p": item.policy, "region_label": region_label,
                                 "highlight": highlight, "matched": matched,
                                 "today": services.today(), "status": item.status(services.today()),
                                 # Government staff also see the rule expressions; enterprises read Chinese only.
                                 "staff": principal is not None and principal.role is not Role.ENTERPRISE},
    )
