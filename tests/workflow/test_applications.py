"""Applications and review: 零材料, the frozen match, illegal transitions, 联审, 退回补正, time limits,
conflicts of interest, idempotency, exclusion groups, 追回 — each on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from helpers import FINANCE, OFFICER, OFFICER_2, enterprise_actor, enterprises, policy_text, publish, service

from qinqing import audit
from qinqing.registry import store as registry_store
from qinqing.workflow import Actor, ledger, workdays
from qinqing.workflow.errors import (
    AlreadyAwarded,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidInput,
    NotEligible,
)
from qinqing.workflow.payments import ReturnLine

JOINT = "review: {departments: [科技局, 财政局], time_limit_days: 20, correction_days: 5}"


def _setup(engine, text=None, n=2, rd=True):
    pid = publish(engine, text or policy_text())
    svc = service(engine)
    svc.fund_from_catalogue(OFFICER, pid)
    codes = enterprises(engine, n, rd=rd)
    return svc, pid, codes


def _account(svc, code):
    i = int(code[8:16]) - 10_000_000
    return svc.register_account(enterprise_actor(code), code, f"测试企业{i}有限公司", "6222020200112233", "工商银行")["id"]


def test_zero_material_when_the_data_verifies_every_condition(engine) -> None:
    svc, pid, (code, _other) = _setup(engine)
    app = svc.apply(enterprise_actor(code), code, pid)
    assert app["state"] == "已提交" and app["materials_required"] == [] and app["amount_fen"] == 10_000_000
    assert [t["result"] for t in app["outcome"]["trace"]] == [True, True]


def test_a_material_only_for_the_condition_the_data_cannot_verify(engine) -> None:
    svc, pid, (code, _other) = _setup(engine, rd=False)
    form = svc.prefill(enterprise_actor(code), code, pid)
    assert [m["name"] for m in form["materials_required"]] == ["研发费用专项审计报告"]
    with pytest.raises(InvalidInput, match="研发费用专项审计报告"):
        svc.apply(enterprise_actor(code), code, pid, declared={"rd_expense": "30"})
    with pytest.raises(InvalidInput, match="已有部门共享的数据"):
        svc.apply(enterprise_actor(code), code, pid, declared={"revenue": "900"})
    app = svc.apply(enterprise_actor(code), code, pid, declared={"rd_expense": "30"}, materials=["研发费用专项审计报告"])
    assert app["state"] == "已提交" and app["declared"] == {"rd_expense": "30"}
    assert app["outcome"]["status"] == "eligible"


def test_the_match_is_frozen_at_submission(engine) -> None:
    svc, pid, (code, _other) = _setup(engine)
    app = svc.apply(enterprise_actor(code), code, pid)
    registry_store.upsert_enterprises(engine, [{"uscc": code, "name": "测试企业0有限公司", "revenue": Decimal(1)}])
    assert svc.get(OFFICER, app["id"])["outcome"] == app["outcome"]  # the decision seen is the one reviewed
    with pytest.raises(NotEligible):
        svc.apply(enterprise_actor(code), code, pid)


def test_an_illegal_transition_is_409_with_the_current_state(engine) -> None:
    svc, pid, (code, _other) = _setup(engine)
    app = svc.apply(enterprise_actor(code), code, pid)
    svc.accept(OFFICER, app["id"])
    with pytest.raises(IllegalTransition) as error:
        svc.withdraw(enterprise_actor(code), app["id"])
    assert error.value.status == 409 and error.value.details["state"] == "已受理"
    result = svc.review(OFFICER, app["id"], "approve", idempotency_key="a1")
    again = svc.review(OFFICER, app["id"], "approve", idempotency_key="a2")
    assert result.body["state"] == "已批准" and again.status == 409
    assert again.body["error"]["details"]["state"] == "已批准"


def test_withdrawal_before_acceptance(engine) -> None:
    svc, pid, (code, _other) = _setup(engine)
    app = svc.apply(enterprise_actor(code), code, pid)
    assert svc.withdraw(enterprise_actor(code), app["id"])["state"] == "已撤回"


def test_joint_review_needs_every_department_and_any_rejection_rejects(engine) -> None:
    svc, pid, (a, b) = _setup(engine, policy_text(review=JOINT))
    finance_reviewer = Actor("fin-chen", "officer", department="财政局")
    first = svc.apply(enterprise_actor(a), a, pid)
    svc.accept(OFFICER, first["id"])
    after_one = svc.review(OFFICER, first["id"], "approve", idempotency_key="j1").body
    assert after_one["state"] == "联审中"
    done = svc.review(finance_reviewer, first["id"], "approve", idempotency_key="j2").body
    assert done["state"] == "已批准" and {o["department"] for o in done["opinions"]} == {"科技局", "财政局"}
    second = svc.apply(enterprise_actor(b), b, pid)
    svc.accept(OFFICER, second["id"])
    svc.review(OFFICER, second["id"], "approve", idempotency_key="j3")
    rejected = svc.review(finance_reviewer, second["id"], "reject", comment="资金用途不符", idempotency_key="j4").body
    assert rejected["state"] == "已驳回" and rejected["reason"] == "资金用途不符"


def test_return_for_correction_in_working_days_then_resubmit_or_expire(engine) -> None:
    svc, pid, (a, b) = _setup(engine, policy_text(review=JOINT))
    app = svc.apply(enterprise_actor(a), a, pid)
    svc.accept(OFFICER, app["id"])
    returned = svc.review(OFFICER, app["id"], "return", comment="请补充审计报告", idempotency_key="r1").body
    assert returned["state"] == "退回补正" and returned["deadline_kind"] == "correction"
    assert returned["deadline"] == workdays.add_working_days(date(2025, 6, 30), 5).isoformat() == "2025-07-07"
    assert returned["calendar"].startswith("chinesecalendar ")
    again = svc.submit(enterprise_actor(a), app["id"])
    assert again["state"] == "已提交" and again["round"] == 2
    other = svc.apply(enterprise_actor(b), b, pid)
    svc.accept(OFFICER, other["id"])
    back = svc.review(OFFICER, other["id"], "return", comment="缺材料", idempotency_key="r2").body
    assert svc.deadline_passed(other["id"], "correction", "2000-01-01") == "stale"
    assert svc.deadline_passed(other["id"], "correction", back["deadline"]) == "expired"
    assert svc.get(OFFICER, other["id"])["state"] == "已驳回"


def test_steps_need_different_reviewers_and_the_applicant_never_reviews(engine) -> None:
    svc, pid, (a, _b) = _setup(engine, policy_text(review="review: {steps: 2}"))
    app = svc.apply(enterprise_actor(a), a, pid)
    svc.accept(OFFICER, app["id"])
    assert svc.review(OFFICER, app["id"], "approve", idempotency_key="s1").body["state"] == "审核中"
    assert svc.review(OFFICER, app["id"], "approve", idempotency_key="s2").status == 403
    assert svc.review(OFFICER_2, app["id"], "approve", idempotency_key="s3").body["state"] == "已批准"
    staff_app = svc.apply(Actor("officer-li", "admin"), _b, pid)
    svc.accept(OFFICER_2, staff_app["id"])
    assert svc.review(Actor("officer-li", "admin"), staff_app["id"], "approve", idempotency_key="s4").status == 403


def test_idempotency_key_replay_and_reuse(engine) -> None:
    svc, pid, (a, _b) = _setup(engine)
    app = svc.apply(enterprise_actor(a), a, pid)
    svc.accept(OFFICER, app["id"])
    first = svc.review(OFFICER, app["id"], "approve", idempotency_key="same")
    replay = svc.review(OFFICER, app["id"], "approve", idempotency_key="same")
    assert replay.replayed and replay.body == first.body and replay.status == first.status
    with pytest.raises(IdempotencyKeyReused):
        svc.review(OFFICER, app["id"], "reject", comment="x", idempotency_key="same")


def test_an_exclusion_group_pays_one_award_per_enterprise_and_year(engine) -> None:
    first = publish(engine, policy_text("grp-2025-a", group="rd-awards"))
    second = publish(engine, policy_text("grp-2025-b", group="rd-awards", amount="20"))
    svc = service(engine)
    for pid in (first, second):
        svc.fund_from_catalogue(OFFICER, pid)
    (code,) = enterprises(engine, 1)
    apps = [svc.apply(enterprise_actor(code), code, pid) for pid in (first, second)]
    for app in apps:
        svc.accept(OFFICER, app["id"])
    assert svc.review(OFFICER, apps[0]["id"], "approve", idempotency_key="g1").ok
    refused = svc.review(OFFICER, apps[1]["id"], "approve", idempotency_key="g2")
    assert refused.status == AlreadyAwarded.status and refused.body["error"]["code"] == AlreadyAwarded.code


def test_payment_failure_requeue_partial_payment_and_clawback(engine) -> None:
    svc, pid, (a, b) = _setup(engine)
    for code in (a, b):
        app = svc.apply(enterprise_actor(code), code, pid, bank_account_id=_account(svc, code))
        svc.accept(OFFICER, app["id"])
        svc.review(OFFICER, app["id"], "approve", idempotency_key=f"p{app['id']}")
    batch = svc.create_payment_batch(FINANCE, idempotency_key="b1").body
    one, two = batch["payments"]
    svc.import_bank_return(FINANCE, [ReturnLine(one["transfer_key"], "paid", amount_fen=6_000_000),
                                     ReturnLine(two["transfer_key"], "failed", message="账户冻结")], idempotency_key="r1")
    assert svc.get(FINANCE, two["application_id"])["state"] == "拨付失败"
    again = svc.create_payment_batch(FINANCE, idempotency_key="b2").body
    assert [p["application_id"] for p in again["payments"]] == [two["application_id"]]
    assert svc.get(FINANCE, two["application_id"])["state"] == "重新拨付"
    svc.import_bank_return(FINANCE, [ReturnLine(again["payments"][0]["transfer_key"], "paid")], idempotency_key="r2")
    totals = svc.totals(pid)[pid]
    assert (totals.paid, totals.reserved, totals.available) == (16_000_000, 0, 100_000_000 - 16_000_000)
    clawed = svc.clawback(FINANCE, one["application_id"], "虚报研发费用", idempotency_key="c1").body
    assert clawed["state"] == "追回"
    totals = svc.totals(pid)[pid]
    assert totals.returned == 6_000_000 and totals.balanced
    assert svc.reconcile()["ok"]
    with engine.connect() as conn:
        assert ledger.verify_ledger(conn) == []
    assert audit.verify(engine).ok
    assert [e.action for e in audit.trail(engine, "application", one["application_id"])][-1] == "application.clawback"


def test_bank_account_name_must_match(engine) -> None:
    from qinqing.workflow.errors import AccountNotVerified

    svc, _pid, (a, _b) = _setup(engine)
    with pytest.raises(AccountNotVerified):
        svc.register_account(enterprise_actor(a), a, "别的公司", "6222020200112233", "工商银行")


def test_rating_after_payment_and_the_auditor_report(engine, tmp_path) -> None:
    import openpyxl

    svc, pid, (a, _b) = _setup(engine)
    app = svc.apply(enterprise_actor(a), a, pid, bank_account_id=_account(svc, a))
    with pytest.raises(IllegalTransition):
        svc.rate(enterprise_actor(a), app["id"], 1)
    svc.accept(OFFICER, app["id"])
    svc.review(OFFICER, app["id"], "approve", idempotency_key="x1")
    batch = svc.create_payment_batch(FINANCE, idempotency_key="b").body
    svc.import_bank_return(FINANCE, [ReturnLine(p["transfer_key"], "paid") for p in batch["payments"]],
                           idempotency_key="r")
    rated = svc.rate(enterprise_actor(a), app["id"], 5, "到账太慢")
    assert rated["rating"]["level"] == 5 and rated["rating"]["follow_up_due"] == "2025-07-21"  # 15 working days
    counts = svc.audit_report(tmp_path / "audit.xlsx", unpaid_after_days=0)
    book = openpyxl.load_workbook(tmp_path / "audit.xlsx")
    assert book.sheetnames == ["政策资金", "企业兑现", "符合未兑现", "无核验账户拨付", "利益冲突", "线下审核", "材料缺失"]
    assert counts["企业兑现"] == 1 and counts["无核验账户拨付"] == 0 and counts["线下审核"] == 0
    assert book["政策资金"]["D2"].value == 100000.0  # paid, in 元


def test_the_daily_reconciliation_job(engine) -> None:
    from qinqing.jobs import JobContext
    from qinqing.settings import Settings
    from qinqing.workflow.service import _daily

    _setup(engine)
    job = JobContext(job_id=1, name="workflow.daily_reconciliation", attempt=1, engine=engine, settings=Settings())
    assert _daily(job) == {"ok": True, "differences": [], "keys_pruned": 0}


def test_verify_finds_an_application_row_edited_by_hand(engine) -> None:
    svc, pid, (a, b) = _setup(engine)
    first = svc.apply(enterprise_actor(a), a, pid)
    svc.apply(enterprise_actor(b), b, pid)
    svc.accept(OFFICER, first["id"])
    clean = svc.verify()
    assert clean["ok"] and clean["rows_checked"] == 2
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE workflow_applications SET amount_fen = 99900000 WHERE id = {first['id']}")
    tampered = svc.verify()
    assert not tampered["ok"] and len(tampered["row_problems"]) == 1 and f"申报 {first['id']}" in tampered["row_problems"][0]


def test_payout_rate_and_speed(engine) -> None:
    svc, pid, (a, b) = _setup(engine)
    for code in (a, b):
        app = svc.apply(enterprise_actor(code), code, pid, bank_account_id=_account(svc, code))
        svc.accept(OFFICER, app["id"])
        svc.review(OFFICER, app["id"], "approve", idempotency_key=f"s{app['id']}")
    batch = svc.create_payment_batch(FINANCE, idempotency_key="b").body
    svc.import_bank_return(FINANCE, [ReturnLine(batch["payments"][0]["transfer_key"], "paid")], idempotency_key="r")
    (row,) = svc.payout_stats()["policy"]
    assert (row["applications"], row["approved"], row["paid"], row["payout_rate"]) == (2, 2, 1, 0.5)
    assert row["paid_fen"] == 10_000_000 and row["median_working_days"] == 0
