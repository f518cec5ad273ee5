"""No overrun, no double payment, whatever arrives at once: K real processes approve and pay against one
budget on PostgreSQL, with replayed keys, duplicate bank returns, and one process killed with SIGKILL in the
middle of its ledger transaction. Then every invariant is checked on what is stored.

Size: QINQING_WORKFLOW_PROCESSES (8) × QINQING_WORKFLOW_OPS (40 in CI; the issue's full size is 200,
``benchmarks/workflow_concurrency.py`` runs it and prints approvals/s)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import OFFICER, enterprise_actor, enterprises, policy_text, publish, service
from sqlalchemy import func, select

from qinqing.workflow import ledger
from qinqing.workflow.money import fen
from qinqing.workflow.payments import ReturnLine
from qinqing.workflow.tables import applications, awards, exclusion_claims, journals, payments

pytestmark = pytest.mark.postgres
WORKER = Path(__file__).with_name("concurrency_worker.py")
AMOUNT = "10"  # 万元 per award
BUDGET_AWARDS = 7  # the budget covers this many awards of the first policy


def prepare(engine, n_enterprises: int) -> tuple[str, str]:
    """Two policies of one exclusion group; every enterprise applies to both, some twice to the first."""
    first = publish(engine, policy_text("conc-2025-a", amount=AMOUNT, budget=str(10 * BUDGET_AWARDS), group="conc-group"))
    second = publish(engine, policy_text("conc-2025-b", amount=AMOUNT, budget="10000", group="conc-group"))
    svc = service(engine)
    svc.fund_from_catalogue(OFFICER, first)
    svc.fund_from_catalogue(OFFICER, second)
    for i, code in enumerate(enterprises(engine, n_enterprises)):
        actor = enterprise_actor(code)
        account = svc.register_account(actor, code, f"测试企业{i}有限公司", f"62220202{i:08d}", "工商银行")
        for policy in [first, second] + ([first] if i % 3 == 0 else []):  # a duplicate submission
            app = svc.apply(actor, code, policy, bank_account_id=account["id"])
            svc.accept(OFFICER, app["id"])
    return first, second


def run_workers(url: str, processes: int, ops: int, tmp_path: Path) -> tuple[list[dict], float]:
    marker = tmp_path / "hung"
    started = time.perf_counter()
    victim = subprocess.Popen([sys.executable, str(WORKER), url, "999", "5", "--hang", str(marker)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    workers = [subprocess.Popen([sys.executable, str(WORKER), url, str(seed), str(ops)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for seed in range(processes)]
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and victim.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), victim.stderr.read().decode()[-2000:] if victim.poll() is not None else "victim never hung"
    os.kill(victim.pid, signal.SIGKILL)  # mid-transaction: its locks and rows must vanish with it
    victim.wait()
    results = []
    for w in workers:
        out, err = w.communicate(timeout=900)
        assert w.returncode == 0, err.decode()[-3000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results, time.perf_counter() - started


def check_invariants(engine, first: str, second: str) -> dict:
    svc = service(engine)
    with engine.connect() as conn:
        assert ledger.verify_ledger(conn) == []  # history checker: sums, running balances, no negative, once
        totals = ledger.policy_totals(conn)
        reserved_apps = conn.execute(select(journals.c.application_id).where(journals.c.kind == "reserve")).scalars().all()
        assert len(reserved_apps) == len(set(reserved_apps))
        per_award = conn.execute(
            select(applications.c.policy_id, applications.c.uscc, applications.c.period, func.count())
            .join(journals, journals.c.application_id == applications.c.id).where(journals.c.kind == "reserve")
            .group_by(applications.c.policy_id, applications.c.uscc, applications.c.period)
            .having(func.count() > 1)).all()
        assert per_award == []  # no (policy, enterprise, period) reserved twice
        per_group = conn.execute(
            select(applications.c.uscc, func.count()).join(journals, journals.c.application_id == applications.c.id)
            .where(journals.c.kind == "reserve").group_by(applications.c.uscc).having(func.count() > 1)).all()
        assert per_group == []  # the exclusion group: at most one award per enterprise
        posts = conn.execute(select(journals.c.application_id, func.count()).where(journals.c.kind == "post")
                             .group_by(journals.c.application_id).having(func.count() > 1)).all()
        assert posts == []  # never paid twice
        open_twice = conn.execute(select(payments.c.application_id, func.count()).where(payments.c.state == "待拨付")
                                  .group_by(payments.c.application_id).having(func.count() > 1)).all()
        assert open_twice == []
        first_awards = conn.execute(select(func.count()).select_from(awards).where(awards.c.policy_id == first)).scalar()
        second_awards = conn.execute(select(func.count()).select_from(awards).where(awards.c.policy_id == second)).scalar()
        claims = conn.execute(select(func.count()).select_from(exclusion_claims)).scalar()
    a = totals[first]
    assert a.funded == fen(AMOUNT) * BUDGET_AWARDS
    assert a.reserved + a.paid <= a.funded and a.available >= 0  # never beyond the budget
    assert svc.reconcile()["ok"], svc.reconcile()["differences"]
    return {"first_awards": first_awards, "second_awards": second_awards, "claims": claims, "paid_fen": a.paid, "reserved_fen": a.reserved,
            "second": totals[second]}


def sweep(engine) -> None:
    """Everything the killed or unlucky processes left: approve what can be, pay every batch."""
    svc = service(engine)
    with engine.connect() as conn:
        waiting = conn.execute(select(applications.c.id).where(applications.c.state.in_(("已受理", "审核中")))).scalars().all()
    for app_id in waiting:
        svc.review(OFFICER, app_id, "approve", idempotency_key=f"sweep-{app_id}")
    for attempt in range(3):
        batch = svc.create_payment_batch(OFFICER.__class__("finance-sweep", "officer", department="财政局"),
                                         idempotency_key=f"sweep-batch-{attempt}")
        if not batch.ok:
            break
        svc.import_bank_return(OFFICER.__class__("finance-sweep", "officer", department="财政局"),
                               [ReturnLine(p["transfer_key"], "paid") for p in batch.body["payments"]],
                               idempotency_key=f"sweep-return-{attempt}")


def test_no_overrun_and_no_double_payment_under_concurrency(engine, database_url, tmp_path) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL")
    processes = int(os.environ.get("QINQING_WORKFLOW_PROCESSES", "8"))
    ops = int(os.environ.get("QINQING_WORKFLOW_OPS", "40"))
    n_enterprises = max(12, ops // 2)
    first, second = prepare(engine, n_enterprises)
    results, seconds = run_workers(database_url, processes, ops, tmp_path)
    during = check_invariants(engine, first, second)
    sweep(engine)
    after = check_invariants(engine, first, second)
    # the exclusion group: every enterprise has exactly one award of the group, of one policy or the other
    assert after["claims"] == n_enterprises == after["first_awards"] + after["second_awards"]
    # exactly what the budget allows: the first policy's budget covers 7 awards, and every enterprise that
    # did not get the second one wanted it
    allowed = min(BUDGET_AWARDS, n_enterprises - after["second_awards"])
    assert after["first_awards"] == allowed
    assert after["paid_fen"] == fen(AMOUNT) * allowed and after["reserved_fen"] == 0
    seen: dict[str, int] = {}
    assert during["paid_fen"] + during["reserved_fen"] <= fen(AMOUNT) * BUDGET_AWARDS
    for r in results:
        for k, v in r.items():
            seen[k] = seen.get(k, 0) + v
    print(f"\n{processes} processes × {ops} operations in {seconds:.1f} s: {seen}; during {during}")
