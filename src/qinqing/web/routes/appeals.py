"""接诉即办 pages and JSON API: the enterprise files, follows and rates; departments sign, reply, ask for
延期 and 退单; the desk dispatches; supervisors 督办 and read the 三率 rankings. Thin: every check and change
is in ``qinqing.appeals.service``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from qinqing.accounts.authz import Principal, require_login
from qinqing.appeals.config import KINDS
from qinqing.appeals.errors import InvalidAppeal
from qinqing.appeals.metrics import month_period
from qinqing.appeals.service import AppealService, ranking_for
from qinqing.appeals.states import actions_from
from qinqing.appeals.views import is_dispatcher, is_supervisor, local_text
from qinqing.web.deps import CurrentPrincipal, ServicesDep

router = APIRouter()


def _service(request: Request, services) -> AppealService:
    cached = getattr(request.app.state, "appeals", None)
    if cached is None:
        cached = request.app.state.appeals = AppealService(services.engine)
    return cached


def _page(request: Request, name: str, **context: Any):
    return request.app.state.templates.TemplateResponse(request, name, {"local_text": local_text, **context})


def _bool(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


def _act(service: AppealService, principal: Principal, appeal_id: int, action: str, data: dict[str, Any]):
    """One action by name, as the pages' forms and the API post it."""
    note = data.get("note") or ""
    actions = {
        "dispatch": lambda: service.dispatch(principal, appeal_id, category=data.get("category", ""),
                                             lead=data.get("lead") or None, note=note or None),
        "accept": lambda: service.accept(principal, appeal_id),
        "return": lambda: service.return_appeal(principal, appeal_id, note),
        "review_return": lambda: service.review_return(principal, appeal_id, approve=_bool(data.get("approve")),
                                                       category=data.get("category") or None,
                                                       lead=data.get("lead") or None, note=note or None),
        "merge": lambda: service.merge(principal, appeal_id, int(data.get("into") or 0), note or None),
        "transfer": lambda: service.transfer(principal, appeal_id, data.get("target", ""), note or None),
        "refer": lambda: service.refer(principal, appeal_id, data.get("route", ""), note or None),
        "extension": lambda: service.request_extension(principal, appeal_id, int(data.get("working_days") or 0), note),
        "decide_extension": lambda: service.decide_extension(principal, int(data.get("extension_id") or 0),
                                                             approve=_bool(data.get("approve")), note=note or None),
        "reply": lambda: service.reply(principal, appeal_id, data.get("text") or note),
        "rate": lambda: service.rate(principal, appeal_id, int(data.get("level") or 0),
                                     resolved=None if data.get("resolved") in (None, "") else _bool(data["resolved"]),
                                     comment=data.get("comment") or None),
        "review_rating": lambda: service.request_rating_review(principal, appeal_id, note),
        "decide_review": lambda: service.decide_rating_review(principal, appeal_id, void=_bool(data.get("void")),
                                                              note=note),
        "supervise": lambda: service.supervise(principal, appeal_id, note),
        "rectify": lambda: service.rectify(principal, appeal_id, note),
        "confirm": lambda: service.confirm(principal, appeal_id, accept=_bool(data.get("accept", "true")),
                                           note=note or None),
    }
    if action not in actions:
        raise InvalidAppeal(f"未知的操作 {action}。", field="action")
    try:
        return actions[action]()
    except ValueError:
        raise InvalidAppeal("参数格式有误。") from None


def _intake(data: dict[str, Any]) -> dict[str, Any]:
    fields = ("kind", "category", "title", "description", "region_code", "policy_ref", "application_ref", "uscc",
              "enterprise_name", "contact_name", "contact_phone", "contact_email")
    result = {k: data[k] for k in fields if data.get(k) not in (None, "")}
    for flag in ("disclose_identity", "confidential", "public"):
        result[flag] = _bool(data.get(flag, False))
    return result


# --- JSON API -----------------------------------------------------------------------------------------

