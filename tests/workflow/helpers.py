"""Builders for the workflow tests: a published policy with a budget, enterprises in the registry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from qinqing.catalogue import CatalogueStore
from qinqing.registry import store as registry_store
from qinqing.registry.standards.uscc import make
from qinqing.workflow import Actor, WorkflowService

TODAY = date(2025, 6, 30)
OFFICER = Actor("officer-li", "officer", department="科技局")
OFFICER_2 = Actor("officer-zhao", "officer", department="科技局")
FINANCE = Actor("finance-wu", "officer", department="财政局")


def uscc(i: int) -> str:
    return make("9", "1", "350100", f"{10_000_000 + i:08d}")


def policy_text(policy_id: str = "test-2025-rd-award", *, mode: str = "申报", amount: str = "10", budget: str | None = "100",
                group: str | None = None, review: str = "", unknown_ok: bool = True) -> str:
    lines = [
        f"id: {policy_id}", "title: 测试研发奖励", "issuer: 测试市科技局", "document: 测试〔2025〕1号", "level: 市",
        'region: "100000"', "support_type: 奖励", f"mode: {mode}", "valid_from: 2025-01-01", "valid_to: 2025-12-31",
        f"budget: {budget if budget is not None else 'null'}",
        "source: {url: https://example.org/p, publisher: 测试, retrieved: 2025-01-01}",
        "conditions:",
        "  - {id: revenue_100, clause: 上年营业收入100万元以上, expr: revenue >= 100}",
        "  - id: has_rd",
        "    clause: 上年有研发投入",
        "    expr: rd_expense > 0",
        "    materials: [研发费用专项审计报告]",
        f"benefit: {{clause: 给予一次性奖励{amount}万元, expr: '{amount}'}}",
        "materials: [研发费用专项审计报告]",
    ]
    if group:
        lines.append(f"exclusion_group: {group}")
    if review:
        lines.append(review)
    return "\n".join(lines) + "\n"


def publish(engine, text: str, department: str = "科技局") -> str:
    store = CatalogueStore(engine)
    entry = store.save(text, department=department, author="t")
    store.publish(entry.policy_id)
    return entry.policy_id


def enterprises(engine, n: int, *, rd: bool = True, start: int = 0) -> list[str]:
    rows = [{"uscc": uscc(i), "name": f"测试企业{i}有限公司", "region_code": "350102", "industry_code": "C3911",
             "revenue": Decimal(500), "rd_expense": Decimal(20) if rd else None} for i in range(start, start + n)]
    registry_store.upsert_enterprises(engine, rows)
    return [r["uscc"] for r in rows]


def service(engine) -> WorkflowService:
    return WorkflowService(engine, today=lambda: TODAY)


def enterprise_actor(code: str) -> Actor:
    return Actor(f"ent-{code[-6:]}", "enterprise", uscc=code)
