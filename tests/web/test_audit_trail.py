"""操作记录 on a policy's pages and the audit API: who may read which object's trail."""

from __future__ import annotations

import pytest

HLJ_POLICY = "hlj-2021-new-above-scale-industrial"


def test_the_editor_page_shows_the_policys_trail_with_chinese_labels(client_for):
    html = client_for("officer_hlj").get(f"/officer/policies/{HLJ_POLICY}/edit").text
    assert 'id="audit-trail"' in html and "操作记录" in html
    assert 'data-action="policy.publish"' in html and ">发布<" in html and ">保存草稿<" in html
    assert "catalogue-loader" in html


@pytest.mark.parametrize(("username", "shown"), [
    ("supervisor", True), ("admin", True), ("officer_hlj", True),
    ("officer_zj", False), ("ent_eligible", False), (None, False)])
def test_the_policy_page_shows_the_trail_to_staff_who_may_read_it(client_for, username, shown):
    response = client_for(username).get(f"/policies/{HLJ_POLICY}")
    assert response.status_code == 200
    assert ('id="audit-trail"' in response.text) is shown


@pytest.mark.parametrize(("username", "status"), [
    ("supervisor", 200), ("officer_hlj", 200), ("officer_zj", 403), ("ent_eligible", 403), (None, 401)])
def test_the_api_answers_who_may_read_a_policys_trail(client_for, username, status):
    response = client_for(username).get(f"/api/audit/policy/{HLJ_POLICY}")
    assert response.status_code == status
    if status == 200:
        rows = response.json()["rows"]
        assert [r["action"] for r in rows] == ["policy.save", "policy.publish"]
        assert rows[1]["action_label"] == "发布" and rows[1]["before_hash"] == rows[0]["after_hash"]


def test_a_users_trail_is_for_supervisors_and_admins(client_for):
    rows = client_for("admin").get("/api/audit/user/officer_hlj").json()["rows"]
    assert [r["action"] for r in rows] == ["user.create"]
    assert client_for("officer_hlj").get("/api/audit/user/officer_hlj").status_code == 403
    page = client_for("supervisor").get("/audit/user/officer_hlj")
    assert page.status_code == 200 and "用户 officer_hlj" in page.text and ">创建用户<" in page.text


def test_an_officer_asking_for_an_unknown_policy_gets_404(client_for):
    assert client_for("officer_hlj").get("/api/audit/policy/no-such-policy").status_code == 404
