"""指数与督查: the three-colour map and ranking of an index, a unit's indicators and their records, the
supervision list and its 整改 steps. Thin: every operation is ``qinqing.indices.service.IndicesService``."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from qinqing.accounts.authz import Principal, Role, require_role
from qinqing.accounts.errors import Forbidden
from qinqing.indices.errors import CaseStateConflict
from qinqing.indices.export import ranking_xlsx
from qinqing.indices.load import parse_system
from qinqing.indices.service import STATES, IndicesService
from qinqing.web.deps import CurrentPrincipal, ServicesDep

router = APIRouter()
VIEWERS = (Role.SUPERVISOR, Role.ADMIN, Role.OFFICER)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)


def _service(services) -> IndicesService:
    return IndicesService(services.engine)


def _actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.username}"


def ranking_view(service: IndicesService, index_id: str, period: str | None) -> dict:
    """The JSON the map and the table are drawn from: the run, its tier levels, one row per unit."""
    run = service.run(index_id, period)
    system = parse_system(run["config_text"])
    levels = [{"id": lv.id, "label": lv.label, "colour": lv.colour} for lv in (system.tiers.levels if system.tiers else [])]
    colours = {lv["id"]: lv for lv in levels}
    rows = []
    for row in service.ranking(run["id"]):
        level = colours.get(row["tier"])
        rows.append({"unit": row["unit"], "name": row["name"], "score": row["score"], "rank": row["rank"],
                     "ranked": row["ranked"], "tier": row["tier"], "tier_label": level["label"] if level else None,
                     "colour": level["colour"] if level else "#bdbdbd", "tier_reason": row["tier_reason"],
                     "rank_low": row["rank_low"], "rank_high": row["rank_high"], "rank_median": row["rank_median"],
                     "imputed": row["imputed"], "excluded": row["excluded"], "sample": row["sample"]})
    return {"index_id": index_id, "name": run["index_name"], "period": run["period"], "run_id": run["id"],
            "computed_at": run["computed_at"].isoformat() if run["computed_at"] else None,
            "levels": levels, "units": rows, "weights": run["summary"]["weights"],
            "dropped": run["summary"]["dropped_indicators"]}


@router.get("/api/indices", tags=["indices"])
def api_indices(services: ServicesDep, principal: CurrentPrincipal) -> list[dict]:
    """Every index (built-in or computed) with the periods stored."""
    require_role(principal, *VIEWERS)
    return _service(services).indices()


@router.get("/api/indices/{index_id}/ranking", tags=["indices"])
def api_ranking(index_id: str, services: ServicesDep, principal: CurrentPrincipal, period: str | None = None) -> dict:
    """One period's ranking (default: the latest): score, rank, tier and colour, Monte Carlo rank interval,
    imputed-cell count and exclusion reason per unit."""
    require_role(principal, *VIEWERS)
    return ranking_view(_service(services), index_id, period)


@router.get("/api/indices/{index_id}/ranking.xlsx", tags=["indices"])
def api_ranking_xlsx(index_id: str, services: ServicesDep, principal: CurrentPrincipal, period: str | None = None):
    """The period's ranking, indicator values (with imputation and sources) and cases as an Excel workbook."""
    require_role(principal, *VIEWERS)
    with tempfile.TemporaryDirectory() as directory:
        path = ranking_xlsx(_service(services), index_id, period, Path(directory) / "ranking.xlsx")
        content = path.read_bytes()
    return Response(content, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{index_id}-{period or "latest"}.xlsx"'})


@router.get("/api/indices/{index_id}/cases", tags=["indices"])
def api_cases(index_id: str, services: ServicesDep, principal: CurrentPrincipal) -> list[dict]:
    """The supervision list (督办) of an index with each case's 整改 state."""
    require_role(principal, *VIEWERS)
    return _service(services).cases(index_id)


@router.get("/indices", include_in_schema=False)
def indices_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    require_role(principal, *VIEWERS)
    return request.app.state.templates.TemplateResponse(
        request, "indices/list.html", {"indices": _service(services).indices()})


@router.get("/indices/{index_id}", include_in_schema=False)
def index_page(request: Request, index_id: str, services: ServicesDep, principal: CurrentPrincipal,
               period: str | None = None):
    require_role(principal, *VIEWERS)
    service = _service(services)
    view = ranking_view(service, index_id, period)
    periods = next((e["periods"] for e in service.indices() if e["id"] == index_id), [])
    return request.app.state.templates.TemplateResponse(request, "indices/index.html", {
        "view": view, "periods": periods, "cases": service.cases(index_id), "states": STATES,
        "can_supervise": principal.role in SUPERVISORS})


@router.get("/indices/{index_id}/units/{unit}", include_in_schema=False)
def unit_page(request: Request, index_id: str, unit: str, services: ServicesDep, principal: CurrentPrincipal,
              period: str | None = None):
    require_role(principal, *VIEWERS)
    service = _service(services)
    run = service.run(index_id, period)
    system = parse_system(run["config_text"])
    row = next((r for r in service.ranking(run["id"]) if r["unit"] == unit), None)
    detail = service.unit_detail(run["id"], unit)
    nodes = [{"node": node, "depth": depth, "result": detail["nodes"].get(node.id)}
             for node, depth in _walk(system.tree)]
    values = {v["indicator_id"]: v for v in detail["values"]}
    return request.app.state.templates.TemplateResponse(request, "indices/unit.html", {
        "run": run, "row": row, "unit": unit, "nodes": nodes, "values": values, "index_id": index_id,
        "cases": [c for c in service.cases(index_id) if c["unit"] == unit], "states": STATES})


def _walk(node, depth: int = 0):
    yield node, depth
    for child in node.children or ():
        yield from _walk(child, depth + 1)


def _back(index_id: str, anchor: str = "cases") -> RedirectResponse:
    return RedirectResponse(f"/indices/{index_id}#{anchor}", status_code=303)


@router.post("/indices/{index_id}/supervise", include_in_schema=False)
def supervise(index_id: str, services: ServicesDep, principal: CurrentPrincipal,
              period: Annotated[str | None, Form()] = None):
    principal = require_role(principal, *SUPERVISORS)
    _service(services).supervise(index_id, period or None, actor=_actor(principal))
    return _back(index_id)


@router.post("/indices/cases/{case_id}/report", include_in_schema=False)
def report(case_id: int, services: ServicesDep, principal: CurrentPrincipal, text: Annotated[str, Form()] = ""):
    principal = require_role(principal, *VIEWERS)
    service = _service(services)
    case = service.case(case_id)
    if principal.role == Role.OFFICER and not (principal.region_code and case["unit"].startswith(
            principal.region_code.rstrip("0") or principal.region_code)):
        raise Forbidden("只能由被督办地区的工作人员或督查人员提交整改报告。", case_id=case_id)
    service.submit_report(case_id, actor=_actor(principal), report=text)
    return _back(case["index_id"])


@router.post("/indices/cases/{case_id}/review", include_in_schema=False)
def review(case_id: int, services: ServicesDep, principal: CurrentPrincipal,
           decision: Annotated[str, Form()] = "", note: Annotated[str, Form()] = ""):
    principal = require_role(principal, *SUPERVISORS)
    case = _service(services).review(case_id, actor=_actor(principal), accept=decision == "accept", note=note)
    return _back(case["index_id"])


@router.post("/indices/cases/{case_id}/publish", include_in_schema=False)
def publish(case_id: int, services: ServicesDep, principal: CurrentPrincipal,
            published_on: Annotated[str, Form()] = ""):
    principal = require_role(principal, *SUPERVISORS)
    try:
        day = date.fromisoformat(published_on) if published_on else services.today()
    except ValueError:
        raise CaseStateConflict(f"公示日期格式应为 YYYY-MM-DD，实为“{published_on}”。") from None
    case = _service(services).publish(case_id, actor=_actor(principal), published_on=day)
    return _back(case["index_id"])
