"""The workflow's operations — what the CLI and the web call: applications, review, the budget ledger,
payments and 免申即享. Every state change happens in one transaction with its ledger journal, its
transition row, its audit row (``qinqing.audit.record``) and its domain event (``qinqing.events.emit``).

Locks, always in this order (no deadlock among workflow commands): the application rows (ascending id),
then the ledger accounts (ascending id, ``ledger.post``), then the audit head (``audit.record``, last).
Money-moving commands go through ``idempotency.command`` (an Idempotency-Key per caller and route).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from qinqing import audit, jobs
from qinqing.catalogue import CatalogueStore
from qinqing.events import Event, emit
from qinqing.registry import store as registry_store
from qinqing.rules import Policy, evaluate, parse_policy_text
from qinqing.settings import get_settings
from qinqing.workflow import defaults, ledger, states, workdays
from qinqing.workflow import events as ev
from qinqing.workflow.actors import (
    SYSTEM,
    Actor,
    Forbidden,
    require_enterprise,
    require_reader,
    require_staff,
)
from qinqing.workflow.common import dumps, now
from qinqing.workflow.common import jsonable as _jsonable
from qinqing.workflow.errors import (
    AccountNotVerified,
    AlreadyAwarded,
    ApplicationNotFound,
    BudgetExhausted,
    InvalidInput,
    LedgerError,
    NotEligible,
    NotFound,
)
from qinqing.workflow.grants import GRANT_EXPIRY_TASK, GrantsMixin
from qinqing.workflow.idempotency import CommandResult, command, retrying
from qinqing.workflow.money import fen
from qinqing.workflow.payments import PaymentsMixin
from qinqing.workflow.tables import (
    applications,
    awards,
    bank_accounts,
    entries,
    exclusion_claims,
    journals,
    opinions,
    ratings,
    transitions,
)

DEADLINE_TASK = "workflow.deadline"
REMINDER_TASK = "workflow.reminder"
WAITING = {"review": (states.ACCEPTED, states.REVIEWING, states.JOINT_REVIEW),
           "payment": (states.APPROVED, states.AWAITING_PAYMENT, states.PAYMENT_FAILED, states.REPAYING)}
DECISIONS = {"approve": "批准", "reject": "驳回", "return": "退回补正"}
RATING_LEVELS = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}


@dataclass(frozen=True)
class ReviewPlan:
    departments: tuple[str, ...]
    steps: int
    review_days: int
    payment_days: int
    correction_days: int
    objection_days: int
    confirm_days: int

    @property
    def joint(self) -> bool:
        return len(self.departments) > 1


def review_plan(policy: Policy, owner_department: str) -> ReviewPlan:
    r = policy.review
    departments = tuple(r.departments) if r and r.departments else (owner_department,)
    steps = r.steps if r else 1
    limit = defaults.MAX_STEPS_JOINT if len(departments) > 1 else defaults.MAX_STEPS_SINGLE
    if steps > limit:
        raise InvalidInput(f"审核环节数 {steps} 超过上限 {limit}（台州 2023 直达快享目标）。", policy_id=policy.id)
    return ReviewPlan(
        departments, steps,
        (r.time_limit_days if r else None) or defaults.REVIEW_DAYS,
        (r.payment_days if r else None) or defaults.PAYMENT_DAYS,
        (r.correction_days if r else None) or defaults.CORRECTION_DAYS,
        (r.objection_days if r else None) or defaults.OBJECTION_DAYS,
        (r.confirm_days if r else None) or defaults.CONFIRM_DAYS,
    )


_now = now
_json = dumps


def outcome_json(outcome, run_id: str | None = None) -> dict[str, Any]:
    """The frozen outcome: status, amount, failed, missing and every condition's clause, values and result."""
    return {
        "status": outcome.status, "amount": str(outcome.amount) if outcome.amount is not None else None,
        "failed": list(outcome.failed), "missing": list(outcome.missing), "run_id": run_id,
        "trace": [{"id": t.id, "clause": t.clause, "expr": t.expr, "result": t.result,
                   "values": {k: (None if v is None else str(v) if not isinstance(v, bool | int) else v)
                              for k, v in t.values.items()}} for t in outcome.trace],
    }


def required_materials(policy: Policy, data_outcome) -> list[dict[str, str]]:
    """零材料: a material only for each condition the data could not verify (unknown from the registry
    alone), named by the condition's ``materials`` (entries of the policy's ``materials``), or by its clause."""
    by_id = {c.id: c for c in policy.conditions}
    wanted: list[dict[str, str]] = []
    for t in data_outcome.trace:
        if t.result is not None:
            continue
        condition = by_id.get(t.id)
        names = condition.materials if condition is not None and condition.materials else (f"证明“{t.clause}”的材料",)
        for name in names:
            if not any(w["name"] == name for w in wanted):
                wanted.append({"name": name, "condition": t.id, "clause": t.clause})
    return wanted


