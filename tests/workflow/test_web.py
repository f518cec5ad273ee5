"""The pages and the API of 兑政策: an enterprise applies (零材料) → officer accepts and approves → finance pays
in a batch → bank return imported → the enterprise sees 已拨付; Idempotency-Key semantics over HTTP."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from helpers import FINANCE, TODAY, enterprises, policy_text, publish, service

from qinqing.accounts import AccountService, Role
from qinqing.settings import Settings
from qinqing.web.app import create_app

PASSWORD = "correct horse battery 9"


@pytest.fixture
def site(engine, tmp_path):
    pid = publish(engine, policy_text(), department="科技局")
    service(engine).fund_from_catalogue(FINANCE, pid)
    (code,) = enterprises(engine, 1)
    accounts = AccountService(engine)
    accounts.create_user("ent1", PASSWORD, Role.ENTERPRISE, "测试企业0", uscc=code)
    accounts.create_user("kj1", PASSWORD, Role.OFFICER, "科技局审核员", department="科技局", region_code="350100")
    accounts.create_user("cz1", PASSWORD, Role.OFFICER, "财政局出纳", department="财政局", region_code="350100")
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), secret_key="s",
                        reference_date=TODAY, results_dir=tmp_path / "results")
    app = create_app(settings, engine=engine)
    clients: list[TestClient] = []

    def client(username: str) -> TestClient:
        c = TestClient(app)
        page = c.get("/login").text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        assert c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
                      follow_redirects=False).status_code == 303
        clients.append(c)
        return c

    yield {"pid": pid, "uscc": code, "client": client}
    for c in clients:
        c.close()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _form_key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)


def test_apply_review_pay_and_see_it_paid(site) -> None:
    ent, officer, finance = site["client"]("ent1"), site["client"]("kj1"), site["client"]("cz1")
    page = ent.get(f"/workflow/apply/{site['pid']}")
    assert page.status_code == 200 and "data-zero-material" in page.text and "上年营业收入100万元以上" in page.text
    done = ent.post(f"/workflow/apply/{site['pid']}", data={
        "csrf_token": _csrf(page.text), "account_name": "测试企业0有限公司", "account_no": "6222020200112233",
        "bank": "工商银行"}, follow_redirects=False)
    assert done.status_code == 303
    url = done.headers["location"]
    app_id = int(url.rsplit("/", 1)[1])
    queue = officer.get("/workflow/queue")
    assert f'data-application="{app_id}"' in queue.text
    detail = officer.get(url)
    officer.post(f"{url}/act", data={"csrf_token": _csrf(detail.text), "action": "accept"})
    detail = officer.get(url)
    assert "已受理" in detail.text and "剩 60 个工作日" in detail.text
    reviewed = officer.post(f"{url}/act", data={"csrf_token": _csrf(detail.text), "action": "review",
                                                "decision": "approve", "idempotency_key": _form_key(detail.text)})
    assert reviewed.status_code == 200 and "data-code" not in reviewed.text
    assert 'data-state="已批准"' in officer.get(url).text
    fin = finance.get("/workflow/finance")
    finance.post("/workflow/finance/batch", data={"csrf_token": _csrf(fin.text), "idempotency_key": _form_key(fin.text)})
    fin = finance.get("/workflow/finance")
    batch_id = re.search(r'data-batch="(\d+)"', fin.text).group(1)
    bank = finance.get(f"/workflow/payment-batches/{batch_id}/bank-file.csv")
    assert bank.status_code == 200 and "#SHA256" in bank.text and bank.headers["x-checksum-sha256"] in bank.text
    transfer = bank.text.lstrip("\ufeff").splitlines()[1].split(",")[0]
    fin = finance.get("/workflow/finance")
    finance.post("/workflow/finance/bank-return", data={
        "csrf_token": _csrf(fin.text), "idempotency_key": _form_key(fin.text),
        "csv": f"转账编号,结果,到账金额（元）,银行流水号,说明\n{transfer},成功,,B0001,\n"})
    assert "data-reconciled" in finance.get("/workflow/finance").text
    mine = ent.get("/workflow/my")
    assert f'data-application="{app_id}" data-state="已拨付"' in mine.text


def test_idempotency_key_over_http(site) -> None:
    ent, officer = site["client"]("ent1"), site["client"]("kj1")
    token = _csrf(ent.get("/workflow/my").text)
    app = ent.post("/api/workflow/applications", json={"policy_id": site["pid"]}, headers={"X-CSRF-Token": token})
    assert app.status_code == 201, app.text
    app_id = app.json()["id"]
    otoken = _csrf(officer.get("/workflow/queue").text)
    h = {"X-CSRF-Token": otoken}
    assert officer.post(f"/api/workflow/applications/{app_id}/accept", json={}, headers=h).status_code == 200
    missing = officer.post(f"/api/workflow/applications/{app_id}/review", json={"decision": "approve"}, headers=h)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "workflow.idempotency_key_missing"
    first = officer.post(f"/api/workflow/applications/{app_id}/review", json={"decision": "approve"},
                         headers={**h, "Idempotency-Key": "k-1"})
    again = officer.post(f"/api/workflow/applications/{app_id}/review", json={"decision": "approve"},
                         headers={**h, "Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true" and "idempotency-replayed" not in first.headers
    other = officer.post(f"/api/workflow/applications/{app_id}/review", json={"decision": "reject", "comment": "x"},
                         headers={**h, "Idempotency-Key": "k-1"})
    assert other.status_code == 422
    illegal = officer.post(f"/api/workflow/applications/{app_id}/review", json={"decision": "approve"},
                           headers={**h, "Idempotency-Key": "k-2"})
    assert illegal.status_code == 409 and illegal.json()["error"]["details"]["state"] == "已批准"
    withdraw = ent.post(f"/api/workflow/applications/{app_id}/withdraw", json={}, headers={"X-CSRF-Token": token})
    assert withdraw.status_code == 409 and withdraw.json()["error"]["details"]["state"] == "已批准"


def test_payout_statistics_page(site) -> None:
    officer = site["client"]("kj1")
    page = officer.get("/workflow/stats")
    assert page.status_code == 200 and "兑现率" in page.text
    assert officer.get("/api/workflow/stats").json() == {"policy": [], "department": []}
