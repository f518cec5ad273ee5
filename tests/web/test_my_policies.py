"""我的政策: eligible with amount, unknown with what is missing and who holds it, each condition explained."""

from __future__ import annotations

from web_support import ELIGIBLE, UNKNOWN

HLJ_POLICY = "hlj-2021-new-above-scale-industrial"


def test_eligible_enterprise_sees_amount_and_explanation(client_for):
    body = client_for("ent_eligible").get("/api/my/matches").json()
    assert body["uscc"] == ELIGIBLE and body["as_of"] == "2021-12-01"
    assert [m["policy_id"] for m in body["eligible"]] == [HLJ_POLICY]
    match = body["eligible"][0]
    assert match["amount"] == "50.0000" and body["total_amount"] == "50.0000"
    results = {c["id"]: c["result"] for c in match["conditions"]}
    assert results == {"region": "符合", "industries": "符合", "legal_person": "符合", "newly_above_scale": "符合",
                       "not_dishonest": "符合", "not_abnormal": "符合"}
    newly = next(c for c in match["conditions"] if c["id"] == "newly_above_scale")
    assert newly["clause"] == "经统计部门审核认定新纳入规模以上工业统计范围"
    assert newly["values"] == {"是否规上/限上": "是", "纳统年份": "2021"}


def test_unknown_enterprise_sees_missing_data_and_how_to_supply_it(client_for):
    body = client_for("ent_unknown").get(f"/api/enterprises/{UNKNOWN}/matches").json()
    assert body["eligible"] == []
    (match,) = body["unknown"]
    assert match["policy_id"] == HLJ_POLICY and match["amount"] is None
    assert match["missing"] == [{
        "field": "in_safety_blacklist", "label": "是否列入安全生产黑名单", "department": "应急管理部门",
        "how_to_supply": "请应急管理部门共享“是否列入安全生产黑名单”数据，或在申报时提供相应证明材料。",
    }]
    not_abnormal = next(c for c in match["conditions"] if c["id"] == "not_abnormal")
    assert not_abnormal["result"] == "未知"
    assert not_abnormal["values"]["是否列入安全生产黑名单"] == "未知（缺数据）"


def test_page_shows_both_lists(client_for):
    html = client_for("ent_unknown").get(f"/enterprises/{UNKNOWN}/policies").text
    assert "可能符合（缺少数据）" in html and "是否列入安全生产黑名单" in html and "应急管理部门" in html
    html = client_for("ent_eligible").get(f"/enterprises/{ELIGIBLE}/policies").text
    assert 'id="total-amount"><span class="money" title="精确值：50 万元">50 万元</span><' in html and "黑龙江省新增规模以上工业企业奖励" in html


def test_expired_policies_are_not_offered(web_engine, users, results_dir):
    from datetime import date

    from web_support import login
    from fastapi.testclient import TestClient

    from qinqing.settings import Settings
    from qinqing.web.app import create_app

    later = Settings(database_url=web_engine.url.render_as_string(hide_password=False), secret_key="k", reference_date=date(2023, 6, 1),
                     results_dir=results_dir)
    client = TestClient(create_app(later, engine=web_engine))  # the 2021 policy has expired by then
    login(client, "ent_eligible")
    body = client.get("/api/my/matches").json()
    offered = {m["policy_id"] for m in body["eligible"] + body["unknown"]}
    assert HLJ_POLICY not in offered


def test_profile_shows_derived_variables_and_tags(client_for):
    body = client_for("ent_eligible").get(f"/api/enterprises/{ELIGIBLE}").json()
    assert body["region"] == "黑龙江省哈尔滨市道里区"
    assert body["fields"]["employees"] == 120
    # registry.tags: 120 employees in manufacturing → 小型; above scale since 2021 (as of 2021-12-01) → 新升规;
    # neither dishonest nor abnormal → 信用良好.
    assert body["tag_ids"] == ["small", "above_scale", "newly_above_scale", "credit_clean"]
    assert body["tags"] == ["小型企业", "规上/限上企业", "新升规企业", "信用良好"]
    assert "size_class" in body["derived"]
    html = client_for("ent_eligible").get(f"/enterprises/{ELIGIBLE}").text
    assert "企业画像" in html and "衍生指标" in html
    assert '<span class="tag" data-tag="newly_above_scale" title="成长">新升规企业</span>' in html