@router.post("/api/appeals", tags=["appeals"])
async def api_submit(request: Request, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """File an appeal (enterprise) or record a call (officer); returns the appeal and any duplicate proposals."""
    intake = _service(request, services).submit(require_login(principal), _intake(await request.json()),
                                                channel="api")
    return {"appeal": intake.appeal.as_json(), "dispatched": intake.dispatched, "hint": intake.hint,
            "duplicates": list(intake.duplicates)}


@router.get("/api/appeals", tags=["appeals"])
def api_list(request: Request, services: ServicesDep, principal: CurrentPrincipal, queue: str = "mine") -> list:
    """An enterprise's own appeals; a department's queue; queue=desk|supervision|all for the desk and supervisors."""
    return [a.as_json() for a in _service(request, services).list_for(require_login(principal), queue=queue)]


@router.get("/api/appeals/rankings", tags=["appeals"])
def api_rankings(request: Request, services: ServicesDep, principal: CurrentPrincipal, month: str,
                 by: str = "department") -> dict:
    """三率 of every department (or city) for a month, e.g. month=2026-09."""
    service = _service(request, services)
    start, end = _month(service, month)
    return ranking_for(service, require_login(principal), start, end, by=by).as_json()


@router.get("/api/appeals/{appeal_id}", tags=["appeals"])
def api_get(request: Request, services: ServicesDep, principal: CurrentPrincipal, appeal_id: int) -> dict:
    return _service(request, services).get(require_login(principal), appeal_id).as_json()


@router.post("/api/appeals/{appeal_id}/{action}", tags=["appeals"])
async def api_action(request: Request, services: ServicesDep, principal: CurrentPrincipal, appeal_id: int,
                     action: str) -> dict:
    """dispatch, accept, return, review_return, merge, transfer, refer, extension, decide_extension, reply,
    rate, review_rating, decide_review, supervise, rectify, confirm."""
    service = _service(request, services)
    result = _act(service, require_login(principal), appeal_id, action, await request.json())
    return result.as_json() if hasattr(result, "as_json") else {"id": result}


def _month(service: AppealService, month: str) -> tuple[datetime, datetime]:
    try:
        year, number = (int(p) for p in month.split("-"))
        return month_period(year, number, service.config().rankings.month_starts_on)
    except ValueError:
        raise InvalidAppeal("月份格式应为 YYYY-MM，如 2026-09。", field="month") from None


# --- pages ----------------------------------------------------------------------------------------------

@router.get("/appeals", include_in_schema=False)
def appeals_page(request: Request, services: ServicesDep, principal: CurrentPrincipal, queue: str = "mine"):
    principal = require_login(principal)
    service = _service(request, services)
    config = service.config()
    queues = ["mine"] + (["desk", "all"] if is_dispatcher(principal, config) else []) + (
        ["supervision"] if is_supervisor(principal) else [])
    items = service.list_for(principal, queue=queue if queue in queues else "mine")
    extensions = service.pending_extensions(principal) if is_supervisor(principal) and queue == "supervision" else []
    return _page(request, "appeals/list.html", items=items, queue=queue, queues=queues, now=service.clock(),
                 extensions=extensions)


@router.get("/appeals/new", include_in_schema=False)
def new_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    principal = require_login(principal)
    return _page(request, "appeals/new.html", config=_service(request, services).config(), kinds=KINDS)


@router.post("/appeals/new", include_in_schema=False)
async def new_submit(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    form = dict(await request.form())
    intake = _service(request, services).submit(require_login(principal), _intake(form))
    return RedirectResponse(f"/appeals/{intake.appeal.id}", status_code=303)


@router.get("/appeals/rankings", include_in_schema=False)
def rankings_page(request: Request, services: ServicesDep, principal: CurrentPrincipal, month: str = "",
                  by: str = "department"):
    service = _service(request, services)
    month = month or service.clock().astimezone().strftime("%Y-%m")
    table = ranking_for(service, require_login(principal), *_month(service, month), by=by)
    return _page(request, "appeals/rankings.html", table=table, month=month, by=by)


@router.get("/appeals/rankings.xlsx", include_in_schema=False)
def rankings_xlsx(request: Request, services: ServicesDep, principal: CurrentPrincipal, month: str):
    import tempfile
    from pathlib import Path

    from qinqing.appeals.metrics import export_xlsx

    service = _service(request, services)
    principal = require_login(principal)
    start, end = _month(service, month)
    tables = [ranking_for(service, principal, start, end, by=b) for b in ("department", "region")]
    with tempfile.TemporaryDirectory() as directory:
        data = export_xlsx(Path(directory) / "rankings.xlsx", tables).read_bytes()
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="rankings-{month}.xlsx"'})


@router.get("/appeals/{appeal_id}", include_in_schema=False)
def appeal_page(request: Request, services: ServicesDep, principal: CurrentPrincipal, appeal_id: int):
    principal = require_login(principal)
    service = _service(request, services)
    appeal = service.get(principal, appeal_id)
    config = service.config()
    suggestion = service.suggest(principal, appeal_id) if is_dispatcher(principal, config) else None
    return _page(request, "appeals/detail.html", appeal=appeal, config=config, now=service.clock(),
                 actions={a.name for a in actions_from(appeal.state)}, suggestion=suggestion,
                 is_desk=is_dispatcher(principal, config), is_supervisor=is_supervisor(principal),
                 is_lead=principal.department is not None and principal.department == appeal.lead_department,
                 is_assigned=principal.department in (appeal.lead_department, *appeal.assisting))


@router.post("/appeals/{appeal_id}/act", include_in_schema=False)
async def appeal_act(request: Request, services: ServicesDep, principal: CurrentPrincipal, appeal_id: int):
    form = dict(await request.form())
    _act(_service(request, services), require_login(principal), appeal_id, str(form.get("action", "")), form)
    return RedirectResponse(f"/appeals/{appeal_id}", status_code=303)
