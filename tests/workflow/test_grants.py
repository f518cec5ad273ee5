"""免申即享: 公示 → confirm or decline → review → payment; a re-run never pays twice; 100,000 candidates timed."""

from __future__ import annotations

import os
import time
from datetime import date
from decimal import Decimal

import pytest
from helpers import FINANCE, OFFICER, enterprise_actor, enterprises, policy_text, publish

from qinqing.workflow import WorkflowService, ledger
from qinqing.workflow.errors import IllegalTransition
from qinqing.workflow.payments import ReturnLine


class Clock:
    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


def _grant_setup(engine, n=3, budget="25"):
    pid = publish(engine, policy_text("grant-2025-auto", mode="免申即享", amount="10", budget=budget,
                                      review="review: {objection_days: 5, confirm_days: 10}"))
    clock = Clock(date(2025, 6, 30))
    svc = WorkflowService(engine, today=clock)
    svc.fund_from_catalogue(OFFICER, pid)
    codes = enterprises(engine, n)
    candidates = [{"uscc": c, "amount": Decimal(10), "run_id": "run-1"} for c in codes]
    return svc, pid, codes, candidates, clock


def test_a_batch_reserves_while_the_budget_lasts_and_never_twice(engine) -> None:
    svc, pid, _codes, candidates, _clock = _grant_setup(engine)
    batch = svc.create_grant_batch(OFFICER, pid, idempotency_key="g1", candidates=candidates).body
    assert (batch["created"], batch["skipped_budget"]) == (2, 1)
    assert batch["objection_until"] == "2025-07-07" and batch["calendar"].startswith("chinesecalendar")
    rerun = svc.create_grant_batch(OFFICER, pid, idempotency_key="g2", candidates=candidates).body
    assert (rerun["created"], rerun["already_awarded"], rerun["skipped_budget"]) == (0, 2, 1)
    totals = svc.totals(pid)[pid]
    assert (totals.reserved, totals.available) == (20_000_000, 5_000_000)


def test_publicity_confirm_review_pay_and_decline_releases(engine) -> None:
    svc, pid, _codes, candidates, clock = _grant_setup(engine, n=2)
    svc.create_grant_batch(OFFICER, pid, idempotency_key="g1", candidates=candidates)
    first, second = sorted(svc.list(OFFICER, policy_id=pid), key=lambda a: a["uscc"])
    assert first["state"] == "公示中"
    account = svc.register_account(enterprise_actor(first["uscc"]), first["uscc"], "测试企业0有限公司",
                                   "6222020200112233", "工商银行")
    confirmed = svc.confirm_grant(enterprise_actor(first["uscc"]), first["id"], account["id"])
    assert confirmed["state"] == "已确认" and confirmed["outcome"]["trace"]
    early = svc.review(OFFICER, first["id"], "approve", idempotency_key="early")
    assert early.status == IllegalTransition.status and "公示期" in early.body["error"]["message"]
    clock.day = date(2025, 7, 8)
    assert svc.review(OFFICER, first["id"], "approve", idempotency_key="a1").body["state"] == "已批准"
    batch = svc.create_payment_batch(FINANCE, idempotency_key="b1").body
    svc.import_bank_return(FINANCE, [ReturnLine(p["transfer_key"], "paid") for p in batch["payments"]],
                           idempotency_key="r1")
    assert svc.get(OFFICER, first["id"])["state"] == "已拨付"
    declined = svc.decline_grant(enterprise_actor(second["uscc"]), second["id"], "不需要")
    assert declined["state"] == "已放弃"
    totals = svc.totals(pid)[pid]
    assert (totals.paid, totals.reserved, totals.available) == (10_000_000, 0, 15_000_000)


def test_no_confirmation_by_the_deadline_releases(engine) -> None:
    svc, pid, _codes, candidates, _clock = _grant_setup(engine, n=2)
    batch = svc.create_grant_batch(OFFICER, pid, idempotency_key="g1", candidates=candidates).body
    assert svc.expire_grant_batch(OFFICER, batch["id"]) == 2
    assert {a["state"] for a in svc.list(OFFICER, policy_id=pid)} == {"已过期"}
    assert svc.totals(pid)[pid].available == 25_000_000
    with engine.connect() as conn:
        assert ledger.verify_ledger(conn) == []


@pytest.mark.slow
def test_a_batch_of_100000_candidates_in_under_a_minute(engine) -> None:
    """CI runs 20,000; QINQING_WORKFLOW_GRANT_SIZE=100000 the issue's size (21.6 s on the 2-core machine,
    docs/workflow.md)."""
    n = int(os.environ.get("QINQING_WORKFLOW_GRANT_SIZE", "20000"))
    if engine.dialect.name != "postgresql":
        pytest.skip("the timed batch runs on PostgreSQL")
    pid = publish(engine, policy_text("grant-2025-big", mode="免申即享", amount="1", budget=str(n)))
    svc = WorkflowService(engine, today=lambda: date(2025, 6, 30))
    svc.fund_from_catalogue(OFFICER, pid)
    codes = enterprises(engine, n)
    candidates = [{"uscc": c, "amount": Decimal(1), "run_id": "run-big"} for c in codes]
    started = time.perf_counter()
    batch = svc.create_grant_batch(OFFICER, pid, idempotency_key="big", candidates=candidates).body
    seconds = time.perf_counter() - started
    print(f"\n免申即享 batch of {n:,} candidates (applications and reservations): {seconds:.1f} s")
    assert batch["created"] == n and seconds < 60
    assert svc.totals(pid)[pid].reserved == n * 1_000_000
