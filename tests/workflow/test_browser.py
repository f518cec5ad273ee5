"""兑政策 in headless Chromium (Debian's, through Playwright): an enterprise applies with pre-filled data and no
material for a data-verified condition → the officer accepts and approves → finance pays in a batch and
imports the bank's return → the enterprise sees 已拨付; and a 免申即享 batch from 公示 to payment.
Screenshots of each role's pages go to test-artifacts/screenshots/workflow-*.png."""

from __future__ import annotations

import os
import socket
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import FINANCE, OFFICER, enterprises, policy_text, publish, service

from qinqing.accounts import AccountService, Role
from qinqing.db import make_engine, migrate

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("QINQING_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PASSWORD = "correct-horse-9"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import uvicorn
    from helpers import TODAY

    from qinqing.settings import Settings
    from qinqing.web.app import create_app

    directory = tmp_path_factory.mktemp("wf-e2e")
    url = f"sqlite:///{directory / 'wf.db'}"
    migrate(url)
    engine = make_engine(url)
    pid = publish(engine, policy_text(), department="科技局")
    auto = publish(engine, policy_text("auto-2025-grant", mode="免申即享", amount="5", budget="50",
                                       review="review: {objection_days: 1}"), department="科技局")
    codes = enterprises(engine, 2)
    svc = service(engine)
    svc.fund_from_catalogue(FINANCE, pid)
    svc.fund_from_catalogue(FINANCE, auto)
    svc.create_grant_batch(OFFICER, auto, idempotency_key="e2e", candidates=[
        {"uscc": codes[1], "amount": Decimal(5), "run_id": "run-e2e"}])
    accounts = AccountService(engine)
    accounts.create_user("ent1", PASSWORD, Role.ENTERPRISE, "测试企业0", uscc=codes[0])
    accounts.create_user("ent2", PASSWORD, Role.ENTERPRISE, "测试企业1", uscc=codes[1])
    accounts.create_user("kj1", PASSWORD, Role.OFFICER, "科技局审核员", department="科技局", region_code="350100")
    accounts.create_user("cz1", PASSWORD, Role.OFFICER, "财政局", department="财政局", region_code="350100")
    clock = {"today": TODAY}
    app = create_app(Settings(database_url=url, secret_key="e2e", reference_date=TODAY, results_dir=directory / "r"),
                     engine=engine)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}", "pid": pid, "auto": auto, "codes": codes, "app": app, "clock": clock}
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(session_chromium):
    """The session's one chromium (tests/conftest.py)."""
    return session_chromium


@pytest.fixture
def page_for(browser, site):
    contexts = []

    def make(username: str):
        context = browser.new_context(base_url=site["base"], locale="zh-CN", viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield make
    for c in contexts:
        c.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"workflow-{name}.png"), full_page=True)


def _act(page, label: str) -> None:
    page.get_by_role("button", name=label).first.click()
    page.wait_for_load_state("networkidle")


def _pay_everything(finance) -> None:
    finance.goto("/workflow/finance")
    _act(finance, "生成拨付批次")
    batch = finance.locator("[data-batch]").first.get_attribute("data-batch")
    text = finance.request.get(f"/workflow/payment-batches/{batch}/bank-file.csv").text()
    keys = [line.split(",")[0] for line in text.lstrip("\ufeff").splitlines()[1:] if not line.startswith("#")]
    finance.fill("textarea[name=csv]", "转账编号,结果\n" + "\n".join(f"{k},成功" for k in keys))
    _act(finance, "导入回单")


def test_apply_approve_pay_in_a_batch_and_see_it_paid(site, page_for) -> None:
    ent = page_for("ent1")
    ent.goto(f"/workflow/apply/{site['pid']}")
    assert ent.locator("[data-zero-material]").count() == 1  # every condition verified by data: no material
    assert ent.locator("[data-condition=has_rd][data-result=符合]").count() == 1
    ent.fill("input[name=account_no]", "6222020200112233")
    ent.fill("input[name=bank]", "工商银行福州分行")
    shot(ent, "enterprise-apply")
    _act(ent, "提交申报")
    url = ent.url
    assert "已提交" in ent.locator("h1").inner_text()

    officer = page_for("kj1")
    officer.goto("/workflow/queue")
    shot(officer, "reviewer-queue")
    officer.goto(url)
    _act(officer, "受理")
    officer.fill("textarea[name=comment]", "数据核验无误")
    shot(officer, "reviewer-review")
    _act(officer, "批准")
    assert "已批准" in officer.locator("h1").inner_text()

    finance = page_for("cz1")
    _pay_everything(finance)
    assert finance.locator("[data-reconciled]").count() == 1
    shot(finance, "finance-batches")

    ent.goto("/workflow/my")
    assert ent.locator("[data-state=已拨付]").count() == 1
    shot(ent, "enterprise-my-applications")


def test_an_auto_grant_from_publicity_to_payment(site, page_for) -> None:
    ent = page_for("ent2")
    ent.goto("/workflow/my")
    row = ent.locator("[data-state=公示中]")
    assert row.count() == 1
    app_id = row.get_attribute("data-application")
    ent.goto(f"/workflow/applications/{app_id}")
    shot(ent, "enterprise-auto-grant-publicity")
    token = ent.locator("meta[name=csrf-token]").get_attribute("content")
    registered = ent.request.post("/api/workflow/accounts", headers={"X-CSRF-Token": token}, data={
        "account_name": "测试企业1有限公司", "account_no": "6222020200445566", "bank": "建设银行"})
    assert registered.status == 201, registered.text()
    ent.reload()
    _act(ent, "确认收款账户")
    assert "已确认" in ent.locator("h1").inner_text()
    from datetime import date

    svc = site["app"].state.workflow
    svc.today = lambda: date(2025, 7, 2)  # the 公示 window (1 working day) is over
    officer = page_for("kj1")
    officer.goto(f"/workflow/applications/{app_id}")
    _act(officer, "批准")
    assert "已批准" in officer.locator("h1").inner_text()
    _pay_everything(page_for("cz1"))
    ent.goto("/workflow/my")
    assert ent.locator(f"[data-application='{app_id}'][data-state=已拨付]").count() == 1
