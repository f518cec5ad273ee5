"""政策库 (issue 16.4): 有效 / 未生效 / 已过期, filters read leniently with their problems reported, the
industry filter as GB/T 4754 门类 / 大类 choices, matched words marked."""

from __future__ import annotations

import re
from datetime import date

import pytest

from qinqing.web.services.labels import validity_status
from qinqing.web.services.library import highlight, industry_choices, paginate, read_filters, region_choices

NOW = "hlj-2021-new-above-scale-industrial"  # 2021-01-01 … 2021-12-31; the tests' day is 2021-12-01
LATER = "hlj-2022-tech-renovation-interest"  # 2022-03-16 … 2024-12-31: not started on 2021-12-01


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "today", "expected"),
    [
        (date(2025, 12, 17), None, date(2025, 6, 30), "未生效"),  # the case: not yet, not "expired"
        (date(2025, 12, 17), date(2026, 12, 31), date(2025, 12, 16), "未生效"),
        (date(2025, 12, 17), date(2026, 12, 31), date(2025, 12, 17), "有效"),  # first day included
        (date(2025, 12, 17), date(2026, 12, 31), date(2026, 12, 31), "有效"),  # last day included
        (date(2025, 12, 17), date(2026, 12, 31), date(2027, 1, 1), "已过期"),
        (date(2020, 1, 1), None, date(2030, 1, 1), "有效"),  # 长期
    ],
)
def test_validity_status(valid_from, valid_to, today, expected):
    assert validity_status(valid_from, valid_to, today) == expected


@pytest.mark.parametrize(
    ("params", "field", "value", "problem"),
    [
        ({"valid_now": "maybe"}, "status", "", "“仅看有效期内”的取值“maybe”无法识别"),
        ({"valid_now": "true"}, "status", "valid", None),
        ({"valid_now": "on"}, "status", "valid", None),
        ({"valid_now": "false"}, "status", "", None),
        ({"status": "upcoming"}, "status", "upcoming", None),
        ({"status": "未生效"}, "status", "upcoming", None),
        ({"status": "soon"}, "status", "", "状态“soon”无效"),
        ({"industry": "c39"}, "industry", "C39", None),
        ({"industry": "3911"}, "industry", "C3911", None),  # bare digits get their 门类 letter
        ({"industry": "C99"}, "industry", "", "大类“99”不存在"),
        ({"industry": "制造"}, "industry", "", "格式无效"),
        ({"level": "乡镇"}, "level", "", "层级“乡镇”无效"),
        ({"mode": "申报"}, "mode", "申报", None),
        ({"region": "999999"}, "region", "", "地区代码“999999”无效"),
        ({"region": "230102"}, "region", "230102", None),
    ],
)
def test_read_filters_is_lenient_and_says_what_it_left_out(params, field, value, problem):
    filters = read_filters(params)
    assert getattr(filters, field) == value
    if problem is None:
        assert filters.problems == ()
    else:
        (message,) = filters.problems
        assert problem in message and "未按" in message


def test_industry_choices_are_the_20_sections_with_their_divisions():
    choices = industry_choices()
    assert [c[0] for c in choices] == list("ABCDEFGHIJKLMNOPQRST")  # GB/T 4754-2017: 20 门类
    assert sum(len(c[2]) for c in choices) == 97  # and 97 大类
    manufacturing = {c[0]: c for c in choices}["C"]
    assert manufacturing[1] == "制造业" and ("C39", "计算机、通信和其他电子设备制造业") in manufacturing[2]


@pytest.mark.parametrize(
    ("text", "words", "html"),
    [
        ("研发费用补助", ("研发费用", "补助"), "<mark>研发费用</mark><mark>补助</mark>"),
        ("<b>研发</b>", ("研发",), "&lt;b&gt;<mark>研发</mark>&lt;/b&gt;"),  # the text is escaped
        ("稳岗", (), "稳岗"),
    ],
)
def test_highlight_marks_and_escapes(text, words, html):
    assert str(highlight(text, words)) == html


def _statuses(page: str) -> dict[str, str]:
    return dict(re.findall(r'href="/policies/([^"?]+)[^"]*".*?data-status="([^"]+)"', page, re.DOTALL))


def test_a_policy_not_started_is_labelled_not_yet_valid(client_for):
    page = client_for(None).get("/policies").text
    assert _statuses(page) == {NOW: "有效", LATER: "未生效"}
    detail = client_for(None).get(f"/policies/{LATER}").text
    assert 'data-status="未生效"' in detail and "已过期" not in detail


@pytest.mark.parametrize(
    ("status", "expected"),
    [("valid", {NOW}), ("upcoming", {LATER}), ("expired", set()), ("", {NOW, LATER})],
)
def test_status_filter(client_for, status, expected):
    answer = client_for(None).get("/api/policies", params={"status": status}).json()
    assert {p["policy_id"] for p in answer["policies"]} == expected
    assert all(p["status"] == {"valid": "有效", "upcoming": "未生效"}[status] for p in answer["policies"] if status)


