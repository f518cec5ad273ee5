"""The 工单 closed loop through the service: intake, dispatch, 签收, 答复, 评价, 重办, 督办, 退单/改派, 并单, 转办,
延期, 申诉复核, clocks, privacy; every change an update, an event and an audit row."""

from __future__ import annotations

import pytest
from appeals_support import (DESK, ENTERPRISE, FINANCE, HLJ_FINANCE, HLJ_INDUSTRY, HLJ_MARKET, MARKET, OFFICER,
                      OTHER_ENTERPRISE, SUPERVISOR, complaint)
from sqlalchemy import select

from qinqing import audit, events
from qinqing.appeals.errors import AppealForbidden, AppealNotFound, IllegalTransition, InvalidAppeal
from qinqing.appeals.states import State
from qinqing.appeals.tables import deadlines, updates
from qinqing.appeals.views import MASKED


def test_the_escalation_path_no_no_supervised_rectified_closed(service, engine):
    intake = service.submit(ENTERPRISE, complaint())
    appeal = intake.appeal
    assert intake.dispatched and appeal.state is State.DISPATCHED
    assert appeal.lead_department == HLJ_INDUSTRY and appeal.assisting == (HLJ_FINANCE,)
    assert appeal.owner_department == "12345热线涉企服务专席"  # 首接负责 until the lead signs
    appeal = service.accept(OFFICER, appeal.id)
    assert appeal.state is State.HANDLING and appeal.owner_department == HLJ_INDUSTRY
    handle = next(d for d in appeal.deadlines if d.clock == "handle")
    assert handle.limit_text == "15 个工作日" and handle.source == "gd2022" and handle.calendar_version
    service.reply(OFFICER, appeal.id, "已协调财政厅，预计月底前拨付。")
    appeal = service.rate(ENTERPRISE, appeal.id, 2, comment="仍未到账", resolved=False)
    assert appeal.state is State.REHANDLING and appeal.rehandle_count == 1
    assert next(d for d in appeal.deadlines if d.clock == "rehandle").limit_text == "15 个工作日"
    service.reply(OFFICER, appeal.id, "已再次催促。")
    appeal = service.rate(ENTERPRISE, appeal.id, 1)
    assert appeal.state is State.SUPERVISED
    assert appeal.id in {a.id for a in service.list_for(SUPERVISOR, queue="supervision")}
    appeal = service.rectify(OFFICER, appeal.id, "资金已于今日拨付到账。")
    assert appeal.state is State.RECTIFIED
    appeal = service.confirm(SUPERVISOR, appeal.id)
    assert appeal.state is State.CLOSED and appeal.closed_at is not None
    actions = [u.action for u in appeal.updates]
    assert actions == ["receive", "dispatch", "accept", "reply", "rate", "reply", "rate", "rectify", "confirm"]
    with engine.connect() as connection:
        trail = audit.trail(connection, "appeal", appeal.id)
        assert [e.action for e in trail][-1] == "appeal.confirm"
        assert audit.verify(connection).ok
        changed = events.recent(connection, type="appeals.state_changed", subject=f"appeal:{appeal.id}", limit=20)
        assert len(changed) == 8


def test_satisfied_rating_closes(service):
    appeal = service.submit(ENTERPRISE, complaint()).appeal
    service.accept(OFFICER, appeal.id)
    service.reply(OFFICER, appeal.id, "已拨付。")
    assert service.rate(ENTERPRISE, appeal.id, 4, resolved=True).state is State.CLOSED


def test_an_illegal_transition_is_a_409_naming_the_state(service):
    appeal = service.submit(ENTERPRISE, complaint()).appeal
    with pytest.raises(IllegalTransition) as raised:
        service.reply(OFFICER, appeal.id, "还没签收就答复")
    assert raised.value.status == 409 and raised.value.details["state"] == "dispatched"
    with pytest.raises(IllegalTransition):
        service.rate(ENTERPRISE, appeal.id, 5)


def test_an_enterprise_sees_only_its_own_appeals(service):
    appeal = service.submit(ENTERPRISE, complaint()).appeal
    with pytest.raises(AppealNotFound):
        service.get(OTHER_ENTERPRISE, appeal.id)
    assert service.list_for(OTHER_ENTERPRISE) == []
    with pytest.raises(AppealNotFound):  # a department not assigned does not see it either
        service.get(MARKET, appeal.id)


