"""Security review (issue 12) in the browser: /api/docs works with no network (Swagger UI was loaded
from a CDN, a blank page on an intranet or 政务外网), and the pages draw under the Content-Security-Policy
with no violation (no inline script; ECharts' tooltips and the editor still work)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from e2e_support import screenshot

pytestmark = pytest.mark.browser


def watch(page, server: str) -> tuple[list[str], list[str]]:
    """Aborts every request to another host (recording it) and records CSP violations and page errors."""
    local = urlsplit(server).netloc
    outside: list[str] = []
    problems: list[str] = []

    def route(r):
        if urlsplit(r.request.url).netloc == local or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return outside, problems


def test_api_docs_render_the_operations_with_no_outside_request(browser, server):
    context = browser.new_context(base_url=server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside, problems = watch(page, server)
    page.goto("/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15000)
    paths = page.locator(".opblock-summary-path").all_text_contents()
    assert any("/api/policies" in p for p in paths), paths
    page.locator(".opblock-summary-path", has_text="/api/policies/{policy_id}").first.click()  # one opens
    page.wait_for_selector(".opblock.is-open .parameters")
    page.wait_for_load_state("networkidle")
    screenshot(page, "api-docs")
    assert outside == [], outside
    assert problems == [], problems
    context.close()


@pytest.mark.parametrize(("user", "path", "ready"), [
    ("supervisor", "/supervision", "#chart-regions svg"),
    ("officer", "/officer/policies/new", "#policy-form"),
    ("ent1", "/", "main"),
    ("admin", "/admin/users", "#create-user"),
])
def test_pages_draw_under_the_csp_with_no_violation(page_for, server, user, path, ready):
    page = page_for(user)
    outside, problems = watch(page, server)
    page.goto(path)
    page.wait_for_selector(ready)
    if path == "/supervision":  # ECharts' tooltip is HTML with inline style attributes
        box = page.locator("#chart-regions").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
        page.wait_for_timeout(300)
    page.wait_for_load_state("networkidle")
    assert outside == [], outside
    assert problems == [], problems
