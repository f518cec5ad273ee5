"""Every error, whatever raised it, comes out of one handler in one JSON shape (and as an HTML page)."""

from __future__ import annotations

import pytest
from web_support import OTHER

SHAPE_KEYS = {"status", "code", "message", "details"}


def assert_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == SHAPE_KEYS
    assert body["error"]["status"] == status
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(
    ("user", "method", "path", "json", "status", "code"),
    [
        (None, "get", "/api/me", None, 401, "not_authenticated"),
        ("ent_eligible", "get", f"/api/enterprises/{OTHER}", None, 403, "forbidden"),
        ("ent_eligible", "get", "/api/policies/no-such-policy", None, 404, "policy_not_found"),
        ("ent_eligible", "get", "/api/no-such-route", None, 404, "not_found"),
        (None, "post", "/api/auth/token", {"username": "x"}, 422, "invalid_request"),
        (None, "post", "/api/auth/token", {"username": "admin", "password": "wrong-password"}, 401,
         "invalid_credentials"),
        ("ent_eligible", "post", "/api/officer/check-expression", {"expr": "1"}, 403, "csrf_failed"),
    ],
)
def test_api_errors_have_the_canonical_shape(client_for, user, method, path, json, status, code):
    client = client_for(user)
    response = getattr(client, method)(path, json=json) if json is not None else getattr(client, method)(path)
    assert_shape(response, status, code)


def test_invalid_policy_lists_problems_with_places(app, users):
    from fastapi.testclient import TestClient

    client = TestClient(app)
    token = client.post("/api/auth/token", json={"username": "officer_hlj", "password": "correct-horse-9"}).json()
    text = "id: broken\ntitle: 坏政策\nconditions:\n  - id: a\n    clause: x\n    expr: revenu > 1\n"
    response = client.post("/api/officer/policies", json={"yaml": text},
                           headers={"Authorization": f"Bearer {token['token']}"})
    error = assert_shape(response, 422, "policy_invalid")
    problems = error["details"]["problems"]
    assert problems and all({"message", "line", "column", "path"} <= set(p) for p in problems)


def test_pages_render_errors_as_html(client_for):
    response = client_for("ent_eligible").get(f"/enterprises/{OTHER}")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-code="forbidden"' in response.text
    assert "无权查看其他企业的信息" in response.text


def test_anonymous_page_redirects_to_login(client_for):
    response = client_for(None).get(f"/enterprises/{OTHER}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/enterprises/{OTHER}"
