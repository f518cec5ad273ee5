"""兑政策 pages and JSON API: the enterprise applies from a matched policy, follows its applications,
confirms 免申即享 payouts; officers review (single and 联审); finance pays in batches, imports the bank's
returns and reconciles. Thin: every check and change is in ``qinqing.workflow.service``.

Every money-moving POST under /api takes an ``Idempotency-Key`` header; a replay answers with the stored
status and body and ``Idempotency-Replayed: true``. The pages' forms carry a key made when the page was
rendered, so a form submitted twice is one action.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from qinqing.accounts.authz import Principal, Role, require_login, require_role
from qinqing.web.deps import CurrentPrincipal, ServicesDep
from qinqing.workflow import Actor, CommandResult, WorkflowService
from qinqing.workflow.money import fen, yuan
from qinqing.workflow.payments import parse_return_file
from qinqing.workflow.states import IN_REVIEW, RESERVED

router = APIRouter()
IDEMPOTENCY_HEADER = "Idempotency-Key"
STAFF = (Role.OFFICER, Role.ADMIN)


def _service(request: Request, services) -> WorkflowService:
    cached = getattr(request.app.state, "workflow", None)
    if cached is None:
        cached = request.app.state.workflow = WorkflowService(
            services.engine, catalogue=services.catalogue, today=services.today, results=services.results)
    return cached


def actor_of(principal: Principal | None) -> Actor:
    p = require_login(principal)
    return Actor(p.username, p.role.value, uscc=p.uscc, department=p.department)


def _answer(result: CommandResult) -> JSONResponse:
    headers = {"Idempotency-Replayed": "true"} if result.replayed else {}
    return JSONResponse(result.body, status_code=result.status, headers=headers)


def _key(request: Request) -> str | None:
    return request.headers.get(IDEMPOTENCY_HEADER)


async def _body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        data = await request.json()
        return data if isinstance(data, dict) else {}
    return dict(await request.form())


def _page(request: Request, name: str, status_code: int = 200, **context: Any):
    return request.app.state.templates.TemplateResponse(
        request, name, {"yuan": lambda f: "—" if f is None else yuan(f), "new_key": lambda: uuid.uuid4().hex,
                        **context}, status_code=status_code)


def _error_page(request: Request, result: CommandResult):
    """A stored error answer (a money command refused) as the error page, with its status."""
    error = result.body["error"]
    return _page(request, "error.html", status_code=result.status, status=result.status, code=error["code"],
                 message=error["message"], details=error.get("details") or {})


# ---------------------------------------------------------------- JSON API

@router.get("/api/workflow/prefill/{policy_id}", tags=["workflow"])
def api_prefill(policy_id: str, request: Request, services: ServicesDep, principal: CurrentPrincipal,
                uscc: str | None = None) -> dict:
    """The application form pre-filled from the profile and the match, with the materials it needs (零材料)."""
    actor = actor_of(principal)
    return _service(request, services).prefill(actor, uscc or actor.uscc or "", policy_id)


@router.post("/api/workflow/applications", tags=["workflow"], status_code=201)
async def api_apply(request: Request, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """申报: ``{policy_id, declared?, materials?, bank_account_id?}``; the match is frozen at submission."""
    actor = actor_of(principal)
    data = await _body(request)
    return _service(request, services).apply(
        actor, data.get("uscc") or actor.uscc or "", str(data.get("policy_id", "")), declared=data.get("declared") or {},
        materials=data.get("materials") or [], bank_account_id=data.get("bank_account_id"))


@router.get("/api/workflow/applications", tags=["workflow"])
def api_list(request: Request, services: ServicesDep, principal: CurrentPrincipal, state: str | None = None,
             policy_id: str | None = None) -> list[dict]:
    """An enterprise's own applications, or (officers) the queue, filtered by state and policy."""
    actor = actor_of(principal)
    return _service(request, services).list(actor, states_=[state] if state else None, policy_id=policy_id,
                                            department=actor.department if actor.role == "officer" else None)


