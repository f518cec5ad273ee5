"""Chinese full-text search: tokens, BM25 by hand, "研发 补助" finds R&D subsidies."""

from __future__ import annotations

import math

import pytest
from policy_texts import RD_SUBSIDY
from web_support import csrf_of

from qinqing.search import SearchDocument, SearchIndex, tokenize
from qinqing.search.bm25 import BM25Index


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("研发费用补助", ["研发", "费用", "研发费用", "补助"]),
        ("专精特新小巨人奖励", ["专精", "专精特新", "巨人", "小巨人", "奖励"]),  # domain words kept whole, sub-words too
        ("的 和 企业", []),
    ],
)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


def test_bm25_by_hand():
    # Two documents: ["a", "b"] and ["b"]; query "a". N=2, df(a)=1 → idf = ln(1 + (2-1+0.5)/(1+0.5)) = ln 2.
    # avgdl = 1.5, doc 0 has length 2: tf=1 → ln2 * 1*(1.5+1) / (1 + 1.5*(1-0.75+0.75*2/1.5)).
    index = BM25Index([["a", "b"], ["b"]])
    expected = math.log(2) * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 2 / 1.5))
    assert index.match_scores([[("a", 1.0)]]) == [pytest.approx(expected), None]


def test_rd_subsidy_is_found_through_synonyms_and_ranked_first():
    index = SearchIndex([
        SearchDocument("rd", "企业研究开发费用资助", "对上年度研发费用达到100万元的企业给予资助"),
        SearchDocument("scale", "新增规上工业企业奖励", "纳统企业奖励50万元"),
        SearchDocument("jobs", "稳岗返还", "失业保险稳岗返还"),
    ])
    hits = index.search("研发 补助")
    assert hits[0].key == "rd"
    assert "jobs" not in [h.key for h in hits]


def test_search_through_the_api_and_filters(client_for):
    officer = client_for("officer_hlj")
    headers = {"X-CSRF-Token": csrf_of(officer.get("/officer/policies").text)}
    assert officer.post("/api/officer/policies", json={"yaml": RD_SUBSIDY}, headers=headers).status_code == 200
    assert officer.post("/api/officer/policies/test-rd-subsidy/publish", headers=headers).status_code == 200

    anyone = client_for(None)
    found = anyone.get("/api/policies", params={"q": "研发 补助"}).json()["policies"]
    assert found[0]["policy_id"] == "test-rd-subsidy"
    auto = anyone.get("/api/policies", params={"q": "研发 补助", "mode": "免申即享"}).json()["policies"]
    assert "test-rd-subsidy" not in {p["policy_id"] for p in auto}  # it is a 申报 policy
    by_region = anyone.get("/api/policies", params={"region": "330106"}).json()
    assert by_region["count"] == 0  # every test policy is 黑龙江's
    harbin = {p["policy_id"] for p in anyone.get("/api/policies", params={"region": "230102"}).json()["policies"]}
    assert "test-rd-subsidy" in harbin
    valid = {p["policy_id"] for p in anyone.get("/api/policies", params={"valid_now": "true"}).json()["policies"]}
    assert "test-rd-subsidy" in valid and "hlj-2021-new-above-scale-industrial" in valid  # as of 2021-12-01
    manufacturing = {p["policy_id"] for p in anyone.get("/api/policies", params={"industry": "C39"}).json()["policies"]}
    assert "hlj-2021-new-above-scale-industrial" in manufacturing
    retail = {p["policy_id"] for p in anyone.get("/api/policies", params={"industry": "F52"}).json()["policies"]}
    assert "hlj-2021-new-above-scale-industrial" not in retail and "test-rd-subsidy" in retail
    page = anyone.get("/policies", params={"q": "研发 补助"}).text
    assert "企业<mark>研究开发</mark>费用<mark>补助</mark>" in page  # 研究开发 stands for 研发
    detail = anyone.get("/policies/test-rd-subsidy").text
    assert "按研发费用的10%给予补助，最高不超过50万元" in detail and "https://example.org/rd" in detail
