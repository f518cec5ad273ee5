"""Publishing is one unit (issue 10) and officers publish within their remit (issue 12): a policy that
cannot compile, whose amount can be negative or overflow, never becomes published; an officer's policy
wider than the department's region, issuer or level needs a supervisor's approval; over budget needs a
confirmed reason, kept in the publication log."""

from __future__ import annotations

import pytest
from policy_texts import NEW_ABOVE_SCALE_BONUS, RD_SUBSIDY
from web_support import HLJ_DEPARTMENT, csrf_of

from qinqing.catalogue import CatalogueStore, load_directory
from qinqing.catalogue.admission import admission_problems
from qinqing.catalogue.errors import DraftChanged, PolicyInvalid
from qinqing.catalogue.remit import region_level, remit_problems
from qinqing.rules import parse_policy_text

NEGATIVE = RD_SUBSIDY.replace("expr: rd_expense * 0.1", "expr: employees * -1").replace("  cap: 50\n", "")
OVERFLOW = RD_SUBSIDY.replace("expr: rd_expense * 0.1", 'expr: "999999999999999999"').replace("  cap: 50\n", "")


def _headers(client) -> dict:
    return {"X-CSRF-Token": csrf_of(client.get("/officer/policies").text)}


@pytest.mark.parametrize("text, words", [(NEGATIVE, "负"), (OVERFLOW, "超过")], ids=["negative", "overflow"])
def test_an_amount_that_can_be_negative_or_overflow_is_never_saved_nor_published(web_engine, text, words):
    store = CatalogueStore(web_engine)
    with pytest.raises(PolicyInvalid) as error:
        store.save(text, department=HLJ_DEPARTMENT, author="t")
    assert any(words in p.message for p in error.value.problems), error.value.problems
    assert "test-rd-subsidy" not in {e.policy_id for e in store.drafts()}


def test_catalogue_load_refuses_the_bad_files_and_publishes_the_rest(web_engine, tmp_path):
    (tmp_path / "good.yaml").write_text(RD_SUBSIDY, encoding="utf-8")
    (tmp_path / "negative.yaml").write_text(NEGATIVE.replace("test-rd-subsidy", "test-negative"), encoding="utf-8")
    (tmp_path / "overflow.yaml").write_text(OVERFLOW.replace("test-rd-subsidy", "test-overflow"), encoding="utf-8")
    store = CatalogueStore(web_engine)
    report = load_directory(store, tmp_path)
    assert report.added == ["test-rd-subsidy"]
    assert sorted(report.errors) == [str(tmp_path / "negative.yaml"), str(tmp_path / "overflow.yaml")]
    published = {e.policy_id for e in store.published()}
    assert "test-rd-subsidy" in published and not {"test-negative", "test-overflow"} & published
    again = load_directory(store, tmp_path)
    assert again.unchanged == ["test-rd-subsidy"] and not again.added and not again.changed
    (tmp_path / "good.yaml").write_text(RD_SUBSIDY.replace("最高不超过50万元", "最高不超过60万元"), encoding="utf-8")
    assert load_directory(store, tmp_path).changed == ["test-rd-subsidy"]
    assert store.get("test-rd-subsidy", published=True).version == 2


def test_a_policy_that_does_not_compile_is_refused_by_admission():
    """The checker's verdict is not the last word: admission compiles for every engine. A policy object
    whose condition cannot be parsed (as if the language changed after it was checked) is refused."""
    good = parse_policy_text(RD_SUBSIDY)
    broken = good.model_copy(update={"conditions": (good.conditions[0].model_copy(update={"expr": "rd_expense >>> 1"}),)})
    assert admission_problems(good) == []
    problems = admission_problems(broken)
    assert problems and all("无法编译" in p.message for p in problems)


def test_every_shipped_policy_passes_admission():
    from qinqing.rules import load_policies

    policies, errors = load_policies(["policies"])
    assert not errors
    refused = {p.id: admission_problems(p) for p in policies}
    assert {k: v for k, v in refused.items() if v} == {}


def test_a_stale_draft_version_is_not_published(web_engine):
    store = CatalogueStore(web_engine)
    first = store.save(RD_SUBSIDY, department=HLJ_DEPARTMENT, author="t")
    store.save(RD_SUBSIDY.replace("最高不超过50万元", "最高不超过60万元"), department=HLJ_DEPARTMENT, author="t")
    with pytest.raises(DraftChanged):
        store.publish("test-rd-subsidy", expected_version=first.version)
    assert store.get("test-rd-subsidy").published_version is None


@pytest.mark.parametrize("code, level", [("100000", "国家"), ("330000", "省"), ("330100", "市"), ("330106", "区县"),
                                         ("350205", "区县")])
def test_region_levels(code, level):
    assert region_level(code) == level


