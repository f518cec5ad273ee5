"""The appeals pages and JSON API through the app: each role's page renders in Chinese, the escalation
path 不满意 → 重办 → 不满意 → 督办 → 整改 → 办结 runs through the forms, errors keep the canonical shape."""

from __future__ import annotations

import re

import pytest
from appeals_support import ENTERPRISE_USCC, HLJ_FINANCE, HLJ_INDUSTRY
from fastapi.testclient import TestClient

from qinqing.accounts import AccountService, Role
from qinqing.db import make_engine, migrate
from qinqing.settings import Settings
from qinqing.web.app import create_app

PASSWORD = "correct-horse-9"
USERS = {
    "ent": (Role.ENTERPRISE, "哈尔滨示例制造有限公司", {"uscc": ENTERPRISE_USCC}),
    "other": (Role.ENTERPRISE, "杭州西湖示例公司", {"uscc": "91330106MA2CXXXX03"}),
    "industry": (Role.OFFICER, "黑龙江工信厅", {"department": HLJ_INDUSTRY, "region_code": "230000"}),
    "finance": (Role.OFFICER, "黑龙江财政厅", {"department": HLJ_FINANCE, "region_code": "230000"}),
    "desk": (Role.OFFICER, "12345派单席", {"department": "12345热线涉企服务专席", "region_code": "230000"}),
    "supervisor": (Role.SUPERVISOR, "营商办督查员", {}),
}


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('appeals-web') / 'w.db'}"
    migrate(url)
    engine = make_engine(url)
    accounts = AccountService(engine)
    for name, (role, display, binding) in USERS.items():
        accounts.create_user(f"{name}_user", PASSWORD, role, display, **binding)
    app = create_app(Settings(database_url=url, secret_key="appeals-web"), engine=engine)
    result = {}
    for name in USERS:
        client = TestClient(app)
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = client.post("/login", data={"username": f"{name}_user", "password": PASSWORD, "csrf_token": csrf},
                               follow_redirects=False)
        assert response.status_code in (302, 303), response.text
        result[name] = client
    yield result
    engine.dispose()


def act(client, appeal_id: int, action: str, **fields):
    page = client.get(f"/appeals/{appeal_id}")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    response = client.post(f"/appeals/{appeal_id}/act", data={"action": action, "csrf_token": csrf, **fields},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client.get(f"/appeals/{appeal_id}")


def state_of(page) -> str:
    return re.search(r'id="appeal-state" data-state="(\w+)"', page.text).group(1)


def test_the_escalation_path_through_the_pages(clients):
    ent, industry, finance, supervisor = clients["ent"], clients["industry"], clients["finance"], clients["supervisor"]
    form = ent.get("/appeals/new")
    assert "提交诉求" in form.text and "要求保密" in form.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = ent.post("/appeals/new", follow_redirects=False, data={
        "csrf_token": csrf, "kind": "complaint", "category": "ZC02", "title": "技改奖补资金未到账",
        "description": "技改项目奖补 50 万元公示后至今未拨付。", "region_code": "230102", "disclose_identity": "true"})
    appeal_id = int(response.headers["location"].rsplit("/", 1)[1])
    queue = industry.get("/appeals")
    assert f'data-appeal="{appeal_id}"' in queue.text and 'data-colour="green"' in queue.text
    assert state_of(act(industry, appeal_id, "accept")) == "handling"
    act(finance, appeal_id, "accept")
    act(industry, appeal_id, "reply", text="已协调财政厅，月底前拨付。")
    page = act(ent, appeal_id, "rate", level="2", resolved="false", comment="仍未到账")
    assert state_of(page) == "rehandling" and "转重办" in page.text
    act(industry, appeal_id, "reply", text="已再次催办。")
    assert state_of(act(ent, appeal_id, "rate", level="1", resolved="false")) == "supervised"
    supervision = supervisor.get("/appeals?queue=supervision")
    assert f'data-appeal="{appeal_id}"' in supervision.text
    assert state_of(act(industry, appeal_id, "rectify", note="资金已拨付到账。")) == "rectified"
    page = act(supervisor, appeal_id, "confirm", accept="true", note="核实到账")
    assert state_of(page) == "closed" and "已办结" in page.text


def test_the_desk_dispatches_unclassified_items_and_supervisors_read_rankings(clients):
    ent, desk, supervisor = clients["ent"], clients["desk"], clients["supervisor"]
    created = ent.post("/api/appeals", json={"kind": "help", "title": "园区推诿",
                                             "description": "项目涉及多个部门互相推诿，无人牵头。"},
                       headers={"X-CSRF-Token": _csrf(ent)}).json()
    assert created["dispatched"] is False and created["hint"]
    appeal_id = created["appeal"]["id"]
    assert f'data-appeal="{appeal_id}"' in desk.get("/appeals?queue=desk").text
    page = act(desk, appeal_id, "dispatch", category="QT01", lead="", note="")
    assert state_of(page) == "dispatched" and "属地营商环境服务中心" not in page.text  # 230102 → 黑龙江
    rankings = supervisor.get("/appeals/rankings?month=2026-12")
    assert rankings.status_code == 200 and "三率排名" in rankings.text
    assert supervisor.get("/appeals/rankings.xlsx?month=2026-12").content[:2] == b"PK"


def test_an_enterprise_cannot_see_another_enterprises_appeal(clients):
    ent, other = clients["ent"], clients["other"]
    created = ent.post("/api/appeals", json={"kind": "consultation", "category": "ZC01", "title": "咨询",
                                             "description": "想咨询研发费用补助的适用范围。"},
                       headers={"X-CSRF-Token": _csrf(ent)}).json()
    response = other.get(f"/api/appeals/{created['appeal']['id']}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "appeals.not_found"
    assert other.get("/appeals/rankings?month=2026-12").status_code == 403


def test_an_illegal_action_is_a_409(clients):
    ent = clients["ent"]
    created = ent.post("/api/appeals", json={"kind": "consultation", "category": "ZC01", "title": "再咨询",
                                             "description": "首台套政策的补贴标准如何计算。"},
                       headers={"X-CSRF-Token": _csrf(ent)}).json()
    response = ent.post(f"/api/appeals/{created['appeal']['id']}/rate", json={"level": 5},
                        headers={"X-CSRF-Token": _csrf(ent)})
    assert response.status_code == 409 and response.json()["error"]["code"] == "appeals.illegal_transition"


def _csrf(client) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/appeals").text).group(1)
