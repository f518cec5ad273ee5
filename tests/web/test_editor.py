"""The officer's console: expressions checked as typed, form save, impact preview, publish → enterprises see it."""

from __future__ import annotations

import re

import pytest
from policy_texts import NEW_ABOVE_SCALE_BONUS
from web_support import ELIGIBLE, csrf_of

from qinqing.web.services.expressions import check_expression
from qinqing.web.services.policy_form import PolicyForm

HLJ_POLICY = "hlj-2021-new-above-scale-industrial"


@pytest.mark.parametrize(
    ("expr", "kind", "message_part", "line", "column"),
    [
        ("revenu > 100", "condition", "未知字段“revenu”，是否想写“revenue”？", 1, 1),
        ("revenue > ", "condition", "语法错误", 1, 9),
        ("revenue + 1", "condition", "条件必须是判断", 1, 1),
        ("read_csv('/etc/passwd')", "condition", "不支持函数 READ_CSV()", 1, 1),
        ("is_dishonest", "benefit", "奖补金额必须是数值", 1, 1),
        ("revenue >= 100 AND\n  revenu > 1", "condition", "未知字段“revenu”", 2, 3),
    ],
)
def test_expression_problems_carry_the_chinese_message_and_place(expr, kind, message_part, line, column):
    (problem,) = check_expression(expr, kind)
    assert message_part in problem.message
    assert (problem.line, problem.column) == (line, column)


@pytest.mark.parametrize(("expr", "kind"), [("revenue >= 100 AND NOT is_dishonest", "condition"),
                                            ("LEAST(rd_expense * 0.1, 50)", "benefit")])
def test_good_expressions_pass(expr, kind):
    assert check_expression(expr, kind) == []


def test_check_expression_api(client_for):
    client = client_for("officer_hlj")
    headers = {"X-CSRF-Token": csrf_of(client.get("/officer/policies").text)}
    bad = client.post("/api/officer/check-expression", json={"expr": "revenu > 1"}, headers=headers).json()
    assert bad["ok"] is False and "revenue" in bad["problems"][0]["message"]
    good = client.post("/api/officer/check-expression", json={"expr": "revenue > 1"}, headers=headers).json()
    assert good == {"ok": True, "problems": []}


def test_form_round_trips_a_catalogue_policy(web_engine):
    from qinqing.catalogue import CatalogueStore
    from qinqing.catalogue.parse import parse_policy

    policy = parse_policy(CatalogueStore(web_engine).get(HLJ_POLICY).yaml_text)
    assert parse_policy(PolicyForm.from_policy(policy).to_yaml()) == policy


def _form(policy_yaml: str, csrf: str, **changes) -> dict:
    from qinqing.catalogue.parse import parse_policy

    form = PolicyForm.from_policy(parse_policy(policy_yaml))
    data = {k: getattr(form, k) for k in form.__dataclass_fields__ if k != "conditions"}
    data.update(condition_id=[c.id for c in form.conditions], condition_clause=[c.clause for c in form.conditions],
                condition_expr=[c.expr for c in form.conditions], csrf_token=csrf)
    data.update(changes)
    return data


def test_saving_a_form_with_a_mistake_shows_the_message_and_keeps_the_input(client_for, web_engine):
    client = client_for("officer_hlj")
    csrf = csrf_of(client.get("/officer/policies/new").text)
    response = client.post("/officer/policies", data=_form(NEW_ABOVE_SCALE_BONUS, csrf, condition_expr=["is_abov_scale"]))
    assert response.status_code == 422
    assert "未知字段“is_abov_scale”" in response.text and 'value="is_abov_scale"' in response.text


