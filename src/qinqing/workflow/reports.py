"""Auditor reports (Excel, Chinese headers), after what real audits looked for (芜湖 2023, 黄石 2022):
money per policy, payouts per enterprise across policies, eligible but not paid after N days, paid
without a verified account, conflicts of interest, decisions with no opinion on the platform (reviewed
offline), and paid applications with materials missing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from qinqing.registry.spreadsheet import write_xlsx_row, xlsx_workbook
from qinqing.workflow import ledger, states
from qinqing.workflow.common import now
from qinqing.workflow.tables import applications, bank_accounts, opinions, payments

SHEETS: dict[str, list[str]] = {
    "政策资金": ["政策编号", "预算（元）", "已冻结（元）", "已拨付（元）", "已追回（元）", "可用（元）", "是否平衡"],
    "企业兑现": ["统一社会信用代码", "企业名称", "兑现政策数", "已拨付合计（元）"],
    "符合未兑现": ["申报编号", "政策编号", "统一社会信用代码", "企业名称", "状态", "创建日期", "已等待天数"],
    "无核验账户拨付": ["转账编号", "申报编号", "统一社会信用代码", "收款户名", "问题"],
    "利益冲突": ["申报编号", "审核人", "申报人", "问题"],
    "线下审核": ["申报编号", "政策编号", "状态", "问题"],
    "材料缺失": ["申报编号", "政策编号", "统一社会信用代码", "缺少的材料"],
}
DECIDED = (states.APPROVED, states.REJECTED, states.AWAITING_PAYMENT, states.PAID, states.PAYMENT_FAILED,
           states.REPAYING, states.CLAWED_BACK)


def _yuan(fen: int) -> float:
    return round(fen / 100, 2)


def audit_rows(engine: Engine, unpaid_after_days: int = 30) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {name: [] for name in SHEETS}
    with engine.connect() as conn:
        for t in ledger.policy_totals(conn).values():
            out["政策资金"].append([t.policy_id, _yuan(t.funded), _yuan(t.reserved), _yuan(t.paid), _yuan(t.returned),
                                 _yuan(t.available), "是" if t.balanced else "否"])
        for uscc, name, count, total in conn.execute(
                select(applications.c.uscc, func.max(applications.c.enterprise_name),
                       func.count(func.distinct(applications.c.policy_id)), func.sum(payments.c.paid_fen))
                .join(payments, payments.c.application_id == applications.c.id).where(payments.c.state == states.PAID)
                .group_by(applications.c.uscc).order_by(applications.c.uscc)):
            out["企业兑现"].append([uscc, name, int(count), _yuan(int(total or 0))])
        cutoff = now() - timedelta(days=unpaid_after_days)
        for r in conn.execute(select(applications).where(
                applications.c.state.in_(sorted(states.RESERVED | states.IN_REVIEW)),
                applications.c.created_at < cutoff).order_by(applications.c.id)).mappings():
            created = r["created_at"]
            waited = (now().date() - created.date()).days
            out["符合未兑现"].append([r["id"], r["policy_id"], r["uscc"], r["enterprise_name"], r["state"],
                                 created.date().isoformat(), waited])
        for r in conn.execute(select(payments.c.transfer_key, payments.c.application_id, applications.c.uscc,
                                     payments.c.account_name, bank_accounts.c.uscc.label("owner"),
                                     bank_accounts.c.verified_at, applications.c.enterprise_name)
                              .join(applications, applications.c.id == payments.c.application_id)
                              .join(bank_accounts, bank_accounts.c.id == payments.c.bank_account_id)
                              .where(payments.c.state == states.PAID)).mappings():
            problem = ("账户未核验" if r["verified_at"] is None else "账户不属于该企业" if r["owner"] != r["uscc"]
                       else "户名与企业名称不一致" if r["account_name"] != r["enterprise_name"] else None)
            if problem:
                out["无核验账户拨付"].append([r["transfer_key"], r["application_id"], r["uscc"], r["account_name"], problem])
        for app_id, reviewer, applicant in conn.execute(
                select(opinions.c.application_id, opinions.c.reviewer, applications.c.created_by)
                .join(applications, applications.c.id == opinions.c.application_id)
                .where(opinions.c.reviewer == applications.c.created_by)):
            out["利益冲突"].append([app_id, reviewer, applicant, "审核人即申报人"])
        has_opinion = select(opinions.c.id).where(opinions.c.application_id == applications.c.id).exists()
        for r in conn.execute(select(applications.c.id, applications.c.policy_id, applications.c.state)
                              .where(applications.c.state.in_(DECIDED), ~has_opinion,
                                     applications.c.reason.is_distinct_from("逾期未补正"))
                              .order_by(applications.c.id)).mappings():
            out["线下审核"].append([r["id"], r["policy_id"], r["state"], "平台上无审核意见（线下审核）"])
        for r in conn.execute(select(applications.c.id, applications.c.policy_id, applications.c.uscc,
                                     applications.c.materials_required, applications.c.materials)
                              .where(applications.c.state == states.PAID)).mappings():
            given = set(json.loads(r["materials"]))
            lacking = [m["name"] for m in json.loads(r["materials_required"]) if m["name"] not in given]
            if lacking:
                out["材料缺失"].append([r["id"], r["policy_id"], r["uscc"], "、".join(lacking)])
    return out


def write_audit_report(engine: Engine, out: str | Path, unpaid_after_days: int = 30) -> dict[str, int]:
    """The auditor's workbook at ``out`` (.xlsx), one sheet per check; returns the rows per sheet."""
    rows = audit_rows(engine, unpaid_after_days)
    book = xlsx_workbook(Path(out))
    for name, header in SHEETS.items():
        sheet = book.add_worksheet(name)
        write_xlsx_row(sheet, 0, header)
        for i, row in enumerate(rows[name], start=1):
            write_xlsx_row(sheet, i, row)
    book.close()
    return {name: len(r) for name, r in rows.items()}
