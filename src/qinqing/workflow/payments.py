"""拨付: payment batches, the bank file, the bank's return file, 追回, and the daily reconciliation.

A batch takes approved applications (and failed payments, 重新拨付) that have a verified 对公账户; each
becomes one payment line keyed by its ``transfer_key``; an application has at most one open payment (a
unique index). The bank file lists the lines with a SHA-256 checksum. Importing the bank's return
(``paid`` / ``failed`` / ``returned``) is idempotent line by line: a line already in that state is
skipped; ``paid`` posts the reservation (payable → paid; a smaller amount paid releases the rest to the
budget in the same journal), ``failed`` puts the application back in the queue, ``returned`` reverses a
paid transfer (paid → payable: a new reservation for the next batch).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from qinqing import audit
from qinqing.events import emit
from qinqing.workflow import events as ev
from qinqing.workflow import ledger, states
from qinqing.workflow.actors import Actor, require_staff
from qinqing.workflow.common import jsonable as _jsonable
from qinqing.workflow.common import now as _now
from qinqing.workflow.errors import BankFileInvalid, InvalidInput, NotFound
from qinqing.workflow.idempotency import CommandResult, command
from qinqing.workflow.money import yuan
from qinqing.workflow.tables import applications, journals, payment_batches, payments

BANK_HEADERS = ["转账编号", "收款户名", "收款账号", "开户银行", "金额（元）", "申报编号", "政策编号"]
RETURN_RESULTS = {"paid": "paid", "已拨付": "paid", "成功": "paid", "failed": "failed", "拨付失败": "failed",
                  "失败": "failed", "returned": "returned", "退回": "returned", "退汇": "returned"}


@dataclass(frozen=True)
class ReturnLine:
    transfer_key: str
    result: str  # paid | failed | returned
    amount_fen: int | None = None  # the amount the bank paid, when not the whole line
    bank_ref: str | None = None
    message: str | None = None


def checksum(lines: Iterable[list[str]]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(("\x1f".join(line) + "\n").encode("utf-8"))
    return digest.hexdigest()


def _line(p) -> list[str]:
    return [p["transfer_key"], p["account_name"], p["account_no"], p["bank"], yuan(p["amount_fen"]).replace(",", ""),
            str(p["application_id"]), p["policy_id"]]


class PaymentsMixin:
    def create_payment_batch(self, actor: Actor, *, policy_id: str | None = None, limit: int = 10_000,
                             idempotency_key: str | None) -> CommandResult:
        """A batch of every approved (or failed, to pay again) application with a verified account."""
        require_staff(actor)

        def run(conn: Connection) -> dict:
            query = (select(applications.c.id).where(
                applications.c.state.in_((states.APPROVED, states.PAYMENT_FAILED)),
                applications.c.bank_account_id.is_not(None)).order_by(applications.c.id).limit(limit))
            if policy_id:
                query = query.where(applications.c.policy_id == policy_id)
            ids = conn.execute(query).scalars().all()
            picked = []
            for app_id in ids:  # locked one by one in id order; a row changed meanwhile is re-checked
                app = self._lock(conn, app_id)
                if app["state"] in (states.APPROVED, states.PAYMENT_FAILED):
                    picked.append(app)
            if not picked:
                raise InvalidInput("没有可列入拨付批次的申报（需已批准且已核验对公账户）。")
            now = _now()
            batch_id = conn.execute(insert(payment_batches).values(
                policy_id=policy_id, created_by=actor.name, created_at=now, lines=0, total_fen=0,
                checksum="")).inserted_primary_key[0]
            rows = []
            for app in picked:
                reservation = self._reservation(conn, app["id"])
                account = self._verified_account(conn, app["uscc"], app["bank_account_id"])
                if reservation is None:
                    raise InvalidInput(f"申报 {app['id']} 没有资金冻结，不能拨付。", application_id=app["id"])
                rows.append({
                    "batch_id": batch_id, "application_id": app["id"], "reservation_id": reservation[0],
                    "transfer_key": f"WF{batch_id:06d}-{app['id']}", "amount_fen": reservation[1],
                    "bank_account_id": account["id"], "account_name": account["account_name"],
                    "account_no": account["account_no"], "bank": account["bank"], "state": states.AWAITING_PAYMENT,
                    "open_application_id": app["id"], "created_at": now})
            conn.execute(insert(payments), rows)
            for app in picked:
                self._set_state(conn, app, states.next_state(app["state"], "batch", app["id"]), actor, None)
            lines = [_line({**r, "policy_id": a["policy_id"]}) for r, a in zip(rows, picked)]
            total = sum(r["amount_fen"] for r in rows)
            conn.execute(update(payment_batches).where(payment_batches.c.id == batch_id).values(
                lines=len(rows), total_fen=total, checksum=checksum(lines)))
            emit(conn, ev.PaymentBatchCreated(batch_id=batch_id, lines=len(rows), total_fen=total, actor=actor.name),
                 actor=actor.name)
            audit.record(conn, actor=actor.name, action="payment_batch.create", object_type="payment_batch",
                         object_id=batch_id, after={"applications": [a["id"] for a in picked], "total_fen": total})
            return self._batch_view(conn, batch_id)

        return command(self.engine, scope=f"{actor.name}:payment_batch", key=idempotency_key,
                       payload={"policy_id": policy_id, "limit": limit}, fn=run, success=201)

    def batch(self, batch_id: int) -> dict:
        with self.engine.connect() as conn:
            return self._batch_view(conn, batch_id)

    def batches(self, limit: int = 100) -> list[dict]:
        with self.engine.connect() as conn:
            ids = conn.execute(select(payment_batches.c.id).order_by(payment_batches.c.id.desc()).limit(limit)).scalars()
            return [self._batch_view(conn, i, lines=False) for i in ids]

    def _batch_view(self, conn: Connection, batch_id: int, lines: bool = True) -> dict:
        batch = conn.execute(select(payment_batches).where(payment_batches.c.id == batch_id)).mappings().first()
        if batch is None:
            raise NotFound(f"拨付批次 {batch_id} 不存在。", batch_id=batch_id)
        out = dict(batch)
        counts = dict(conn.execute(select(payments.c.state, func.count()).where(payments.c.batch_id == batch_id)
                                   .group_by(payments.c.state)).all())
        out["states"] = counts
        if lines:
            out["payments"] = [dict(r) for r in conn.execute(select(
                payments.c.id, payments.c.transfer_key, payments.c.application_id, payments.c.amount_fen,
                payments.c.paid_fen, payments.c.account_name, payments.c.state, payments.c.failure,
                payments.c.bank_ref).where(payments.c.batch_id == batch_id).order_by(payments.c.id)).mappings()]
        return _jsonable(out)

    def bank_file(self, batch_id: int, out: str | Path | None = None) -> tuple[str, str]:
        """The bank file of a batch (CSV, UTF-8 with BOM; or XLSX when ``out`` ends in .xlsx), and its checksum.

        The last line is ``#SHA256,<checksum>,<lines>,<total 元>``; the checksum is the batch's."""
        with self.engine.connect() as conn:
            batch = conn.execute(select(payment_batches).where(payment_batches.c.id == batch_id)).mappings().first()
            if batch is None:
                raise NotFound(f"拨付批次 {batch_id} 不存在。", batch_id=batch_id)
            rows = conn.execute(select(payments, applications.c.policy_id)
                                .join(applications, applications.c.id == payments.c.application_id)
                                .where(payments.c.batch_id == batch_id).order_by(payments.c.id)).mappings().all()
        lines = [_line(r) for r in rows]
        digest = checksum(lines)
        footer = ["#SHA256", digest, str(len(lines)), yuan(batch["total_fen"]).replace(",", "")]
        if out is not None and str(out).lower().endswith(".xlsx"):
            from qinqing.registry.spreadsheet import write_xlsx_row, xlsx_workbook

            book = xlsx_workbook(Path(out))
            sheet = book.add_worksheet("拨付明细")
            for i, line in enumerate([BANK_HEADERS, *lines, footer]):
                write_xlsx_row(sheet, i, line)
            book.close()
            return str(out), digest
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(BANK_HEADERS)
        writer.writerows(lines)
        writer.writerow(footer)
        text = buffer.getvalue()
        if out is not None:
            Path(out).write_text("\ufeff" + text, encoding="utf-8")
        return text, digest

    def import_bank_return(self, actor: Actor, lines: list[ReturnLine], *, idempotency_key: str | None) -> CommandResult:
        """Apply the bank's return file; lines already applied are skipped (idempotent)."""
        require_staff(actor)

        def run(conn: Connection) -> dict:
            keys = [line.transfer_key for line in lines]
            found = {r["transfer_key"]: dict(r) for r in conn.execute(
                select(payments).where(payments.c.transfer_key.in_(keys))).mappings()}
            unknown = [k for k in keys if k not in found]
            if unknown:
                raise BankFileInvalid(f"回单中有未知的转账编号：{'、'.join(unknown[:5])}", unknown=unknown)
            summary = {"paid": 0, "failed": 0, "returned": 0, "skipped": 0}
            for line in sorted(lines, key=lambda x: found[x.transfer_key]["application_id"]):
                payment = found[line.transfer_key]
                app = self._lock(conn, payment["application_id"])
                payment = dict(conn.execute(select(payments).where(payments.c.id == payment["id"])).mappings().one())
                done = self._apply_return(conn, actor, app, payment, line)
                summary[line.result if done else "skipped"] += 1
            audit.record(conn, actor=actor.name, action="bank_return.import", object_type="bank_return",
                         object_id=idempotency_key or "-", after=summary)
            return summary

        payload = [line.__dict__ for line in lines]
        return command(self.engine, scope=f"{actor.name}:bank_return", key=idempotency_key, payload=payload, fn=run)

    def _apply_return(self, conn: Connection, actor: Actor, app, payment, line: ReturnLine) -> bool:
        policy_id, uscc = app["policy_id"], app["uscc"]
        if line.result == "paid":
            if payment["state"] != states.AWAITING_PAYMENT:
                return False
            amount = payment["amount_fen"]
            paid = amount if line.amount_fen is None else line.amount_fen
            if not 0 < paid <= amount:
                raise BankFileInvalid(f"转账 {line.transfer_key} 的到账金额无效。", transfer_key=line.transfer_key)
            legs = [ledger.Leg(ledger.payable_code(policy_id, uscc), -amount), ledger.Leg(ledger.paid_code(policy_id, uscc), paid)]
            if paid < amount:  # a partial payment releases the remainder
                legs.append(ledger.Leg(ledger.budget_code(policy_id), amount - paid))
            ledger.post_one(conn, ledger.Journal(
                key=f"post:{line.transfer_key}", kind="post", policy_id=policy_id, actor=actor.name,
                application_id=app["id"], payment_id=payment["id"], resolves=payment["reservation_id"], legs=tuple(legs)))
            self._close_payment(conn, payment, states.PAID, line, paid_fen=paid)
            self._set_state(conn, app, states.next_state(app["state"], "paid", app["id"]), actor, None)
            self._record(conn, actor, "application.paid", app, states.PAID, event=ev.PaymentPaid(
                application_id=app["id"], policy_id=policy_id, uscc=uscc, actor=actor.name, payment_id=payment["id"],
                amount_fen=paid))
            return True
        if line.result == "failed":
            if payment["state"] != states.AWAITING_PAYMENT:
                return False
            self._close_payment(conn, payment, "拨付失败", line)
            self._fail(conn, actor, app, payment, line.message)
            return True
        if payment["state"] != states.PAID or app["state"] != states.PAID:  # returned
            return False
        ledger.post_one(conn, ledger.Journal(
            key=f"bank_return:{line.transfer_key}", kind="bank_return", policy_id=policy_id, actor=actor.name,
            application_id=app["id"], payment_id=payment["id"], reason=line.message,
            legs=(ledger.Leg(ledger.paid_code(policy_id, uscc), -payment["paid_fen"]),
                  ledger.Leg(ledger.payable_code(policy_id, uscc), payment["paid_fen"]))))
        conn.execute(update(payments).where(payments.c.id == payment["id"]).values(state="已退回", failure=line.message))
        self._fail(conn, actor, app, payment, line.message, action="returned")
        return True

    def _fail(self, conn: Connection, actor: Actor, app, payment, message: str | None, action: str = "failed") -> None:
        to = states.next_state(app["state"], action, app["id"])
        self._set_state(conn, app, to, actor, message)
        self._record(conn, actor, f"application.payment_{action}", app, to, message, event=ev.PaymentFailed(
            application_id=app["id"], policy_id=app["policy_id"], uscc=app["uscc"], actor=actor.name,
            payment_id=payment["id"], failure=message))

    def _close_payment(self, conn: Connection, payment, state: str, line: ReturnLine, paid_fen: int | None = None) -> None:
        conn.execute(update(payments).where(payments.c.id == payment["id"]).values(
            state=state, paid_fen=paid_fen, open_application_id=None, bank_ref=line.bank_ref, failure=line.message,
            resolved_at=_now()))

    def clawback(self, actor: Actor, application_id: int, reason: str, *, amount_fen: int | None = None,
                 idempotency_key: str | None) -> CommandResult:
        """追回: a reversing journal paid → returned (all that was paid, or ``amount_fen`` of it)."""
        require_staff(actor)
        if not (reason or "").strip():
            raise InvalidInput("追回须说明理由。")

        def run(conn: Connection) -> dict:
            app = self._lock(conn, application_id)
            to = states.next_state(app["state"], "clawback", application_id)
            paid = ledger.balance(conn, ledger.paid_code(app["policy_id"], app["uscc"]))
            amount = paid if amount_fen is None else amount_fen
            if type(amount) is not int or not 0 < amount <= paid:
                raise InvalidInput(f"追回金额须在 0.01 元至已拨付的 {yuan(paid)} 元之间。")
            ledger.post_one(conn, ledger.Journal(
                key=f"clawback:{application_id}", kind="clawback", policy_id=app["policy_id"], actor=actor.name,
                application_id=application_id, reason=reason,
                legs=(ledger.Leg(ledger.paid_code(app["policy_id"], app["uscc"]), -amount),
                      ledger.Leg(ledger.returned_code(app["policy_id"]), amount))))
            self._set_state(conn, app, to, actor, reason)
            self._record(conn, actor, "application.clawback", app, to, reason, event=ev.ClawedBack(
                application_id=application_id, policy_id=app["policy_id"], uscc=app["uscc"], actor=actor.name,
                amount_fen=amount, reason=reason))
            return self._view(conn, application_id)

        return command(self.engine, scope=f"{actor.name}:clawback:{application_id}", key=idempotency_key,
                       payload={"reason": reason, "amount_fen": amount_fen}, fn=run)

    def reconcile(self) -> dict[str, Any]:
        """The daily reconciliation: per policy, ledger = bank = budget, with every difference listed.

        ledger: the net amount posted into the policy's paid accounts; bank: the amounts the bank's returns
        confirm (已拨付 lines); budget: funded = available + reserved + paid + returned. Also every payment
        confirmed without a posting journal and every posting without a confirmed payment."""
        with self.engine.connect() as conn:
            totals = ledger.policy_totals(conn)
            bank = dict(conn.execute(select(applications.c.policy_id, func.sum(payments.c.paid_fen))
                                     .join(applications, applications.c.id == payments.c.application_id)
                                     .where(payments.c.state == states.PAID).group_by(applications.c.policy_id)).all())
            clawed = dict(conn.execute(select(journals.c.policy_id, func.count()).where(journals.c.kind == "clawback")
                                       .group_by(journals.c.policy_id)).all())
            unposted = conn.execute(select(payments.c.transfer_key).where(
                payments.c.state == states.PAID, ~select(journals.c.id).where(
                    journals.c.payment_id == payments.c.id, journals.c.kind == "post").exists())).scalars().all()
            unconfirmed = conn.execute(select(journals.c.key).join(payments, payments.c.id == journals.c.payment_id)
                                       .where(journals.c.kind == "post", payments.c.state.not_in(
                                           (states.PAID, "已退回")))).scalars().all()
            problems = ledger.verify_ledger(conn)
        rows, differences = [], []
        for policy_id in sorted(set(totals) | set(bank)):
            t = totals.get(policy_id) or ledger.PolicyTotals(policy_id, 0, 0, 0, 0, 0)
            ledger_paid = t.paid + t.returned  # what went out, clawbacks included
            bank_paid = int(bank.get(policy_id) or 0)
            row = {"policy_id": policy_id, "funded_fen": t.funded, "available_fen": t.available,
                   "reserved_fen": t.reserved, "paid_fen": t.paid, "returned_fen": t.returned,
                   "ledger_out_fen": ledger_paid, "bank_paid_fen": bank_paid, "balanced": t.balanced,
                   "clawbacks": int(clawed.get(policy_id) or 0)}
            rows.append(row)
            if ledger_paid != bank_paid:
                differences.append(f"{policy_id}: 账务已拨付 {yuan(ledger_paid)} 元，银行确认 {yuan(bank_paid)} 元")
            if not t.balanced:
                differences.append(f"{policy_id}: 预算不平衡（拨入 ≠ 可用 + 冻结 + 已拨付 + 追回）")
        differences += [f"转账 {k}: 银行确认到账，但无记账分录" for k in unposted]
        differences += [f"分录 {k}: 已记账，但银行未确认到账" for k in unconfirmed]
        differences += [f"账务检查：{p}" for p in problems]
        return {"policies": rows, "differences": differences, "ok": not differences}


def parse_return_file(text: str) -> list[ReturnLine]:
    """The bank's return file: CSV with 转账编号, 结果 (paid/failed/returned or 成功/失败/退回), optional
    到账金额（元）, 银行流水号, 说明. Lines starting with # are ignored."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    out = []
    for number, row in enumerate(reader, start=2):
        key = (row.get("转账编号") or row.get("transfer_key") or "").strip()
        if not key or key.startswith("#"):
            continue
        result = RETURN_RESULTS.get((row.get("结果") or row.get("result") or "").strip())
        if result is None:
            raise BankFileInvalid(f"回单第 {number} 行：结果须为 成功/失败/退回。", row=number)
        amount = (row.get("到账金额（元）") or row.get("amount") or "").strip()
        try:
            paid = int((Decimal(amount) * 100).to_integral_exact()) if amount else None
        except (InvalidOperation, ArithmeticError):
            raise BankFileInvalid(f"回单第 {number} 行：到账金额“{amount}”无效。", row=number) from None
        out.append(ReturnLine(key, result, paid, (row.get("银行流水号") or row.get("bank_ref") or None),
                              (row.get("说明") or row.get("message") or None)))
    return out
