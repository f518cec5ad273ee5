"""督政策: the supervisor's overview of the current matching run, its chart data and CSV exports."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qinqing.web.deps import CurrentPrincipal, ServicesDep
from qinqing.web.services.supervision import policies_csv, regions_csv

router = APIRouter()


def export_name(what: str, as_of) -> str:
    """The file name people keep: "督政策_按政策_2021-12-01.csv" (what, and the run's reference day)."""
    return f"督政策_{what}_{as_of}.csv" if as_of else f"督政策_{what}.csv"


def _csv_response(text: str, filename: str, fallback: str) -> Response:
    # filename*: the Chinese name (RFC 6266 / 5987); filename: an ASCII one for clients without it.
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return Response(text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


@router.get("/api/supervision/overview", tags=["supervision"])
def api_overview(services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Per policy: eligible and unknown enterprises, estimated amount against the budget; per city:
    enterprises with at least one eligible policy and their amount (current matching run)."""
    return services.supervision.overview(principal).as_json()


@router.get("/api/supervision/policies.csv", tags=["supervision"])
def api_policies_csv(services: ServicesDep, principal: CurrentPrincipal) -> Response:
    """The per-policy rows as CSV (UTF-8 with BOM, for Excel)."""
    overview = services.supervision.overview(principal)
    return _csv_response(policies_csv(overview), export_name("按政策", overview.as_of), "policies.csv")


@router.get("/api/supervision/regions.csv", tags=["supervision"])
def api_regions_csv(services: ServicesDep, principal: CurrentPrincipal) -> Response:
    """The per-city rows as CSV (UTF-8 with BOM, for Excel)."""
    overview = services.supervision.overview(principal)
    return _csv_response(regions_csv(overview), export_name("按地区", overview.as_of), "regions.csv")


@router.get("/supervision", include_in_schema=False)
def supervision_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    overview = services.supervision.overview(principal)
    return request.app.state.templates.TemplateResponse(
        request, "supervision.html", {"overview": overview, "overview_json": overview.as_json()})