def test_an_unreadable_filter_is_reported_on_the_page_not_a_422(client_for):
    response = client_for(None).get("/policies", params={"valid_now": "maybe", "industry": "C99"})
    assert response.status_code == 200
    assert "“仅看有效期内”的取值“maybe”无法识别" in response.text and "大类“99”不存在" in response.text
    assert _statuses(response.text) == {NOW: "有效", LATER: "未生效"}  # the other filters still apply


def test_the_api_refuses_an_unreadable_filter_with_its_reason(client_for):
    response = client_for(None).get("/api/policies", params={"industry": "Z1"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "web.invalid_filter" and "未按行业筛选" in error["message"]


def test_the_industry_dropdown_keeps_the_choice_and_filters(client_for):
    page = client_for(None).get("/policies", params={"industry": "F52"}).text
    assert re.search(r'<select name="industry".*?<option value="F52" selected>零售业</option>', page, re.DOTALL)
    assert _statuses(page) == {}  # both Heilongjiang policies are for industry (B, C, D) only
    assert set(_statuses(client_for(None).get("/policies", params={"industry": "3911"}).text)) == {NOW, LATER}


def test_matched_words_are_marked_in_results(client_for):
    page = client_for(None).get("/policies", params={"q": "技改 贴息"}).text
    assert set(_statuses(page)) == {LATER}  # the new-above-scale award has no 贴息
    assert "<mark>技术改造</mark>" in page and "<mark>贴息</mark>" in page


@pytest.mark.parametrize(
    ("codes", "tree"),
    [
        (["330106", "350000", "100000"],  # 西湖区 brings 浙江省 and 杭州市 above it; 全国 first
         [("100000", "全国", 0), ("330000", "浙江省", 0), ("330100", "杭州市", 1), ("330106", "西湖区", 2),
          ("350000", "福建省", 0)]),
        (["230000"], [("230000", "黑龙江省", 0)]),
        (["999999"], []),  # not a GB/T 2260 code: not offered
    ],
)
def test_region_choices_are_a_tree(codes, tree):
    assert region_choices(codes) == tree


def test_the_region_dropdown_is_indented_by_level(client_for):
    page = client_for(None).get("/policies", params={"region": "230000"}).text
    assert '<option value="230000" selected>黑龙江省</option>' in page


@pytest.mark.parametrize(
    ("count", "page", "shown", "number", "pages"),
    [
        (45, "1", range(20), 1, 3),
        (45, "3", range(40, 45), 3, 3),
        (45, "9", range(40, 45), 3, 3),  # past the end: the last page
        (45, "x", range(20), 1, 3),  # not a number: the first
        (45, "-2", range(20), 1, 3),
        (40, "2", range(20, 40), 2, 2),
        (0, "1", range(0), 1, 1),
    ],
)
def test_paginate(count, page, shown, number, pages):
    pager = paginate(list(range(count)), page, per_page=20)
    assert (pager.items, pager.page, pager.pages, pager.total) == (list(shown), number, pages, count)


@pytest.mark.parametrize(("pages", "page", "window"), [(10, 5, [1, 3, 4, 5, 6, 7, 10]), (10, 1, [1, 2, 3, 10]),
                                                      (1, 1, [1]), (3, 3, [1, 2, 3])])
def test_pager_window(pages, page, window):
    assert paginate(list(range(pages)), page, per_page=1).window() == window


def test_the_library_pages(client_for, monkeypatch):
    from qinqing.web.services import library

    monkeypatch.setattr(library, "PER_PAGE", 1)  # the two Heilongjiang policies on two pages
    first = client_for(None).get("/policies", params={"status": "", "page": "1"}).text
    second = client_for(None).get("/policies", params={"page": "2"}).text
    assert set(_statuses(first)) == {LATER} and set(_statuses(second)) == {NOW}  # newest first
    assert "共 2 项政策（第 1/2 页）" in first and 'rel="next"' in first and "page=2" in first
    assert 'rel="prev"' in second and 'aria-current="page">2<' in second
    assert set(_statuses(client_for(None).get("/policies", params={"page": "abc"}).text)) == {LATER}


def test_a_policy_opened_from_a_search_marks_the_words(client_for):
    listing = client_for(None).get("/policies", params={"q": "技改 贴息"}).text
    assert f'href="/policies/{LATER}?q=%E6%8A%80%E6%94%B9%20%E8%B4%B4%E6%81%AF"' in listing
    page = client_for(None).get(f"/policies/{LATER}", params={"q": "技改 贴息"}).text
    assert re.search(r"<h1>.*<mark>技术改造</mark><mark>贴息</mark></h1>", page)
    plain = client_for(None).get(f"/policies/{LATER}").text
    assert "<mark>" not in plain


@pytest.mark.parametrize(("params", "ids"), [
    ({}, [LATER, NOW]),  # newest first, all
    ({"limit": "1"}, [LATER]),
    ({"offset": "1"}, [NOW]),
    ({"offset": "1", "limit": "5"}, [NOW]),
    ({"offset": "2"}, []),
])
def test_the_api_pages_with_offset_and_limit(client_for, params, ids):
    answer = client_for(None).get("/api/policies", params=params).json()
    assert answer["count"] == 2 and [p["policy_id"] for p in answer["policies"]] == ids