class WorkflowService(PaymentsMixin, GrantsMixin):
    def __init__(self, engine: Engine, catalogue: CatalogueStore | None = None, today: Callable[[], date] | None = None,
                 results: Any | None = None) -> None:
        self.engine = engine
        self.catalogue = catalogue or CatalogueStore(engine)
        self.today = today or (lambda: get_settings().today())
        self.results = results  # a matching results store, for 免申即享 candidates
        self._policies: dict[tuple[str, int], Policy] = {}

    # ---------------------------------------------------------------- the catalogue and the registry
    def policy(self, policy_id: str) -> tuple[Policy, int, str]:
        """The published policy, its version and owner department (parsed once per version)."""
        entry = self.catalogue.get(policy_id, published=True)
        key = (policy_id, entry.version)
        if key not in self._policies:
            self._policies[key] = parse_policy_text(entry.yaml_text, policy_id)
        return self._policies[key], entry.version, entry.department

    def _facts(self, uscc: str) -> dict[str, Any]:
        facts = registry_store.get_enterprise(self.engine, uscc)
        if facts is None:
            raise NotFound(f"企业库中没有统一社会信用代码为 {uscc} 的企业。", uscc=uscc)
        return facts

    def prefill(self, actor: Actor, uscc: str, policy_id: str) -> dict[str, Any]:
        """The application form pre-filled from the profile and the match: the amount, each condition's
        result and clause, the missing fields the enterprise may declare, and the materials asked."""
        require_reader(actor, uscc)
        policy, version, department = self.policy(policy_id)
        facts = self._facts(uscc)
        as_of = self.today()
        outcome = evaluate(policy, _stored(facts), as_of)
        return {"policy_id": policy_id, "title": policy.title, "mode": policy.mode, "policy_version": version,
                "uscc": uscc, "name": facts.get("name") or uscc, "as_of": as_of.isoformat(),
                "outcome": outcome_json(outcome), "materials_required": required_materials(policy, outcome),
                "departments": list(review_plan(policy, department).departments)}

    # ---------------------------------------------------------------- applications
    def apply(self, actor: Actor, uscc: str, policy_id: str, *, declared: dict[str, Any] | None = None,
              materials: Iterable[str] = (), bank_account_id: int | None = None, submit: bool = True) -> dict:
        """Create an application (草稿), and submit it unless ``submit`` is false."""
        require_enterprise(actor, uscc)
        policy, version, department = self.policy(policy_id)
        if policy.mode == "免申即享":
            raise InvalidInput("免申即享政策无需申报：符合条件的企业将在名单公示后确认账户。", policy_id=policy_id)
        facts = self._facts(uscc)
        plan = review_plan(policy, department)
        now = _now()

        def create(conn: Connection) -> int:
            app_id = conn.execute(insert(applications).values(
                policy_id=policy_id, policy_version=version, uscc=uscc, enterprise_name=facts.get("name") or uscc,
                mode=policy.mode, state=states.DRAFT, period=str(self.today().year), amount_fen=None,
                as_of=self.today(), outcome="{}", declared="{}", materials_required="[]", materials="[]",
                bank_account_id=None, departments=_json(list(plan.departments)), steps=plan.steps, round=1,
                created_by=actor.name, created_at=now, updated_at=now)).inserted_primary_key[0]
            self._transition(conn, app_id, None, states.DRAFT, actor, None)
            record_row(conn, actor.name, "application.create", app_id)
            return int(app_id)

        app_id = retrying(self.engine, create)
        if submit:
            return self.submit(actor, app_id, declared=declared, materials=materials, bank_account_id=bank_account_id)
        return self.get(actor, app_id)

    def submit(self, actor: Actor, application_id: int, *, declared: dict[str, Any] | None = None,
               materials: Iterable[str] = (), bank_account_id: int | None = None) -> dict:
        """Freeze the match (outcome and trace, with the facts declared) into the application and submit it.

        Declared facts may only fill fields the registry lacks; every condition the data cannot verify needs
        its material; an ineligible enterprise cannot submit."""
        declared = dict(declared or {})
        materials = [m.strip() for m in materials if m and m.strip()]

        def run(conn: Connection) -> None:
            app = self._lock(conn, application_id)
            require_enterprise(actor, app["uscc"])
            to = states.next_state(app["state"], "submit", application_id)
            policy, _version, _department = self.policy(app["policy_id"])
            stored = _stored(self._facts(app["uscc"]))
            clash = [k for k in declared if stored.get(k) is not None]
            if clash:
                raise InvalidInput(f"以下字段已有部门共享的数据，不能自行申报：{'、'.join(clash)}", fields=clash)
            as_of = self.today()
            data_outcome = evaluate(policy, stored, as_of)
            try:
                outcome = evaluate(policy, {**stored, **{k: v for k, v in declared.items() if v not in (None, "")}}, as_of)
            except ValueError as error:
                raise InvalidInput(str(error)) from None
            if outcome.status == "ineligible":
                raise NotEligible(f"不符合政策条件：{'、'.join(outcome.failed)}", failed=outcome.failed)
            required = required_materials(policy, data_outcome)
            lacking = [m["name"] for m in required if m["name"] not in materials]
            if lacking:
                raise InvalidInput(f"请提供以下材料：{'、'.join(lacking)}", materials=lacking)
            if bank_account_id is not None:
                self._verified_account(conn, app["uscc"], bank_account_id)
            values = dict(
                state=to, outcome=_json(outcome_json(outcome)), declared=_json(declared), as_of=as_of,
                materials_required=_json(required), materials=_json(materials),
                amount_fen=fen(outcome.amount) if outcome.amount is not None else None,
                submitted_at=_now(), updated_at=_now(), deadline=None, deadline_kind=None, calendar=None)
            if bank_account_id is not None:
                values["bank_account_id"] = bank_account_id
            conn.execute(update(applications).where(applications.c.id == application_id).values(**values))
            jobs.cancel(conn, DEADLINE_TASK, f"application:{application_id}")
            self._transition(conn, application_id, app["state"], to, actor, None)
            self._record(conn, actor, "application.submit", app, to, event=ev.ApplicationSubmitted(
                application_id=application_id, policy_id=app["policy_id"], uscc=app["uscc"], actor=actor.name,
                amount_fen=values["amount_fen"]))

        retrying(self.engine, run)
        return self.get(actor, application_id)

    def withdraw(self, actor: Actor, application_id: int, reason: str | None = None) -> dict:
        """The enterprise withdraws its application before 受理."""
        def run(conn: Connection) -> None:
            app = self._lock(conn, application_id)
            require_enterprise(actor, app["uscc"])
            to = states.next_state(app["state"], "withdraw", application_id)
            self._set_state(conn, app, to, actor, reason)
            self._record(conn, actor, "application.withdraw", app, to, reason)

        retrying(self.engine, run)
        return self.get(actor, application_id)

    def accept(self, actor: Actor, application_id: int) -> dict:
        """受理: starts the review clock (working days, the policy's or the default limit)."""
        def run(conn: Connection) -> None:
            app = self._lock(conn, application_id)
            self._require_department(actor, app)
            to = states.next_state(app["state"], "accept", application_id)
            policy, _v, department = self.policy(app["policy_id"])
            due = workdays.deadline(self.today(), review_plan(policy, department).review_days)
            self._set_state(conn, app, to, actor, None, deadline=due, deadline_kind="review")
            self._record(conn, actor, "application.accept", app, to, event=ev.ApplicationAccepted(
                application_id=application_id, policy_id=app["policy_id"], uscc=app["uscc"], actor=actor.name,
                deadline=due.day.isoformat()))

        retrying(self.engine, run)
        return self.get(actor, application_id)

    def review(self, actor: Actor, application_id: int, decision: str, *, comment: str | None = None,
               department: str | None = None, idempotency_key: str | None = None) -> CommandResult:
        """One reviewer's opinion. Single review: ``steps`` approvals in sequence approve. 联审: every
        department gives one opinion in parallel; any 驳回 rejects, any 退回补正 returns, all 批准 approve.
        Approval reserves the amount in the ledger, so it is money-moving: it takes an Idempotency-Key."""
        if decision not in DECISIONS:
            raise InvalidInput(f"审核意见须为 {'、'.join(DECISIONS)} 之一。", decision=decision)
        if decision in ("reject", "return") and not (comment or "").strip():
            raise InvalidInput("驳回或退回补正须说明理由。")
        department = department or actor.department

        def run(conn: Connection) -> dict:
            app = self._lock(conn, application_id)
            self._require_department(actor, app, department)
            if app["created_by"] == actor.name:
                raise Forbidden("申报人不能审核自己的申报（利益冲突）。", application_id=application_id)
            if app["state"] == states.CONFIRMED:
                self._objection_open(conn, app)
            if app["state"] in (states.ACCEPTED, states.CONFIRMED):
                action = "joint_review" if len(json.loads(app["departments"])) > 1 else "review"
                to = states.next_state(app["state"], action, application_id)
                self._set_state(conn, app, to, actor, None)
                app = {**app, "state": to}
            states.next_state(app["state"], decision, application_id)  # 409 when no decision is allowed now
            step = self._opinion(conn, app, actor, department, decision, comment)
            departments = json.loads(app["departments"])
            if decision == "reject":
                self._reject(conn, app, actor, comment)
            elif decision == "return":
                self._return(conn, app, actor, comment)
            elif self._approvals_complete(conn, app, departments, step):
                self._approve(conn, app, actor, comment)
            return self._view(conn, application_id)

        return command(self.engine, scope=f"{actor.name}:review:{application_id}", key=idempotency_key,
                       payload={"decision": decision, "comment": comment, "department": department}, fn=run)

    def _opinion(self, conn: Connection, app, actor: Actor, department: str, decision: str, comment: str | None) -> int:
        departments = json.loads(app["departments"])
        if app["state"] == states.JOINT_REVIEW or len(departments) > 1:
            step = 1
        else:
            step = 1 + int(conn.execute(select(func.count()).select_from(opinions).where(
                opinions.c.application_id == app["id"], opinions.c.round == app["round"])).scalar() or 0)
            earlier = conn.execute(select(opinions.c.reviewer).where(
                opinions.c.application_id == app["id"], opinions.c.round == app["round"])).scalars().all()
            if actor.name in earlier:
                raise Forbidden("同一审核人不能在多个环节重复审核。", application_id=app["id"])
        try:
            with conn.begin_nested():
                conn.execute(insert(opinions).values(
                    application_id=app["id"], round=app["round"], department=department, step=step,
                    decision=decision, reviewer=actor.name, comment=comment, created_at=_now()))
        except IntegrityError:
            raise states.IllegalTransition(f"{department}已对本轮审核提出意见。", state=app["state"],
                                           department=department) from None
        return step

    def _approvals_complete(self, conn: Connection, app, departments: list[str], step: int) -> bool:
        if app["state"] == states.JOINT_REVIEW:
            approved = set(conn.execute(select(opinions.c.department).where(
                opinions.c.application_id == app["id"], opinions.c.round == app["round"],
                opinions.c.decision == "approve")).scalars())
            return set(departments) <= approved
        return step >= app["steps"]

    def _approve(self, conn: Connection, app, actor: Actor, reason: str | None) -> None:
        """已批准: the award row (one per policy, enterprise and period; one per exclusion group) and the
        reservation in the ledger; a 免申即享 application was reserved when its batch was made."""
        to = states.next_state(app["state"], "approve", app["id"])
        policy, _v, department = self.policy(app["policy_id"])
        if not self._reservation(conn, app["id"]):
            if not app["amount_fen"]:
                raise InvalidInput("申报没有可兑现的金额，不能批准。", application_id=app["id"])
            self._claim_award(conn, app, policy)
            try:
                with conn.begin_nested():
                    ledger.post_one(conn, _reserve_journal(app, actor))
            except LedgerError as error:
                raise BudgetExhausted(
                    f"政策资金余额不足：还差 {error.details.get('shortfall_fen', 0) / 100:.2f} 元。",
                    policy_id=app["policy_id"], **error.details) from None
        due = workdays.deadline(self.today(), review_plan(policy, department).payment_days)
        self._set_state(conn, app, to, actor, reason, deadline=due, deadline_kind="payment", decided=True)
        self._record(conn, actor, "application.approve", app, to, reason, event=ev.ApplicationApproved(
            application_id=app["id"], policy_id=app["policy_id"], uscc=app["uscc"], actor=actor.name,
            amount_fen=app["amount_fen"]))

    def _claim_award(self, conn: Connection, app, policy: Policy) -> None:
        try:
            with conn.begin_nested():
                conn.execute(insert(awards).values(policy_id=app["policy_id"], uscc=app["uscc"], period=app["period"],
                                                   application_id=app["id"]))
                if policy.exclusion_group:
                    conn.execute(insert(exclusion_claims).values(
                        exclusion_group=policy.exclusion_group, uscc=app["uscc"], period=app["period"],
                        application_id=app["id"]))
        except IntegrityError:
            raise AlreadyAwarded(policy_id=app["policy_id"], uscc=app["uscc"], period=app["period"],
                                 exclusion_group=policy.exclusion_group) from None

    def _reject(self, conn: Connection, app, actor: Actor, reason: str | None) -> None:
        to = states.next_state(app["state"], "reject", app["id"])
        self._set_state(conn, app, to, actor, reason, decided=True)
        self._record(conn, actor, "application.reject", app, to, reason, event=ev.ApplicationRejected(
            application_id=app["id"], policy_id=app["policy_id"], uscc=app["uscc"], actor=actor.name, reason=reason))

    def _return(self, conn: Connection, app, actor: Actor, reason: str | None) -> None:
        to = states.next_state(app["state"], "return", app["id"])
        policy, _v, department = self.policy(app["policy_id"])
        due = workdays.deadline(self.today(), review_plan(policy, department).correction_days)
        self._set_state(conn, app, to, actor, reason, deadline=due, deadline_kind="correction",
                        values={"round": app["round"] + 1})
        self._record(conn, actor, "application.return", app, to, reason, event=ev.ApplicationReturned(
            application_id=app["id"], policy_id=app["policy_id"], uscc=app["uscc"], actor=actor.name, reason=reason,
            deadline=due.day.isoformat()))

    def void(self, actor: Actor, application_id: int, reason: str, *, idempotency_key: str | None) -> CommandResult:
        """作废 an approved, unpaid application: the reservation goes back to the budget, the award is released."""
        require_staff(actor)

        def run(conn: Connection) -> dict:
            app = self._lock(conn, application_id)
            to = states.next_state(app["state"], "void", application_id)
            self._release(conn, app, actor, reason)
            self._set_state(conn, app, to, actor, reason)
            self._record(conn, actor, "application.void", app, to, reason)
            return self._view(conn, application_id)

        return command(self.engine, scope=f"{actor.name}:void:{application_id}", key=idempotency_key,
                       payload={"reason": reason}, fn=run)

    def _release(self, conn: Connection, app, actor: Actor, reason: str | None) -> None:
        reservation = self._reservation(conn, app["id"])
        if reservation is None:
            raise LedgerError("该申报没有未解除的资金冻结。", application_id=app["id"])
        reservation_id, amount = reservation
        ledger.post_one(conn, ledger.Journal(
            key=f"void:{reservation_id}", kind="void", policy_id=app["policy_id"], actor=actor.name,
            application_id=app["id"], resolves=reservation_id, reason=reason,
            legs=(ledger.Leg(ledger.payable_code(app["policy_id"], app["uscc"]), -amount),
                  ledger.Leg(ledger.budget_code(app["policy_id"]), amount))))
        conn.execute(delete(awards).where(awards.c.application_id == app["id"]))
        conn.execute(delete(exclusion_claims).where(exclusion_claims.c.application_id == app["id"]))
        emit(conn, ev.ReservationVoided(application_id=app["id"], policy_id=app["policy_id"], uscc=app["uscc"],
                                        actor=actor.name, amount_fen=amount, reason=reason), actor=actor.name)

    def _reservation(self, conn: Connection, application_id: int) -> tuple[int, int] | None:
        """The application's open reservation (journal id, amount in 分): its latest reserve or bank_return
        journal that nothing resolves yet."""
        resolved = select(journals.c.resolves).where(journals.c.resolves.is_not(None)).scalar_subquery()
        row = conn.execute(
            select(journals.c.id).where(journals.c.application_id == application_id,
                                        journals.c.kind.in_(("reserve", "bank_return")), journals.c.id.not_in(resolved))
            .order_by(journals.c.id.desc()).limit(1)).scalar()
        if row is None:
            return None
        amount = conn.execute(select(func.max(entries.c.amount_fen)).where(entries.c.journal_id == row)).scalar()
        return int(row), int(amount)

    # ---------------------------------------------------------------- the budget
    def fund(self, actor: Actor, policy_id: str, amount_fen: int, *, idempotency_key: str | None,
             reason: str | None = None) -> CommandResult:
        """Credit a policy's budget account from its funding account (the 预算 appropriation)."""
        require_staff(actor)
        if type(amount_fen) is not int or amount_fen <= 0:
            raise InvalidInput("拨入预算的金额须为正整数（分）。")

        def run(conn: Connection) -> dict:
            journal = ledger.post_one(conn, ledger.Journal(
                key=f"fund:{policy_id}:{actor.name}:{idempotency_key}", kind="fund", policy_id=policy_id,
                actor=actor.name, reason=reason,
                legs=(ledger.Leg(ledger.funding_code(policy_id), -amount_fen),
                      ledger.Leg(ledger.budget_code(policy_id), amount_fen))))
            audit.record(conn, actor=actor.name, action="budget.fund", object_type="policy_budget",
                         object_id=policy_id, after={"journal": journal, "amount_fen": amount_fen}, reason=reason)
            return {"policy_id": policy_id, "journal_id": journal, "amount_fen": amount_fen,
                    **_totals_json(ledger.policy_totals(conn, [policy_id]).get(policy_id))}

        return command(self.engine, scope=f"{actor.name}:fund:{policy_id}", key=idempotency_key,
                       payload={"amount_fen": amount_fen, "reason": reason}, fn=run, success=201)

    def fund_from_catalogue(self, actor: Actor, policy_id: str) -> CommandResult:
        """Fund a policy with the budget its published file declares (万元), once (the key is the version)."""
        policy, version, _d = self.policy(policy_id)
        if policy.budget is None:
            raise InvalidInput(f"政策 {policy_id} 未公布资金预算。", policy_id=policy_id)
        return self.fund(actor, policy_id, fen(policy.budget), idempotency_key=f"catalogue-v{version}",
                         reason=f"按政策文件公布的预算 {policy.budget} 万元")

    def totals(self, policy_id: str | None = None) -> dict[str, ledger.PolicyTotals]:
        with self.engine.connect() as conn:
            return ledger.policy_totals(conn, [policy_id] if policy_id else None)

    # ---------------------------------------------------------------- bank accounts
    def register_account(self, actor: Actor, uscc: str, account_name: str, account_no: str, bank: str) -> dict:
        """An enterprise's 对公账户, verified at once: the account name must equal the name registered for
        the USCC. Payments go only to verified accounts."""
        require_enterprise(actor, uscc) if actor.role == "enterprise" else require_staff(actor)
        registered = (self._facts(uscc).get("name") or "").strip()
        account_name, account_no, bank = account_name.strip(), account_no.replace(" ", ""), bank.strip()
        if not account_no.isdigit() or not 8 <= len(account_no) <= 32:
            raise InvalidInput("银行账号须为 8–32 位数字。")
        if account_name != registered:
            raise AccountNotVerified(f"户名“{account_name}”与登记的企业名称“{registered}”不一致。", uscc=uscc)

        def run(conn: Connection) -> int:
            existing = conn.execute(select(bank_accounts.c.id).where(
                bank_accounts.c.uscc == uscc, bank_accounts.c.account_no == account_no)).scalar()
            if existing is not None:
                return int(existing)
            now = _now()
            account_id = conn.execute(insert(bank_accounts).values(
                uscc=uscc, account_name=account_name, account_no=account_no, bank=bank, verified_at=now,
                verified_by=actor.name, created_at=now)).inserted_primary_key[0]
            audit.record(conn, actor=actor.name, action="bank_account.verify", object_type="bank_account",
                         object_id=account_id, after={"uscc": uscc, "account_no": account_no[-4:]})
            return int(account_id)

        account_id = retrying(self.engine, run)
        return {"id": account_id, "uscc": uscc, "account_name": account_name, "bank": bank,
                "account_no_tail": account_no[-4:], "verified": True}

    def accounts_of(self, actor: Actor, uscc: str) -> list[dict]:
        require_reader(actor, uscc)
        with self.engine.connect() as conn:
            rows = conn.execute(select(bank_accounts).where(bank_accounts.c.uscc == uscc)
                                .order_by(bank_accounts.c.id)).mappings().all()
        return [{"id": r["id"], "account_name": r["account_name"], "bank": r["bank"],
                 "account_no_tail": r["account_no"][-4:], "verified": r["verified_at"] is not None} for r in rows]

    def _verified_account(self, conn: Connection, uscc: str, account_id: int):
        row = conn.execute(select(bank_accounts).where(bank_accounts.c.id == account_id)).mappings().first()
        if row is None or row["uscc"] != uscc or row["verified_at"] is None:
            raise AccountNotVerified(uscc=uscc, account_id=account_id)
        return row

    # ---------------------------------------------------------------- reading
    def get(self, actor: Actor, application_id: int) -> dict:
        with self.engine.connect() as conn:
            view = self._view(conn, application_id)
        require_reader(actor, view["uscc"])
        return view

    def _view(self, conn: Connection, application_id: int) -> dict:
        app = conn.execute(select(applications).where(applications.c.id == application_id)).mappings().first()
        if app is None:
            raise ApplicationNotFound(application_id=application_id)
        out = {k: v for k, v in app.items() if k not in ("outcome", "declared", "materials_required", "materials",
                                                          "departments")}
        for k in ("outcome", "declared", "materials_required", "materials", "departments"):
            out[k] = json.loads(app[k])
        out["actions"] = states.allowed_actions(app["state"])
        out["opinions"] = [dict(r) for r in conn.execute(select(opinions).where(
            opinions.c.application_id == application_id).order_by(opinions.c.id)).mappings()]
        rating = conn.execute(select(ratings).where(ratings.c.application_id == application_id)).mappings().first()
        out["rating"] = dict(rating) if rating else None
        out["history"] = [dict(r) for r in conn.execute(select(transitions).where(
            transitions.c.application_id == application_id).order_by(transitions.c.id)).mappings()]
        if app["deadline"] is not None:
            out["working_days_left"] = workdays.working_days_left(self.today(), app["deadline"])
        return _jsonable(out)

    def list(self, actor: Actor, *, uscc: str | None = None, states_: Iterable[str] | None = None,
             department: str | None = None, policy_id: str | None = None, limit: int = 200) -> list[dict]:
        """Applications, newest first: an enterprise's own, or a review queue (by state and department)."""
        if actor.role == "enterprise":
            uscc = actor.uscc
        query = select(applications.c.id, applications.c.policy_id, applications.c.uscc,
                       applications.c.enterprise_name, applications.c.mode, applications.c.state,
                       applications.c.amount_fen, applications.c.deadline, applications.c.deadline_kind,
                       applications.c.departments, applications.c.updated_at, applications.c.created_by)
        if uscc:
            query = query.where(applications.c.uscc == uscc)
        if states_:
            query = query.where(applications.c.state.in_(list(states_)))
        if policy_id:
            query = query.where(applications.c.policy_id == policy_id)
        if department:
            query = query.where(applications.c.departments.contains(_json(department)))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(applications.c.id.desc()).limit(limit)).mappings().all()
        today = self.today()
        out = []
        for r in rows:
            item = dict(r)
            item["departments"] = json.loads(r["departments"])
            item["working_days_left"] = workdays.working_days_left(today, r["deadline"]) if r["deadline"] else None
            out.append(_jsonable(item))
        return out

    def payout_stats(self) -> dict[str, list[dict[str, Any]]]:
        """督政策: per policy and per reviewing department — applications, paid, amount paid, 兑现率 (paid of
        approved) and 兑现时效 (median working days from submission to payment)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(applications.c.policy_id, applications.c.departments, applications.c.state,
                                       applications.c.amount_fen, applications.c.submitted_at,
                                       applications.c.paid_at)).mappings().all()
        groups: dict[tuple[str, str], list] = {}
        for r in rows:
            groups.setdefault(("policy", r["policy_id"]), []).append(r)
            for department in json.loads(r["departments"]):
                groups.setdefault(("department", department), []).append(r)
        out: dict[str, list[dict[str, Any]]] = {"policy": [], "department": []}
        approved_states = states.RESERVED | {states.PAID, states.CLAWED_BACK}
        for (kind, key), members in sorted(groups.items()):
            approved = [m for m in members if m["state"] in approved_states]
            paid = [m for m in members if m["paid_at"] is not None]
            days = sorted(workdays.working_days_left(m["submitted_at"].date(), m["paid_at"].date())
                          for m in paid if m["submitted_at"] is not None)
            out[kind].append({
                kind: key, "applications": len(members), "approved": len(approved), "paid": len(paid),
                "paid_fen": sum(m["amount_fen"] or 0 for m in paid),
                "payout_rate": round(len(paid) / len(approved), 4) if approved else None,
                "median_working_days": days[len(days) // 2] if days else None})
        return out

    def verify(self) -> dict[str, Any]:
        """The audit chain (``audit.verify``), the ledger's history checker and every application against
        its latest audit row: what ``qinqing workflow verify`` prints."""
        chain = audit.verify(self.engine)
        with self.engine.connect() as conn:
            ledger_problems = ledger.verify_ledger(conn)
        rows, checked = verify_rows(self.engine)
        return {"audit_ok": chain.ok, "audit_problems": [str(p) for p in chain.problems],
                "ledger_problems": ledger_problems, "row_problems": rows, "rows_checked": checked,
                "ok": chain.ok and not ledger_problems and not rows}

    def audit_report(self, out, unpaid_after_days: int = 30) -> dict[str, int]:
        """The auditor's Excel workbook (workflow/reports.py)."""
        from qinqing.workflow.reports import write_audit_report

        return write_audit_report(self.engine, out, unpaid_after_days)

    # ---------------------------------------------------------------- 评政策
    def rate(self, actor: Actor, application_id: int, level: int, comment: str | None = None) -> dict:
        """The enterprise rates the policy and its handling after payment, on five levels (1 非常满意 … 5
        非常不满意); a 差评 (不满意, 非常不满意) opens a 回访 due in 15 working days (四川 好差评)."""
        if level not in RATING_LEVELS:
            raise InvalidInput("评价须为 1（非常满意）至 5（非常不满意）。", level=level)

        def run(conn: Connection) -> None:
            app = self._lock(conn, application_id)
            require_enterprise(actor, app["uscc"])
            if app["state"] not in (states.PAID, states.CLAWED_BACK):
                raise states.IllegalTransition("拨付完成后才能评价。", state=app["state"])
            due = workdays.deadline(self.today(), defaults.FOLLOW_UP_DAYS) if level >= 4 else None
            try:
                with conn.begin_nested():
                    conn.execute(insert(ratings).values(
                        application_id=application_id, level=level, comment=comment,
                        follow_up_due=due.day if due else None, created_by=actor.name, created_at=_now()))
            except IntegrityError:
                raise states.IllegalTransition("该申报已评价。", state=app["state"]) from None
            audit.record(conn, actor=actor.name, action="application.rate", object_type="application_rating",
                         object_id=application_id, after={"level": level}, reason=comment)

        self._retry(run)
        return self.get(actor, application_id)

    # ---------------------------------------------------------------- time limits
    def deadline_passed(self, application_id: int, kind: str, due: str) -> str:
        """The clock of a time limit rang: 逾期未补正 rejects; a review or payment still waiting escalates
        (a DeadlineMissed event and an audit row). A clock whose deadline has since moved does nothing."""
        def run(conn: Connection) -> str:
            app = self._lock(conn, application_id)
            if app["deadline"] is None or app["deadline"].isoformat() != due or app["deadline_kind"] != kind:
                return "stale"
            if kind == "correction" and app["state"] == states.RETURNED:
                to = states.next_state(app["state"], "expire", application_id)
                self._set_state(conn, app, to, SYSTEM, "逾期未补正", decided=True)
                self._record(conn, SYSTEM, "application.expire", app, to, "逾期未补正")
                return "expired"
            if app["state"] in WAITING.get(kind, ()):
                emit(conn, ev.DeadlineMissed(application_id=application_id, policy_id=app["policy_id"],
                                             uscc=app["uscc"], actor=SYSTEM.name, kind=kind, deadline=due),
                     actor=SYSTEM.name)
                record_row(conn, SYSTEM.name, "application.overdue", application_id, f"{kind} 超过时限（{due}），已督办")
                return "escalated"
            return "done"

        return self._retry(run)

    def remind(self, application_id: int, kind: str, due: str) -> bool:
        with self.engine.begin() as conn:
            app = conn.execute(select(applications).where(applications.c.id == application_id)).mappings().first()
            if app is None or app["deadline"] is None or app["deadline"].isoformat() != due:
                return False
            emit(conn, ev.DeadlineNear(application_id=application_id, policy_id=app["policy_id"], uscc=app["uscc"],
                                       actor=SYSTEM.name, kind=kind, deadline=due), actor=SYSTEM.name)
            return True

    # ---------------------------------------------------------------- internals
    def _plan(self, policy: Policy, department: str) -> ReviewPlan:
        return review_plan(policy, department)

    def _retry(self, fn):
        return retrying(self.engine, fn)

    def _lock(self, conn: Connection, application_id: int):
        app = conn.execute(select(applications).where(applications.c.id == application_id)
                           .with_for_update()).mappings().first()
        if app is None:
            raise ApplicationNotFound(application_id=application_id)
        return dict(app)

    def _require_department(self, actor: Actor, app, department: str | None = None) -> None:
        require_staff(actor)
        if actor.role == "officer":
            departments = json.loads(app["departments"])
            if (department or actor.department) not in departments or department not in (None, actor.department):
                raise Forbidden(f"该申报由{'、'.join(departments)}审核。", departments=departments)

    def _set_state(self, conn: Connection, app, to: str, actor: Actor, reason: str | None, *,
                   deadline: workdays.Deadline | None = None, deadline_kind: str | None = None,
                   decided: bool = False, values: dict | None = None) -> None:
        now = _now()
        changes = dict(state=to, updated_at=now, reason=reason if reason is not None else app.get("reason"),
                       deadline=deadline.day if deadline else None, deadline_kind=deadline_kind,
                       calendar=deadline.calendar if deadline else None, **(values or {}))
        if decided:
            changes["decided_at"] = now
        if to == states.PAID:
            changes["paid_at"] = now
        conn.execute(update(applications).where(applications.c.id == app["id"]).values(**changes))
        self._transition(conn, app["id"], app["state"], to, actor, reason)
        clock = f"application:{app['id']}"
        jobs.cancel(conn, DEADLINE_TASK, clock)
        jobs.cancel(conn, REMINDER_TASK, clock)
        if deadline is not None:
            payload = {"application_id": app["id"], "kind": deadline_kind, "due": deadline.day.isoformat()}
            jobs.enqueue(conn, DEADLINE_TASK, payload, key=clock, run_after=workdays.end_of(deadline.day), subject=clock)
            remind = workdays.working_days_before(deadline.day, defaults.REMIND_BEFORE_DAYS)
            if remind > self.today():
                jobs.enqueue(conn, REMINDER_TASK, payload, key=clock, run_after=workdays.end_of(remind), subject=clock)

    def _transition(self, conn: Connection, app_id: int, before: str | None, to: str, actor: Actor,
                    reason: str | None) -> None:
        conn.execute(insert(transitions).values(application_id=app_id, from_state=before, to_state=to,
                                                actor=actor.name, reason=reason, created_at=_now()))

    def _record(self, conn: Connection, actor: Actor, action: str, app, to: str, reason: str | None = None,
                event: Event | None = None) -> None:
        if event is not None:
            emit(conn, event, actor=actor.name)
        record_row(conn, actor.name, action, app["id"], reason, before=snapshot(app))


