"""免申即享: a batch of payouts from the latest matching run, with no application.

Candidates are the run's eligible pairs of the policy with **no unknown condition** (an unknown is never
paid: ``matching.lists.auto_grant_candidates``). The batch creates one application per candidate in 公示中
and reserves its amount at once, while the budget lasts (the rest are counted, not created). The
(policy, enterprise, period) award row is unique, so running the batch again creates nothing twice.
After the objection window (名单公示) the enterprise confirms its verified 对公账户 or declines; a decline,
or no answer by the confirmation deadline, voids the reservation. A confirmed one is reviewed and paid
like an approved application.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from qinqing import audit, jobs
from qinqing.events import emit
from qinqing.workflow import bulk, ledger, states, workdays
from qinqing.workflow import events as ev
from qinqing.workflow.actors import Actor, require_enterprise, require_staff
from qinqing.workflow.common import dumps, now
from qinqing.workflow.errors import IllegalTransition, InvalidInput
from qinqing.workflow.idempotency import CommandResult, command
from qinqing.workflow.money import fen
from qinqing.workflow.tables import applications, awards, exclusion_claims, grant_batches, transitions

GRANT_EXPIRY_TASK = "workflow.grant_expiry"


class GrantsMixin:
    def grant_candidates(self, policy_id: str) -> list[dict[str, Any]]:
        """The latest run's eligible pairs of a 免申即享 policy with nothing missing."""
        if self.results is None:
            raise InvalidInput("未配置匹配结果库：请先运行全量匹配（qinqing run full）。")
        from qinqing.matching import lists

        policy, _v, _d = self.policy(policy_id)
        table = lists.auto_grant_candidates(self.results, [policy])
        return [{"uscc": r["uscc"], "amount": r["amount"], "run_id": r["run_id"]} for r in table.to_pylist()]

    def create_grant_batch(self, actor: Actor, policy_id: str, *, idempotency_key: str | None,
                           candidates: list[dict[str, Any]] | None = None) -> CommandResult:
        """名单公示: applications in 公示中 with their reservations, for the candidates not yet awarded."""
        require_staff(actor)
        policy, version, department = self.policy(policy_id)
        if policy.mode != "免申即享":
            raise InvalidInput(f"政策 {policy_id} 不是免申即享政策。", policy_id=policy_id)
        rows = candidates if candidates is not None else self.grant_candidates(policy_id)
        plan = self._plan(policy, department)
        today = self.today()
        objection = workdays.deadline(today, plan.objection_days)
        confirm = workdays.deadline(objection.day, plan.confirm_days)
        period = str(today.year)

        def run(conn: Connection) -> dict:
            budget = ledger.budget_code(policy_id)
            ledger.lock_accounts(conn, ledger.ensure_accounts(conn, [budget]).values())  # one batch at a time
            taken = set(conn.execute(select(awards.c.uscc).where(awards.c.policy_id == policy_id,
                                                                 awards.c.period == period)).scalars())
            if policy.exclusion_group:
                taken |= set(conn.execute(select(exclusion_claims.c.uscc).where(
                    exclusion_claims.c.exclusion_group == policy.exclusion_group,
                    exclusion_claims.c.period == period)).scalars())
            fresh = [r for r in sorted(rows, key=lambda r: r["uscc"])
                     if r["uscc"] not in taken and r["amount"] is not None and Decimal(str(r["amount"])) > 0]
            available = ledger.balance(conn, budget)
            chosen, skipped = [], 0
            for r in fresh:
                amount = fen(Decimal(str(r["amount"])))
                if amount <= available:
                    chosen.append((r, amount))
                    available -= amount
                else:
                    skipped += 1
            names = _names(conn, [r["uscc"] for r, _a in chosen])
            moment = now()
            run_id = str(rows[0]["run_id"]) if rows else "-"
            batch_id = conn.execute(insert(grant_batches).values(
                policy_id=policy_id, period=period, run_id=run_id, objection_until=objection.day,
                confirm_until=confirm.day, calendar=confirm.calendar, candidates=len(rows), created=len(chosen),
                skipped_budget=skipped, created_by=actor.name, created_at=moment)).inserted_primary_key[0]
            if chosen:
                departments = dumps(list(plan.departments))
                app_rows = [{
                    "policy_id": policy_id, "policy_version": version, "uscc": r["uscc"],
                    "enterprise_name": names.get(r["uscc"], r["uscc"]), "mode": policy.mode, "state": states.PUBLICITY,
                    "period": period, "amount_fen": amount, "as_of": today,
                    "outcome": dumps({"status": "eligible", "amount": str(r["amount"]), "missing": [], "failed": [],
                                      "run_id": r["run_id"], "trace": None}),
                    "declared": "{}", "materials_required": "[]", "materials": "[]", "bank_account_id": None,
                    "departments": departments, "steps": 1, "round": 1, "deadline": confirm.day,
                    "deadline_kind": "confirm", "calendar": confirm.calendar, "reason": None, "grant_batch_id": batch_id,
                    "created_by": f"system:grant-batch-{batch_id}", "created_at": moment, "updated_at": moment,
                    "submitted_at": moment,
                } for r, amount in chosen]
                ids = bulk.insert_with_ids(conn, applications, app_rows)
                bulk.insert_rows(conn, awards, [{"policy_id": policy_id, "uscc": a["uscc"], "period": period,
                                               "application_id": i} for a, i in zip(app_rows, ids)])
                if policy.exclusion_group:
                    bulk.insert_rows(conn, exclusion_claims, [{
                        "exclusion_group": policy.exclusion_group, "uscc": a["uscc"], "period": period,
                        "application_id": i} for a, i in zip(app_rows, ids)])
                ledger.post(conn, [ledger.Journal(
                    key=f"reserve:{i}", kind="reserve", policy_id=policy_id, actor=actor.name, application_id=i,
                    legs=(ledger.Leg(budget, -a["amount_fen"]), ledger.Leg(ledger.payable_code(policy_id, a["uscc"]),
                                                                           a["amount_fen"])))
                    for a, i in zip(app_rows, ids)])
                bulk.insert_rows(conn, transitions, [{"application_id": i, "from_state": None,
                                                    "to_state": states.PUBLICITY, "actor": actor.name,
                                                    "reason": f"免申即享批次 {batch_id}", "created_at": moment}
                                                   for i in ids])
            clock = f"grant_batch:{batch_id}"
            due = workdays.end_of(confirm.day)
            jobs.enqueue(conn, GRANT_EXPIRY_TASK, {"grant_batch_id": batch_id}, key=clock, run_after=due, subject=clock)
            emit(conn, ev.GrantBatchCreated(batch_id=batch_id, policy_id=policy_id, created=len(chosen),
                                            actor=actor.name), actor=actor.name)
            audit.record(conn, actor=actor.name, action="grant_batch.create", object_type="grant_batch",
                         object_id=batch_id, after={"policy_id": policy_id, "created": len(chosen),
                                                    "usccs": [r["uscc"] for r, _a in chosen]})
            return {"id": batch_id, "policy_id": policy_id, "period": period, "candidates": len(rows),
                    "created": len(chosen), "already_awarded": len(rows) - len(fresh), "skipped_budget": skipped,
                    "objection_until": objection.day.isoformat(), "confirm_until": confirm.day.isoformat(),
                    "calendar": confirm.calendar}

        return command(self.engine, scope=f"{actor.name}:grant_batch:{policy_id}", key=idempotency_key,
                       payload={"policy_id": policy_id, "candidates": len(rows)}, fn=run, success=201)

    def confirm_grant(self, actor: Actor, application_id: int, bank_account_id: int) -> dict:
        """The enterprise confirms its verified 对公账户; the trace of the confirmation day is frozen in."""
        from qinqing.rules import evaluate
        from qinqing.workflow.service import _stored, outcome_json

        def run(conn: Connection) -> None:
            app = self._lock(conn, application_id)
            require_enterprise(actor, app["uscc"])
            to = states.next_state(app["state"], "confirm", application_id)
            self._verified_account(conn, app["uscc"], bank_account_id)
            policy, _v, _d = self.policy(app["policy_id"])
            import json

            frozen = json.loads(app["outcome"])
            traced = outcome_json(evaluate(policy, _stored(self._facts(app["uscc"])), self.today()))
            frozen["trace"] = traced["trace"]
            self._set_state(conn, app, to, actor, None,
                            values={"bank_account_id": bank_account_id, "outcome": dumps(frozen)})
            self._record(conn, actor, "application.confirm", app, to)

        self._retry(run)
        return self.get(actor, application_id)

    def decline_grant(self, actor: Actor, application_id: int, reason: str | None = None) -> dict:
        """The enterprise declines: the reservation goes back to the budget."""
        def run(conn: Connection) -> None:
            app = self._lock(conn, application_id)
            require_enterprise(actor, app["uscc"])
            to = states.next_state(app["state"], "decline", application_id)
            self._release(conn, app, actor, reason or "企业放弃")
            self._set_state(conn, app, to, actor, reason)
            self._record(conn, actor, "application.decline", app, to, reason)

        self._retry(run)
        return self.get(actor, application_id)

    def expire_grant_batch(self, actor: Actor, batch_id: int) -> int:
        """Void every application of the batch still in 公示中 (no confirmation by the deadline)."""
        with self.engine.connect() as conn:
            waiting = conn.execute(select(applications.c.id).where(
                applications.c.grant_batch_id == batch_id, applications.c.state == states.PUBLICITY)
                .order_by(applications.c.id)).scalars().all()
        for app_id in waiting:
            def run(conn: Connection, app_id=app_id) -> None:
                app = self._lock(conn, app_id)
                if app["state"] != states.PUBLICITY:
                    return
                to = states.next_state(app["state"], "expire", app_id)
                self._release(conn, app, actor, "逾期未确认账户")
                self._set_state(conn, app, to, actor, "逾期未确认账户")
                self._record(conn, actor, "application.expire", app, to, "逾期未确认账户")

            self._retry(run)
        return len(waiting)

    def _objection_open(self, conn: Connection, app) -> None:
        if app["grant_batch_id"] is None:
            return
        until = conn.execute(select(grant_batches.c.objection_until).where(
            grant_batches.c.id == app["grant_batch_id"])).scalar()
        if until is not None and self.today() <= until:
            raise IllegalTransition(f"名单公示期至 {until} 结束，公示期内不能审核。", state=app["state"],
                                    objection_until=until.isoformat())


def _names(conn: Connection, usccs: list[str]) -> dict[str, str]:
    """The registered names, in one query (the registry's own table; only two columns are read)."""
    from qinqing.registry.tables import enterprises

    names: dict[str, str] = {}
    for chunk in bulk.chunks(conn, usccs):
        names.update(conn.execute(select(enterprises.c.uscc, enterprises.c.name)
                                  .where(bulk.among(conn, enterprises.c.uscc, chunk))).all())
    return {k: v or k for k, v in names.items()}
