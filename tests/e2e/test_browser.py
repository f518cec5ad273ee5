"""Each role logs in and uses its main pages in headless Chromium; screenshots go to test-artifacts/screenshots."""

from __future__ import annotations

import pytest
from e2e_support import ELIGIBLE, UNKNOWN, screenshot

pytestmark = pytest.mark.browser


def test_enterprise_sees_its_policies_with_amounts_and_explanations(page_for):
    page = page_for("ent1")
    assert page.url.endswith(f"/enterprises/{ELIGIBLE}/policies")
    assert page.text_content("#total-amount") == "50 万元"
    page.click("details.eligible summary")
    row = page.locator("details.eligible tr", has_text="经统计部门审核认定新纳入规模以上工业统计范围")
    assert "符合" in row.text_content() and "2021" in row.text_content()
    screenshot(page, "enterprise-my-policies")
    page.click("text=企业画像")
    page.wait_for_selector("text=衍生指标")
    screenshot(page, "enterprise-profile")
    page.goto(f"/enterprises/{UNKNOWN}/policies")
    assert "无权查看其他企业的信息" in page.text_content("main")


def test_enterprise_with_missing_data_is_told_what_to_supply(page_for):
    page = page_for("ent2")
    page.click("details.unknown summary")
    assert "应急管理部门" in page.text_content("details.unknown .missing")
    screenshot(page, "enterprise-unknown")


def test_supervisor_lands_on_the_overview_and_searches_the_library(page_for):
    page = page_for("supervisor")
    assert page.url.endswith("/supervision")
    page.wait_for_selector("#chart-regions svg")
    cells = page.locator("#region-table tr[data-region='230100'] td").all_text_contents()
    assert cells == ["黑龙江省哈尔滨市", "1", "50 万元"]
    row = page.locator("#policy-table tr[data-policy='hlj-2021-new-above-scale-industrial']")
    assert "黑龙江省新增规模以上工业企业奖励" in row.text_content()
    exported = page.request.get("/api/supervision/regions.csv")
    assert exported.ok and "黑龙江省哈尔滨市" in exported.body().decode("utf-8-sig")
    screenshot(page, "supervisor-overview")
    page.click("header >> text=政策库")
    page.fill("input[name=q]", "规上 奖励")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    first = page.locator(".policy-item .title").first
    assert first.text_content() == "黑龙江省新增规模以上工业企业奖励"
    screenshot(page, "supervisor-library")
    first.click()
    assert "具有独立法人资格" in page.text_content("article")


def test_officer_writes_checks_previews_and_publishes(page_for):
    officer = page_for("officer")
    assert officer.url.endswith("/officer/policies")
    screenshot(officer, "officer-policies")
    officer.click("text=新建政策")
    for name, value in {
        "id": "e2e-new-bonus", "title": "新增规上企业追加奖励（演示）", "document": "演示文件",
        "support_type": "奖励", "valid_from": "2021-01-01", "valid_to": "2021-12-31", "budget": "100",
        "source_url": "https://example.org/e2e", "source_publisher": "演示", "source_retrieved": "2021-06-01",
        "condition_id": "newly_above_scale", "condition_clause": "2021年新纳入规模以上工业统计",
        "benefit_clause": "每户追加奖励10万元", "benefit_expr": "10", "benefit_cap": "10",
    }.items():
        officer.fill(f"[name={name}]", value)
    officer.select_option("select[name=mode]", "免申即享")
    officer.select_option("select[name=level]", "省")
    officer.fill("[name=region]", "230000")
    officer.fill("[name=condition_expr]", "is_abov_scale AND above_scale_since = 2021")
    status = officer.locator(".condition .expr-status").first
    status.filter(has_text="未知字段").wait_for()
    assert "是否想写“is_above_scale”" in status.text_content()
    screenshot(officer, "officer-editor-error")
    officer.fill("[name=condition_expr]", "is_above_scale AND above_scale_since = 2021")
    status.filter(has_text="表达式正确").wait_for()
    officer.click("#save")
    officer.wait_for_selector("text=已保存草稿")
    officer.click("#preview-link")
    officer.wait_for_selector("#chart-region svg")
    assert officer.text_content("#preview-eligible") == "2"
    screenshot(officer, "officer-preview")
    officer.click("#publish")
    officer.wait_for_selector("text=已发布“新增规上企业追加奖励（演示）”")
    officer.wait_for_selector("#rematch-done", timeout=60_000)  # the re-match job, polled by static/jobs.js
    assert "已完成" in officer.text_content("#rematch-label")
    screenshot(officer, "officer-rematch-done")

    enterprise = page_for("ent1")
    assert "新增规上企业追加奖励（演示）" in enterprise.text_content("main")
    assert enterprise.text_content("#total-amount") == "60 万元"


def test_admin_manages_users_and_sees_every_departments_policies(page_for):
    page = page_for("admin")
    assert page.url.endswith("/admin/users")
    form = page.locator("#create-user")
    form.locator("[name=username]").fill("harbin_officer")
    form.locator("[name=password]").fill("harbin-pass-1")
    form.locator("[name=display_name]").fill("哈尔滨市工信局")
    assert form.locator("[name=region_code]").is_hidden()  # bindings follow the role
    form.locator("select[name=role]").select_option("officer")
    form.locator("[name=department]").fill("哈尔滨市工业和信息化局")
    form.locator("[name=region_code]").fill("230100")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=已创建用户")
    row = page.locator("tr[data-user='harbin_officer']")
    assert "政策部门" in row.text_content() and "哈尔滨市工业和信息化局 · 230100" in row.text_content()
    screenshot(page, "admin-users")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    row.locator("form.toggle button").click()  # 停用 asks first; dismissed, nothing happens
    assert asked and "确定停用用户“harbin_officer”吗" in asked[0]
    assert page.text_content("tr[data-user='harbin_officer'] .state") == "正常"
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr[data-user='harbin_officer'] form.toggle button").click()
    page.wait_for_selector("text=已停用用户")
    assert page.text_content("tr[data-user='harbin_officer'] .state") == "已停用"
    page.click("header >> text=政策管理")
    assert page.locator("tr[data-policy]").count() >= 2
    screenshot(page, "admin-policies")