def test_identity_is_masked_to_departments_without_consent(service):
    hidden = service.submit(ENTERPRISE, complaint(disclose_identity=False, contact_phone="13800000000")).appeal
    shown = service.submit(ENTERPRISE, complaint(category="ZC01", kind="consultation", title="高企认定奖励",
                                                 description="想咨询高新技术企业认定奖励的申报条件。")).appeal
    assert service.get(OFFICER, hidden.id).uscc == MASKED
    assert service.get(OFFICER, hidden.id).contact_phone == MASKED
    assert service.get(OFFICER, shown.id).uscc == ENTERPRISE.uscc
    assert service.get(DESK, hidden.id).uscc == ENTERPRISE.uscc  # the desk took it in
    secret = service.submit(ENTERPRISE, complaint(category="YG01", title="社保基数", confidential=True,
                                                  description="社保缴费基数核定有误。", disclose_identity=True,
                                                  public=True)).appeal
    assert secret.public is False and not secret.disclose_identity
    assert service.get(DESK, secret.id).uscc == ENTERPRISE.uscc


def test_return_review_and_redispatch(service):
    appeal = service.submit(ENTERPRISE, complaint(category="JG01", title="重复检查",
                                                  description="同一事项被多次检查。")).appeal
    assert appeal.lead_department == HLJ_MARKET
    with pytest.raises(InvalidAppeal):
        service.return_appeal(MARKET, appeal.id, " ")
    appeal = service.return_appeal(MARKET, appeal.id, "该事项属于工信部门职责")
    assert appeal.state is State.RETURN_REVIEW
    with pytest.raises(AppealForbidden):
        service.review_return(MARKET, appeal.id, approve=True, lead=HLJ_INDUSTRY)
    appeal = service.review_return(DESK, appeal.id, approve=True, category="ZC02")
    assert appeal.state is State.DISPATCHED and appeal.lead_department == HLJ_INDUSTRY and appeal.category == "ZC02"
    assert service.accept(OFFICER, appeal.id).state is State.HANDLING


def test_return_rejected_goes_back_to_the_same_department(service):
    appeal = service.submit(ENTERPRISE, complaint(category="JG01")).appeal
    service.return_appeal(MARKET, appeal.id, "不是我们的")
    appeal = service.review_return(DESK, appeal.id, approve=False, note="属于市场监管职责，请签收")
    assert appeal.state is State.DISPATCHED and appeal.lead_department == HLJ_MARKET
    assert service.accept(MARKET, appeal.id).state is State.HANDLING


def test_duplicates_are_proposed_and_never_merged_by_themselves(service):
    first = service.submit(ENTERPRISE, complaint()).appeal
    second = service.submit(ENTERPRISE, complaint(title="技改奖补资金还没到账"))
    assert not second.dispatched and second.duplicates and second.duplicates[0]["candidate_id"] == first.id
    assert second.appeal.state is State.RECEIVED and "并单" in second.hint
    with pytest.raises(AppealForbidden):
        service.merge(OFFICER, second.appeal.id, first.id)
    merged = service.merge(DESK, second.appeal.id, first.id)
    assert merged.state is State.MERGED and merged.merged_into == first.id
    assert service.get(ENTERPRISE, first.id).state is State.DISPATCHED


def test_unrelated_text_is_not_a_duplicate(service):
    service.submit(ENTERPRISE, complaint())
    other = service.submit(ENTERPRISE, complaint(category="YS01", title="厂区频繁停电",
                                                 description="园区最近一周停电三次，影响生产。"))
    assert other.dispatched and not other.duplicates


def test_emergency_and_legal_items_wait_for_the_desk(service):
    fire = service.submit(ENTERPRISE, complaint(category="YS01", title="仓库着火", description="仓库着火冒烟！"))
    assert not fire.dispatched and "119" in fire.hint
    assert service.transfer(DESK, fire.appeal.id, "119").state is State.TRANSFERRED
    court = service.submit(ENTERPRISE, complaint(category="JG01", title="合同纠纷",
                                                 description="对方拒不付款，我们准备起诉。"))
    referred = service.refer(DESK, court.appeal.id, "litigation")
    assert referred.state is State.REFERRED and "人民法院" in referred.updates[-1].note