@pytest.mark.parametrize("changes, fields", [
    ({}, []),
    ({'region: "230000"': 'region: "350000"'}, ["region"]),  # all of 福建 from 黑龙江's department
    ({'region: "230000"': 'region: "100000"', "level: 省": "level: 国家"}, ["region"]),
    ({"issuer: 黑龙江省工业和信息化厅": "issuer: 国务院"}, ["issuer"]),
    ({"level: 省": "level: 市"}, ["level"]),
    ({'region: "230000"': 'region: "230100"', "level: 省": "level: 市"}, []),  # a city inside the province
], ids=["own", "other-province", "national", "issuer", "level", "city-within"])  # fmt: skip
def test_remit_of_a_provincial_department(changes, fields):
    text = RD_SUBSIDY
    for old, new in changes.items():
        text = text.replace(old, new)
    problems = remit_problems(parse_policy_text(text), HLJ_DEPARTMENT, "230000")
    assert sorted(p.path for p in problems) == fields


def test_an_officer_cannot_publish_beyond_the_remit_without_a_supervisor(client_for, web_engine):
    """Finding: the 海沧区 officer published for all of 福建, and in the name of 国务院 for the whole country."""
    officer, supervisor = client_for("officer_hlj"), client_for("supervisor")
    wide = NEW_ABOVE_SCALE_BONUS.replace('region: "230000"', 'region: "100000"').replace("level: 省", "level: 国家")
    headers = _headers(officer)
    assert officer.post("/api/officer/policies", json={"yaml": wide}, headers=headers).status_code == 200
    refused = officer.post("/api/officer/policies/test-new-bonus/publish", json={}, headers=headers)
    assert refused.status_code == 403, refused.text
    assert "超出本部门的发布权限" in refused.json()["error"]["message"]
    assert CatalogueStore(web_engine).get("test-new-bonus").published_version is None

    sup_headers = {"X-CSRF-Token": csrf_of(supervisor.get("/").text)}
    no_reason = supervisor.post("/api/supervisor/policies/test-new-bonus/approve-remit", json={"reason": " "},
                                headers=sup_headers)
    assert no_reason.status_code == 422
    assert officer.post("/api/supervisor/policies/test-new-bonus/approve-remit", json={"reason": "我批准"},
                        headers=headers).status_code == 403
    approved = supervisor.post("/api/supervisor/policies/test-new-bonus/approve-remit",
                               json={"reason": "全国性政策，经督查审核同意"}, headers=sup_headers)
    assert approved.status_code == 200, approved.text
    assert officer.post("/api/officer/policies/test-new-bonus/publish", json={}, headers=headers).status_code == 200
    (log,) = CatalogueStore(web_engine).publications("test-new-bonus")
    assert (log["published_by"], log["approved_by"], log["version"]) == ("officer_hlj", "supervisor", 1)


def test_over_budget_needs_a_confirmed_reason_kept_in_the_log(client_for, web_engine):
    """Finding: a policy 37× over budget published with one click."""
    officer = client_for("officer_hlj")
    headers = _headers(officer)
    tiny = NEW_ABOVE_SCALE_BONUS.replace("valid_to: 2021-12-31\n", "valid_to: 2021-12-31\nbudget: 1\n")
    # the one eligible enterprise alone gets 10 万元, ten times the budget
    assert officer.post("/api/officer/policies", json={"yaml": tiny}, headers=headers).status_code == 200
    refused = officer.post("/api/officer/policies/test-new-bonus/publish", json={}, headers=headers)
    assert refused.status_code == 409 and "超出预算" in refused.json()["error"]["message"], refused.text
    unreasoned = officer.post("/api/officer/policies/test-new-bonus/publish",
                              json={"confirm_over_budget": True, "reason": ""}, headers=headers)
    assert unreasoned.status_code == 409
    page = officer.post("/officer/policies/test-new-bonus/publish", data={"csrf_token": headers["X-CSRF-Token"]})
    assert page.status_code == 409 and 'id="confirm-over-budget"' in page.text and "超出预算" in page.text
    ok = officer.post("/api/officer/policies/test-new-bonus/publish",
                      json={"confirm_over_budget": True, "reason": "年度追加预算已获批", "version": 1}, headers=headers)
    assert ok.status_code == 200, ok.text
    (log,) = CatalogueStore(web_engine).publications("test-new-bonus")
    assert (log["over_budget"], log["reason"], log["published_by"]) == (True, "年度追加预算已获批", "officer_hlj")


def test_publishing_a_version_other_than_the_previewed_one_is_a_conflict(client_for):
    officer = client_for("officer_hlj")
    headers = _headers(officer)
    officer.post("/api/officer/policies", json={"yaml": NEW_ABOVE_SCALE_BONUS}, headers=headers)
    stale = officer.post("/api/officer/policies/test-new-bonus/publish", json={"version": 7}, headers=headers)
    assert stale.status_code == 409 and "重新预览" in stale.json()["error"]["message"]


def test_the_shipped_policies_levels_match_their_regions():
    """Every shipped policy's level matches its region (what the remit rule assumes of real documents)."""
    from qinqing.rules import load_policies

    policies, _ = load_policies(["policies"])
    wrong = {p.id: (p.level, p.region) for p in policies if region_level(p.region) not in (None, p.level)}
    assert wrong == {}