def snapshot(row) -> dict[str, Any]:
    """What the audit trail holds of an application (as a hash): every column that decides who is paid
    what; ``verify_rows`` recomputes it from the table to find a row edited outside the workflow."""
    return {c: (row[c].isoformat() if isinstance(row[c], date) else row[c]) for c in SNAPSHOT_COLUMNS}


SNAPSHOT_COLUMNS = ("id", "policy_id", "policy_version", "uscc", "state", "period", "amount_fen", "outcome",
                    "declared", "materials_required", "materials", "bank_account_id", "departments", "steps",
                    "round", "deadline", "reason", "grant_batch_id")


def record_row(conn: Connection, actor: str, action: str, application_id: int, reason: str | None = None,
               before: dict | None = None) -> None:
    """The audit row of an application's change, with the row as it now is."""
    row = conn.execute(select(applications).where(applications.c.id == application_id)).mappings().one()
    audit.record(conn, actor=actor, action=action, object_type="application", object_id=application_id,
                 before=before, after=snapshot(row), reason=reason)


def verify_rows(engine: Engine) -> tuple[list[str], int]:
    """Each application against the latest audit row recorded for it: a row changed without going through
    the workflow (an UPDATE by hand) no longer matches. Returns the problems and how many rows were
    checked (免申即享 rows still in 公示 are covered by their batch's audit row instead)."""
    problems, checked = [], 0
    with engine.connect() as conn:
        rows = conn.execute(select(applications).order_by(applications.c.id)).mappings().all()
    for row in rows:
        entries_ = audit.trail(engine, "application", row["id"], limit=1)
        if not entries_:
            if row["grant_batch_id"] is None:
                problems.append(f"申报 {row['id']}：审计记录中没有该申报")
            continue
        checked += 1
        if entries_[-1].after_hash != audit.state_hash(snapshot(row)):
            problems.append(f"申报 {row['id']}：当前数据与审计记录（第 {entries_[-1].seq} 条）不一致，疑被篡改")
    return problems, checked