def test_extension_needs_approval_and_the_enterprise_is_told(service):
    appeal = service.submit(ENTERPRISE, complaint()).appeal
    service.accept(OFFICER, appeal.id)
    before = next(d for d in service.get(OFFICER, appeal.id).deadlines if d.clock == "handle").due_at
    extension = service.request_extension(OFFICER, appeal.id, 5, "需财政厅走拨付流程")
    with pytest.raises(AppealForbidden):
        service.decide_extension(OFFICER, extension, approve=True)
    appeal = service.decide_extension(SUPERVISOR, extension, approve=True, note="同意")
    after = next(d for d in appeal.deadlines if d.clock == "handle")
    assert after.due_at > before and after.extended_days == 5
    seen = service.get(ENTERPRISE, appeal.id)
    assert any(u.action == "extend" and "延长 5 个工作日" in u.note for u in seen.updates)
    assert not any(u.action == "request_extension" for u in seen.updates)  # internal until decided


def test_rating_review_voids_a_malicious_rating(service):
    appeal = service.submit(ENTERPRISE, complaint()).appeal
    service.accept(OFFICER, appeal.id)
    service.reply(OFFICER, appeal.id, "已拨付到账，附银行回单。")
    service.rate(ENTERPRISE, appeal.id, 1, comment="就是不满意")
    service.request_rating_review(OFFICER, appeal.id, "资金已到账，差评与事实不符")
    appeal = service.decide_rating_review(SUPERVISOR, appeal.id, void=True, note="核实已到账")
    assert appeal.state is State.CLOSED and appeal.ratings[-1].review_status == "voided"


def test_clocks_warn_then_escalate_then_close_unrated(service, clock, engine):
    appeal = service.submit(ENTERPRISE, complaint()).appeal
    clock.set(2026, 9, 16, 9)  # past the 24 h 签收 limit of both departments
    assert service.sweep_clocks()["fired"] >= 2
    with engine.connect() as connection:
        rows = connection.execute(select(deadlines).where(deadlines.c.appeal_id == appeal.id,
                                                          deadlines.c.clock == "accept")).mappings().all()
        assert {r["escalation_level"] for r in rows} == {1} and all(r["warned_at"] is None for r in rows)
        notes = connection.execute(select(updates.c.note).where(updates.c.action == "clock")).scalars().all()
        assert any("催办通知书" in n for n in notes)
        assert events.recent(connection, type="appeals.deadline_escalated")
    assert service.sweep_clocks()["fired"] == 0  # idempotent
    service.accept(OFFICER, appeal.id)
    service.accept(FINANCE, appeal.id)
    service.reply(OFFICER, appeal.id, "已答复")
    clock.set(2026, 10, 30, 9)
    service.sweep_clocks()
    closed = service.get(ENTERPRISE, appeal.id)
    assert closed.state is State.CLOSED and "评价期满" in closed.updates[-1].note


def test_late_acceptance_is_recorded_as_late(service, clock, engine):
    appeal = service.submit(ENTERPRISE, complaint()).appeal
    clock.advance(hours=30)
    service.accept(OFFICER, appeal.id)
    with engine.connect() as connection:
        status = connection.execute(select(deadlines.c.status).where(
            deadlines.c.appeal_id == appeal.id, deadlines.c.clock == "accept",
            deadlines.c.department == HLJ_INDUSTRY)).scalar_one()
    assert status == "late"


def test_phone_intake_by_an_officer_needs_the_caller(service):
    with pytest.raises(InvalidAppeal):
        service.submit(DESK, complaint())
    recorded = service.submit(DESK, complaint(uscc=ENTERPRISE.uscc, enterprise_name="哈尔滨示例制造有限公司",
                                              contact_name="张三", contact_phone="13800000000"))
    assert recorded.appeal.channel == "phone"
    assert service.get(ENTERPRISE, recorded.appeal.id).contact_name == "张三"


def test_bad_input_names_the_field(service):
    with pytest.raises(InvalidAppeal) as raised:
        service.submit(ENTERPRISE, complaint(kind="gossip"))
    assert raised.value.details["field"] == "kind"
    with pytest.raises(InvalidAppeal):
        service.submit(ENTERPRISE, complaint(description="x" * 4001))
    with pytest.raises(InvalidAppeal):
        service.submit(ENTERPRISE, complaint(description="<script>alert(1)</script>"))
    with pytest.raises(InvalidAppeal):
        service.submit(ENTERPRISE, complaint(region_code="999999"))
