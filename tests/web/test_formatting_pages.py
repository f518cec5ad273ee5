"""Copy on the pages (issue 16.5): numbers through the one formatter, no space after full-width
punctuation, titles instead of ids, no batch ids, headings that say whose page it is."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from web_support import ELIGIBLE, UNKNOWN

# a space after full-width punctuation, except around the " · " separator
FULL_WIDTH_THEN_SPACE = re.compile(r"[，。：；、！？）」”](?: |\u3000)+(?=[^\s·])")


class _Visible(HTMLParser):
    """The text a reader sees (no tags, attributes, scripts or styles), one string per text node."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def text_nodes(html: str) -> list[str]:
    """Each visible text node, whitespace runs collapsed (the space between two elements is layout, not copy)."""
    parser = _Visible()
    parser.feed(html)
    return [re.sub(r"\s+", " ", part).strip() for part in parser.parts if part.strip()]


PAGES = [
    (None, "/policies"),
    (None, "/policies/hlj-2021-new-above-scale-industrial"),
    ("ent_eligible", f"/enterprises/{ELIGIBLE}/policies"),
    ("ent_eligible", f"/enterprises/{ELIGIBLE}"),
    ("officer_hlj", "/officer/policies"),
    ("officer_hlj", "/officer/policies/hlj-2021-new-above-scale-industrial/preview"),
    ("supervisor", "/supervision"),
    ("admin", "/admin/users"),
]


@pytest.mark.parametrize(("user", "path"), PAGES)
def test_no_space_after_full_width_punctuation(client_for, user, path):
    response = client_for(user).get(path)
    assert response.status_code == 200
    found = [node for node in text_nodes(response.text) if FULL_WIDTH_THEN_SPACE.search(node)]
    assert found == []


@pytest.fixture
def matched(web_engine, results_dir):
    """A full matching run over the test registry (督政策 and 我的政策 read it)."""
    import pyarrow as pa
    from web_support import AS_OF, ENTERPRISES

    from qinqing.catalogue import CatalogueStore
    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import full_run
    from qinqing.rules import parse_policy_text

    policies = [parse_policy_text(e.yaml_text, e.policy_id) for e in CatalogueStore(web_engine).published()]
    store = ResultStore(results_dir)
    full_run(policies, pa.Table.from_pylist(ENTERPRISES), store, AS_OF)
    store.close()


@pytest.mark.parametrize(("user", "path"), [("supervisor", "/supervision"), ("ent_eligible", f"/enterprises/{ELIGIBLE}/policies")])
def test_pages_over_a_run(matched, client_for, user, path):
    html = client_for(user).get(path).text
    assert [node for node in text_nodes(html) if FULL_WIDTH_THEN_SPACE.search(node)] == []
    assert "匹配批次" not in "".join(text_nodes(html))
    assert '<span class="money" title="精确值：50 万元">50 万元</span>' in html  # the one eligible enterprise's 50 万元


@pytest.mark.parametrize(("user", "heading"), [("ent_eligible", "我的政策"), ("officer_hlj", "企业可享受政策"),
                                               ("supervisor", "企业可享受政策"), ("admin", "企业可享受政策")])
def test_the_heading_says_whose_policies_these_are(client_for, user, heading):
    html = client_for(user).get(f"/enterprises/{ELIGIBLE}/policies").text
    assert re.search(r"<h1>(.*?) <small>", html).group(1) == heading
    assert f"<title>{heading} · " in html


def test_the_demo_names_roles_in_chinese(web_engine):
    from qinqing.web.demo import demo_seed

    logins = demo_seed(web_engine, [ELIGIBLE, UNKNOWN], officer_department="黑龙江省工业和信息化厅",
                       officer_region="230000", password="Demo-pass-123")
    assert [login.role_label for login in logins] == ["企业用户", "企业用户", "政策部门", "督查人员", "系统管理员"]
    assert logins[2].line().startswith("政策部门") and "officer" not in logins[2].line().split()[0]


def test_after_publishing_the_notice_names_the_title_not_the_id(client_for):
    html = client_for("officer_hlj").get("/officer/policies", params={"published": "hlj-2021-new-above-scale-industrial"}).text
    assert "已发布“黑龙江省新增规模以上工业企业奖励”。" in html and "已发布 hlj-" not in html


@pytest.mark.parametrize(("path", "name", "fallback"), [
    ("/api/supervision/policies.csv", "督政策_按政策_2021-12-01.csv", "policies.csv"),
    ("/api/supervision/regions.csv", "督政策_按地区_2021-12-01.csv", "regions.csv"),
])
def test_exports_have_chinese_names(matched, client_for, path, name, fallback):
    from urllib.parse import quote

    disposition = client_for("supervisor").get(path).headers["content-disposition"]
    assert disposition == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    assert f'download="{name}"' in client_for("supervisor").get("/supervision").text


def test_a_published_policys_preview_is_not_called_a_draft(client_for):
    html = client_for("officer_hlj").get("/officer/policies/hlj-2021-new-above-scale-industrial/preview").text
    heading = re.search(r"<h1>影响预估 <small>(.*?)</small>", html).group(1)
    assert heading == "黑龙江省新增规模以上工业企业奖励（已发布版本 v1）"


def test_the_favicon_is_served_not_a_404(client_for):
    client = client_for(None)
    redirect = client.get("/favicon.ico", follow_redirects=False)
    assert redirect.status_code == 301 and redirect.headers["location"] == "/static/favicon.svg"
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in client.get("/policies").text


def test_deactivation_asks_first(client_for, users):
    html = client_for("admin").get("/admin/users").text
    form = re.search(r'<form method="post" action="/admin/users/\d+/deactivate"[^>]*>', html).group(0)
    assert 'data-confirm="确定停用用户“' in form and "API 令牌全部吊销" in form
    assert '<script src="/static/app.js" defer></script>' in html  # app.js asks (window.confirm)