def _reserve_journal(app, actor: Actor) -> ledger.Journal:
    return ledger.Journal(
        key=f"reserve:{app['id']}", kind="reserve", policy_id=app["policy_id"], actor=actor.name,
        application_id=app["id"],
        legs=(ledger.Leg(ledger.budget_code(app["policy_id"]), -app["amount_fen"]),
              ledger.Leg(ledger.payable_code(app["policy_id"], app["uscc"]), app["amount_fen"])))


def _stored(facts: dict[str, Any]) -> dict[str, Any]:
    from qinqing.registry.schema import STORED_NAMES

    return {k: v for k, v in facts.items() if k in STORED_NAMES and v is not None}


def _totals_json(totals: ledger.PolicyTotals | None) -> dict[str, int]:
    if totals is None:
        return {"funded_fen": 0, "available_fen": 0, "reserved_fen": 0, "paid_fen": 0, "returned_fen": 0}
    return {"funded_fen": totals.funded, "available_fen": totals.available, "reserved_fen": totals.reserved,
            "paid_fen": totals.paid, "returned_fen": totals.returned}


def _service_for(job: jobs.JobContext) -> WorkflowService:
    return WorkflowService(job.engine, today=job.settings.today)


jobs.register_task(DEADLINE_TASK, lambda job, p: {"result": _service_for(job).deadline_passed(
    p["application_id"], p["kind"], p["due"])})