@router.get("/api/workflow/applications/{application_id}", tags=["workflow"])
def api_get(application_id: int, request: Request, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """One application with its frozen outcome and trace, materials, opinions, history and time limit."""
    return _service(request, services).get(actor_of(principal), application_id)


@router.post("/api/workflow/applications/{application_id}/{action}", tags=["workflow"])
async def api_act(application_id: int, action: str, request: Request, services: ServicesDep,
                  principal: CurrentPrincipal) -> Response:
    """An action on an application: submit, withdraw, accept, rate (``level`` 1–5, ``comment``), review (``decision`` approve / reject / return,
    with ``comment``; Idempotency-Key), confirm (``bank_account_id``), decline, void and clawback (Idempotency-Key)."""
    data = await _body(request)
    result = act(_service(request, services), actor_of(principal), application_id, action, data, _key(request))
    return _answer(result) if isinstance(result, CommandResult) else JSONResponse(result)


def act(svc: WorkflowService, actor: Actor, application_id: int, action: str, data: dict[str, Any],
        key: str | None) -> CommandResult | dict:
    comment = (data.get("comment") or "").strip() or None
    if action == "review":
        return svc.review(actor, application_id, str(data.get("decision", "")), comment=comment,
                          department=data.get("department") or None, idempotency_key=key)
    if action == "clawback":
        amount = data.get("amount_fen")
        return svc.clawback(actor, application_id, comment or "", amount_fen=int(amount) if amount else None,
                            idempotency_key=key)
    if action == "void":
        return svc.void(actor, application_id, comment or "", idempotency_key=key)
    simple = {
        "submit": lambda: svc.submit(actor, application_id, declared=data.get("declared") or {},
                                     materials=_list(data.get("materials")),
                                     bank_account_id=_int(data.get("bank_account_id"))),
        "withdraw": lambda: svc.withdraw(actor, application_id, comment),
        "accept": lambda: svc.accept(actor, application_id),
        "confirm": lambda: svc.confirm_grant(actor, application_id, _int(data.get("bank_account_id")) or 0),
        "decline": lambda: svc.decline_grant(actor, application_id, comment),
        "rate": lambda: svc.rate(actor, application_id, _int(data.get("level")) or 0, comment),
    }
    if action not in simple:
        from qinqing.workflow.errors import NotFound

        raise NotFound(f"未知的操作：{action}", action=action)
    return simple[action]()


@router.post("/api/workflow/accounts", tags=["workflow"], status_code=201)
async def api_account(request: Request, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """Register the enterprise's 对公账户: verified when the account name equals the registered name."""
    actor = actor_of(principal)
    data = await _body(request)
    return _service(request, services).register_account(
        actor, data.get("uscc") or actor.uscc or "", str(data.get("account_name", "")),
        str(data.get("account_no", "")), str(data.get("bank", "")))


@router.get("/api/workflow/budgets", tags=["workflow"])
def api_budgets(request: Request, services: ServicesDep, principal: CurrentPrincipal) -> list[dict]:
    """Every policy's budget, reserved, paid, returned and available (分)."""
    require_role(principal, *STAFF, Role.SUPERVISOR)
    return [t.__dict__ | {"balanced": t.balanced} for t in _service(request, services).totals().values()]


@router.post("/api/workflow/budgets/{policy_id}/fund", tags=["workflow"])
async def api_fund(policy_id: str, request: Request, services: ServicesDep, principal: CurrentPrincipal) -> Response:
    """Fund a policy's budget: ``{amount_fen}``, or empty for the budget its file declares (Idempotency-Key)."""
    actor = actor_of(principal)
    data = await _body(request)
    svc = _service(request, services)
    if data.get("amount_fen") in (None, ""):
        return _answer(svc.fund_from_catalogue(actor, policy_id))
    return _answer(svc.fund(actor, policy_id, int(data["amount_fen"]), idempotency_key=_key(request),
                            reason=data.get("reason")))


@router.post("/api/workflow/grant-batches", tags=["workflow"])
async def api_grant_batch(request: Request, services: ServicesDep, principal: CurrentPrincipal) -> Response:
    """免申即享 名单公示 from the latest run (Idempotency-Key): ``{policy_id}``."""
    data = await _body(request)
    return _answer(_service(request, services).create_grant_batch(
        actor_of(principal), str(data.get("policy_id", "")), idempotency_key=_key(request)))


@router.post("/api/workflow/payment-batches", tags=["workflow"])
async def api_payment_batch(request: Request, services: ServicesDep, principal: CurrentPrincipal) -> Response:
    """A payment batch of approved applications with verified accounts (Idempotency-Key): ``{policy_id?}``."""
    data = await _body(request)
    return _answer(_service(request, services).create_payment_batch(
        actor_of(principal), policy_id=data.get("policy_id") or None, idempotency_key=_key(request)))


@router.get("/api/workflow/payment-batches/{batch_id}", tags=["workflow"])
def api_batch(batch_id: int, request: Request, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    require_role(principal, *STAFF)
    return _service(request, services).batch(batch_id)


@router.get("/workflow/payment-batches/{batch_id}/bank-file.csv", tags=["workflow"])
def bank_file(batch_id: int, request: Request, services: ServicesDep, principal: CurrentPrincipal) -> Response:
    """The batch's bank file (CSV, lines keyed by transfer id, SHA-256 checksum in the last line)."""
    require_role(principal, *STAFF)
    text, digest = _service(request, services).bank_file(batch_id)
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="bank-batch-{batch_id}.csv"', "X-Checksum-SHA256": digest})


@router.post("/api/workflow/bank-returns", tags=["workflow"])
async def api_bank_return(request: Request, services: ServicesDep, principal: CurrentPrincipal) -> Response:
    """The bank's return file as CSV text ``{csv}`` (Idempotency-Key); lines already applied are skipped."""
    data = await _body(request)
    lines = parse_return_file(str(data.get("csv", "")))
    return _answer(_service(request, services).import_bank_return(actor_of(principal), lines,
                                                                  idempotency_key=_key(request)))


@router.get("/api/workflow/stats", tags=["workflow"])
def api_stats(request: Request, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """督政策: applications, paid, amount, 兑现率 and 兑现时效 (median working days) by policy and department."""
    require_role(principal, *STAFF, Role.SUPERVISOR)
    return _service(request, services).payout_stats()


@router.get("/workflow/stats", include_in_schema=False)
def stats_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    require_role(principal, *STAFF, Role.SUPERVISOR)
    return _page(request, "workflow_stats.html", stats=_service(request, services).payout_stats())


@router.get("/api/workflow/reconciliation", tags=["workflow"])
def api_reconcile(request: Request, services: ServicesDep, principal: CurrentPrincipal) -> dict:
    """ledger = bank = budget per policy, with every difference listed."""
    require_role(principal, *STAFF, Role.SUPERVISOR)
    return _service(request, services).reconcile()


# ---------------------------------------------------------------- pages

@router.get("/workflow/apply/{policy_id}", include_in_schema=False)
def apply_page(policy_id: str, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    p = require_role(principal, Role.ENTERPRISE)
    svc = _service(request, services)
    form = svc.prefill(actor_of(p), p.uscc or "", policy_id)
    return _page(request, "workflow_apply.html", form=form, accounts=svc.accounts_of(actor_of(p), p.uscc or ""))


@router.post("/workflow/apply/{policy_id}", include_in_schema=False)
async def apply_submit(policy_id: str, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    p = require_role(principal, Role.ENTERPRISE)
    form = await request.form()
    svc = _service(request, services)
    actor = actor_of(p)
    account = _int(form.get("bank_account_id"))
    if form.get("account_no"):
        account = svc.register_account(actor, p.uscc or "", str(form.get("account_name", "")),
                                       str(form.get("account_no", "")), str(form.get("bank", "")))["id"]
    declared = {k.removeprefix("declared."): v for k, v in form.items() if k.startswith("declared.") and v}
    app = svc.apply(actor, p.uscc or "", policy_id, declared=declared, materials=form.getlist("materials"),
                    bank_account_id=account)
    return RedirectResponse(f"/workflow/applications/{app['id']}", status_code=303)


@router.get("/workflow/my", include_in_schema=False)
def my_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    p = require_role(principal, Role.ENTERPRISE)
    svc = _service(request, services)
    actor = actor_of(p)
    return _page(request, "workflow_my.html", applications=svc.list(actor), accounts=svc.accounts_of(actor, p.uscc or ""))


@router.get("/workflow/applications/{application_id}", include_in_schema=False)
def application_page(application_id: int, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    actor = actor_of(principal)
    svc = _service(request, services)
    app = svc.get(actor, application_id)
    accounts = svc.accounts_of(actor, app["uscc"]) if actor.role == "enterprise" else []
    return _page(request, "workflow_application.html", app=app, actor=actor, accounts=accounts)


@router.post("/workflow/applications/{application_id}/act", include_in_schema=False)
async def application_act(application_id: int, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    form = dict(await request.form())
    result = act(_service(request, services), actor_of(principal), application_id, str(form.get("action", "")), form,
                 str(form.get("idempotency_key") or "") or None)
    if isinstance(result, CommandResult) and not result.ok:
        return _error_page(request, result)
    return RedirectResponse(f"/workflow/applications/{application_id}", status_code=303)


@router.get("/workflow/queue", include_in_schema=False)
def queue_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    p = require_role(principal, *STAFF)
    actor = actor_of(p)
    svc = _service(request, services)
    department = actor.department if actor.role == "officer" else None
    waiting = svc.list(actor, states_=sorted(IN_REVIEW | {"退回补正"}), department=department)
    return _page(request, "workflow_queue.html", applications=waiting)


@router.get("/workflow/finance", include_in_schema=False)
def finance_page(request: Request, services: ServicesDep, principal: CurrentPrincipal):
    require_role(principal, *STAFF)
    actor = actor_of(principal)
    svc = _service(request, services)
    return _page(request, "workflow_finance.html", totals=list(svc.totals().values()), batches=svc.batches(),
                 approved=svc.list(actor, states_=sorted(RESERVED)), report=svc.reconcile())


@router.post("/workflow/finance/{action}", include_in_schema=False)
async def finance_act(action: str, request: Request, services: ServicesDep, principal: CurrentPrincipal):
    require_role(principal, *STAFF)
    actor = actor_of(principal)
    form = dict(await request.form())
    svc = _service(request, services)
    key = str(form.get("idempotency_key") or "") or None
    if action == "batch":
        result = svc.create_payment_batch(actor, policy_id=form.get("policy_id") or None, idempotency_key=key)
    elif action == "bank-return":
        result = svc.import_bank_return(actor, parse_return_file(str(form.get("csv", ""))), idempotency_key=key)
    elif action == "fund":
        result = svc.fund(actor, str(form.get("policy_id", "")), fen(str(form.get("amount", "0"))), idempotency_key=key)
    elif action == "grant-batch":
        result = svc.create_grant_batch(actor, str(form.get("policy_id", "")), idempotency_key=key)
    else:
        from qinqing.workflow.errors import NotFound

        raise NotFound(f"未知的操作：{action}", action=action)
    if not result.ok:
        return _error_page(request, result)
    return RedirectResponse("/workflow/finance", status_code=303)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value or "").splitlines() if v.strip()]