def test_preview_publish_and_the_enterprise_sees_the_new_policy(client_for):
    officer = client_for("officer_hlj")
    csrf = csrf_of(officer.get("/officer/policies/new").text)
    saved = officer.post("/officer/policies", data=_form(NEW_ABOVE_SCALE_BONUS, csrf), follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/officer/policies/test-new-bonus/edit?saved=1"

    enterprise = client_for("ent_eligible")
    assert "test-new-bonus" not in enterprise.get("/api/my/matches").text  # a draft reaches nobody

    # Hand-worked on the test registry: both 哈尔滨 enterprises entered the list in 2021 (10 万元 each);
    # the 浙江 one is outside the region.
    preview = officer.get("/api/officer/policies/test-new-bonus/preview").json()
    assert (preview["eligible"], preview["unknown"], preview["ineligible"]) == (2, 0, 1)
    assert preview["amount_total"] == "20.0000"
    assert [(b["low"], b["high"], b["eligible"]) for b in preview["amount_bands"]] == [("10.0000", "10.0000", 2)]
    assert preview["by_industry"] == [{"section": "C 制造业", "eligible": 2}]
    page = officer.get("/officer/policies/test-new-bonus/preview").text
    text = re.sub(r"<[^>]+>", "", page)  # amounts are spans with the exact value as their title
    assert "预计兑现金额" in text and "每家金额：最低 10 万元 · " in text and "最高 10 万元" in text

    published = officer.post("/officer/policies/test-new-bonus/publish", data={"csrf_token": csrf},
                             follow_redirects=False)
    assert published.status_code == 303
    mine = enterprise.get("/api/my/matches").json()
    bonus = next(m for m in mine["eligible"] if m["policy_id"] == "test-new-bonus")
    assert bonus["amount"] == "10.0000" and mine["total_amount"] == "60.0000"
    assert ELIGIBLE == mine["uscc"]


def test_officer_list_shows_only_own_department(client_for):
    hlj = client_for("officer_hlj").get("/api/officer/policies").json()["policies"]
    assert {p["policy_id"] for p in hlj} == {HLJ_POLICY}  # the 2022 policy was issued by the provincial government
    assert client_for("officer_zj").get("/api/officer/policies").json()["policies"] == []


def test_with_a_results_store_publishing_rematches_the_policy(app, client_for, web_engine):
    from web_support import AS_OF
    from policy_texts import NEW_ABOVE_SCALE_BONUS

    from qinqing.matching.run import full_run
    from qinqing.registry.store import to_arrow

    services = app.state.services
    full_run(services.library.policies(), to_arrow(web_engine), services.results, AS_OF)
    enterprise = client_for("ent_eligible")
    before = enterprise.get("/api/my/matches").json()
    assert before["source"].startswith("results store run ") and before["total_amount"] == "50.0000"

    officer = client_for("officer_hlj")
    headers = {"X-CSRF-Token": csrf_of(officer.get("/officer/policies").text)}
    assert officer.post("/api/officer/policies", json={"yaml": NEW_ABOVE_SCALE_BONUS}, headers=headers).status_code == 200
    published = officer.post("/api/officer/policies/test-new-bonus/publish", headers=headers)
    assert published.status_code == 200  # at once: the re-match is a job
    progress = officer.get(published.json()["rematch_url"]).json()
    assert progress["busy"] and progress["label"] == "重新匹配：排队中"
    assert progress["no_worker"] and "qinqing worker" in progress["hint"]  # nothing runs jobs in this test yet
    assert "test-new-bonus" not in {m.policy_id for m in services.results.matches_for(ELIGIBLE)}
    ran = services.worker.run_until_idle()  # the in-process worker runs it (and the seed's publications)
    progress = officer.get(published.json()["rematch_url"]).json()
    assert not progress["busy"] and progress["jobs"][0]["status"] == "done" and progress["jobs"][0]["id"] in ran
    assert progress["jobs"][0]["result"]["eligible"] >= 1 and progress["label"].startswith("重新匹配已完成：符合")
    assert "匹配结果已更新" in officer.get("/officer/policies/test-new-bonus/edit").text
    job = progress["jobs"][0]
    assert officer.get(f"/api/jobs/{job['id']}").json()["status"] == "done"
    assert client_for("supervisor").get(f"/api/jobs/{job['id']}").json()["id"] == job["id"]
    assert client_for("officer_zj").get(f"/api/jobs/{job['id']}").status_code == 403  # another department's
    assert officer.get("/api/jobs/999999").status_code == 404
    assert enterprise.get(f"/api/jobs/{job['id']}").status_code == 403
    assert {m.policy_id for m in services.results.matches_for(ELIGIBLE)} >= {"test-new-bonus"}
    after = enterprise.get("/api/my/matches").json()
    assert after["total_amount"] == "60.0000"
