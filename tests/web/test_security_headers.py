"""Security review (issue 12), "no security headers": every response — page, API, static file, error,
the API explorer — carries a CSP, X-Frame-Options, nosniff and a Referrer-Policy; everything but static
files is ``Cache-Control: no-store`` (pages hold the session's CSRF token and personal data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from web_support import ELIGIBLE, OTHER

from qinqing.web.middleware import CONTENT_SECURITY_POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "qinqing" / "web" / "templates"
BASE_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}

# (user, path, expected status): personal pages and API answers of each role, public ones, errors.
PERSONAL = [
    (None, "/login", 200),
    (None, "/policies", 200),
    (None, "/api/policies", 200),
    ("ent_eligible", f"/enterprises/{ELIGIBLE}", 200),
    ("ent_eligible", f"/enterprises/{ELIGIBLE}/policies", 200),
    ("ent_eligible", "/api/my/matches", 200),
    ("ent_eligible", f"/api/enterprises/{ELIGIBLE}", 200),
    ("ent_eligible", "/api/me", 200),
    ("officer_hlj", "/officer/policies", 200),
    ("officer_hlj", "/officer/policies/new", 200),
    ("officer_hlj", "/api/officer/policies", 200),
    ("admin", "/admin/users", 200),
    ("admin", "/api/admin/users", 200),
    ("supervisor", "/supervision", 200),
    (None, "/api/docs", 200),
    (None, "/api/openapi.json", 200),
    ("ent_eligible", f"/enterprises/{OTHER}", 403),
    ("ent_eligible", f"/api/enterprises/{OTHER}", 403),
    (None, "/no-such-page", 404),
    (None, "/api/no-such-route", 404),
    (None, "/api/me", 401),
]


def assert_security_headers(response) -> None:
    for name, value in BASE_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    assert response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY
    assert len(response.headers.get_list("content-security-policy")) == 1


@pytest.mark.parametrize(("user", "path", "status"), PERSONAL)
def test_every_page_and_api_answer_has_security_headers_and_no_store(client_for, user, path, status):
    response = client_for(user).get(path, follow_redirects=False)
    assert response.status_code == status
    assert_security_headers(response)
    assert response.headers.get("cache-control") == "no-store"


@pytest.mark.parametrize("path", ["/static/app.css", "/static/editor.js", "/static/vendor/echarts.min.js",
                                  "/static/vendor/swagger-ui/swagger-ui-bundle.js"])
def test_static_files_have_security_headers_and_stay_cacheable(client_for, path):
    response = client_for(None).get(path)
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" not in response.headers.get("cache-control", "")


def test_redirect_to_login_has_security_headers(client_for):
    response = client_for(None).get(f"/enterprises/{ELIGIBLE}", follow_redirects=False)
    assert response.status_code == 303
    assert_security_headers(response)


def test_unexpected_500_has_security_headers(app):
    """Starlette sends the 500 outside every middleware: the error handler must add the headers itself."""
    from fastapi.testclient import TestClient

    def boom():
        raise RuntimeError("unexpected")

    app.add_api_route("/api/test-boom", boom)
    app.add_api_route("/test-boom", boom)
    client = TestClient(app, raise_server_exceptions=False)
    for path in ("/api/test-boom", "/test-boom"):
        response = client.get(path)
        assert response.status_code == 500
        assert_security_headers(response)
        assert response.headers.get("cache-control") == "no-store"


def test_csp_forbids_inline_script_framing_and_other_origins():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no host
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "http" not in CONTENT_SECURITY_POLICY and "*" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_script_or_style(template):
    """The CSP refuses inline scripts, event-handler attributes and <style>: a template using one breaks."""
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>\s*\S", text)
    assert "<style" not in text
    assert not re.search(r"\son[a-z]+\s*=", text), "event-handler attribute"
    assert "javascript:" not in text


def test_api_docs_load_nothing_from_another_host(client_for):
    """Security review: /api/docs loaded Swagger UI from a CDN — a blank page on an intranet or 政务外网."""
    client = client_for(None)
    html = client.get("/api/docs").text
    assert not re.search(r"https?://", html), html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in assets
    assert "/static/vendor/swagger-ui/swagger-ui.css" in assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.content, asset
    assert client.get("/api/redoc").status_code == 404  # no ReDoc (it too would come from a CDN)


def test_vendored_swagger_ui_records_its_source_and_license():
    vendor = TEMPLATES.parent / "static" / "vendor" / "swagger-ui"
    source = (vendor / "SOURCE.txt").read_text(encoding="utf-8")
    assert "swagger-ui-dist 5.35.0" in source and "Apache-2.0" in source
    assert "Apache License" in (vendor / "LICENSE").read_text(encoding="utf-8")
    import hashlib

    for line in source.splitlines():
        if match := re.fullmatch(r"\s+([0-9a-f]{64})\s+(\S+)", line):
            assert hashlib.sha256((vendor / match[2]).read_bytes()).hexdigest() == match[1], match[2]
