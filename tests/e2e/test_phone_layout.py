"""Every role's main page at a phone's width (390×844) and a desktop's (1280×800), in headless Chromium
(issue 16.6): nothing overflows the viewport sideways, the navigation never wraps one character per line
(on a phone it folds behind 菜单), 条件一 stays one word. Screenshots: test-artifacts/screenshots/phone/."""

from __future__ import annotations

import pytest
from e2e_support import ELIGIBLE, PASSWORD, SCREENSHOTS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
MAIN_PAGES = {  # each role's landing page
    "ent1": f"/enterprises/{ELIGIBLE}/policies",  # 我的政策
    "officer": "/officer/policies",  # 政策管理
    "supervisor": "/supervision",  # 督政策
    "admin": "/admin/users",  # 用户管理
}
OUT = SCREENSHOTS / "phone"

# Elements reaching past the viewport's right edge that are not inside a box which scrolls or clips
# sideways (a table scrolling within its card is fine; the page itself scrolling sideways is not).
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || (r.right <= width + 1 && r.left >= -1)) continue;
    let p = el.parentElement, clipped = false;
    while (p && p !== document.body) {
      if (getComputedStyle(p).overflowX !== "visible") { clipped = true; break; }
      p = p.parentElement;
    }
    if (!clipped) bad.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} right=${Math.round(r.right)}`);
  }
  return {width, scrollWidth: document.documentElement.scrollWidth, bad: bad.slice(0, 10)};
}"""

# Visible elements whose text runs over more than one line (a nav link, 条件一): the lines of its
# content, counted by the distinct tops of its text's boxes.
WRAPPED_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter(el => el.getClientRects().length > 0)
  .filter(el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
  })
  .map(el => el.textContent.trim())"""


@pytest.fixture
def page_at(browser, server):
    """page_at("ent1", PHONE) → a page logged in as that user in a viewport of that size."""
    contexts = []

    def make(username: str, viewport: dict):
        context = browser.new_context(base_url=server, locale="zh-CN", viewport=viewport,
                                      is_mobile=viewport["width"] < 500, has_touch=viewport["width"] < 500)
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


def _fits(page) -> None:
    found = page.evaluate(OVERFLOW_JS)
    assert found["bad"] == [] and found["scrollWidth"] <= found["width"], (page.url, found)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
@pytest.mark.parametrize("username", list(MAIN_PAGES))
def test_main_page_fits_and_the_navigation_reads(page_at, username, viewport):
    page = page_at(username, viewport)
    assert page.url.endswith(MAIN_PAGES[username])
    page.wait_for_load_state("networkidle")
    OUT.mkdir(parents=True, exist_ok=True)
    size = f"{viewport['width']}x{viewport['height']}"
    page.screenshot(path=str(OUT / f"{username}-{size}.png"), full_page=True)
    _fits(page)
    if viewport is PHONE:
        assert page.is_visible("#nav-toggle") and not page.is_visible("header nav")  # folded
        page.click("#nav-toggle")
        assert page.is_visible("header nav") and page.get_attribute("#nav-toggle", "aria-expanded") == "true"
        page.screenshot(path=str(OUT / f"{username}-{size}-menu.png"))
        _fits(page)
    else:
        assert not page.is_visible("#nav-toggle")
    links = page.locator("header nav a").all_text_contents()
    assert links and page.evaluate(WRAPPED_JS, "header nav a") == [], links  # each link on one line


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_conditions_keep_their_label_whole(page_at, viewport):
    page = page_at("ent1", viewport)
    page.click("details.eligible summary")
    assert page.evaluate(WRAPPED_JS, ".condition-number") == []
    _fits(page)
    size = f"{viewport['width']}x{viewport['height']}"
    page.screenshot(path=str(OUT / f"ent1-explanation-{size}.png"), full_page=True)
    page.goto("/policies/hlj-2021-new-above-scale-industrial")
    labels = page.locator("ol.clauses .condition-number").all_text_contents()
    assert labels[:2] == ["条件一", "条件二"]
    assert page.evaluate("() => getComputedStyle(document.querySelector('ol.clauses')).listStyleType") == "none"
    assert page.evaluate(WRAPPED_JS, ".condition-number") == []
    _fits(page)
    page.screenshot(path=str(OUT / f"policy-{size}.png"), full_page=True)


def test_library_and_favicon_on_a_phone(page_at):
    page = page_at("ent1", PHONE)
    page.goto("/policies?q=规上+奖励")
    assert page.locator(".policy-item mark").count() >= 1
    form, box = page.locator("form.filters").bounding_box(), page.locator("input[name=q]").bounding_box()
    assert box["width"] >= 0.8 * form["width"]  # the search box keeps a row of its own
    _fits(page)
    page.screenshot(path=str(OUT / "library-390x844.png"), full_page=True)
    icon = page.request.get("/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")


SMALL = {"width": 360, "height": 740}
OTHER_PAGES = [  # (user, page) beyond the main ones; None: not logged in
    (None, "/login"),
    (None, "/policies"),
    ("ent1", f"/enterprises/{ELIGIBLE}"),  # 企业画像
    ("ent1", "/appeals"),
    ("ent1", "/appeals/new"),
    ("ent1", "/workflow/my"),
    ("officer", "/officer/policies/new"),
    ("officer", "/officer/policies/hlj-2021-new-above-scale-industrial/edit"),
    ("officer", "/officer/policies/hlj-2021-new-above-scale-industrial/preview"),
    ("officer", "/workflow/queue"),
    ("supervisor", "/appeals/rankings"),
    ("supervisor", "/indices"),
    ("admin", "/workflow/finance"),
]


@pytest.mark.parametrize(("username", "path"), OTHER_PAGES, ids=[p for _, p in OTHER_PAGES])
def test_other_pages_fit_a_small_phone(browser, server, page_at, username, path):
    if username is None:
        context = browser.new_context(base_url=server, locale="zh-CN", viewport=SMALL, is_mobile=True)
        page = context.new_page()
    else:
        page = page_at(username, SMALL)
    try:
        response = page.goto(path)
        assert response.ok, (path, response.status)
        page.wait_for_load_state("networkidle")
        name = path.strip("/").replace("/", "_") or "home"
        page.screenshot(path=str(OUT / f"360-{name}.png"), full_page=True)
        _fits(page)
    finally:
        if username is None:
            context.close()