jobs.register_task(REMINDER_TASK, lambda job, p: {"sent": _service_for(job).remind(p["application_id"], p["kind"], p["due"])})
jobs.register_task(GRANT_EXPIRY_TASK, lambda job, p: {"expired": _service_for(job).expire_grant_batch(
    SYSTEM, p["grant_batch_id"])})


def _daily(job: jobs.JobContext) -> dict:
    """The daily reconciliation (ledger = bank = budget) and the pruning of expired idempotency keys."""
    from qinqing.workflow.idempotency import prune

    report = _service_for(job).reconcile()
    return {"ok": report["ok"], "differences": report["differences"][:50], "keys_pruned": prune(job.engine)}


jobs.register_schedule("workflow.daily_reconciliation", "daily 01:00", _daily)

audit.register_labels(
    actions={
        "application.create": "创建申报", "application.submit": "提交申报", "application.withdraw": "撤回申报",
        "application.accept": "受理申报", "application.approve": "批准申报", "application.reject": "驳回申报",
        "application.return": "退回补正", "application.expire": "逾期", "application.void": "作废并解冻资金",
        "application.paid": "拨付成功", "application.payment_failed": "拨付失败", "application.payment_returned": "银行退回",
        "application.clawback": "追回资金", "application.confirm": "确认收款账户", "application.decline": "放弃兑现",
        "application.overdue": "超时督办", "application.rate": "评价政策", "budget.fund": "拨入预算",
        "bank_account.verify": "核验对公账户", "payment_batch.create": "生成拨付批次", "bank_return.import": "导入银行回单",
        "grant_batch.create": "生成免申即享名单",
    },
    object_types={"application": "申报", "application_rating": "评价", "policy_budget": "政策资金",
                  "bank_account": "对公账户", "payment_batch": "拨付批次", "bank_return": "银行回单",
                  "grant_batch": "免申即享批次"},
)
