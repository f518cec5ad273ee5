"""Sessions and API tokens end on the server (security review, issue 12: the session cookie was
stateless, logout only issued a new anonymous cookie, an admin password reset left the old cookie and
token working, tokens never expired and no route revoked one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from web_support import ELIGIBLE, PASSWORD, csrf_of, login
from fastapi.testclient import TestClient

from qinqing.accounts import AccountService
from qinqing.accounts.tables import api_tokens
from qinqing.settings import Settings

NEW_PASSWORD = "another-horse-7"


def _copy(app, client: TestClient) -> TestClient:
    """A second browser holding a copy of ``client``'s session cookie (as a thief would)."""
    thief = TestClient(app)
    thief.cookies.set("qinqing_session", client.cookies.get("qinqing_session"))
    return thief


def _token(client: TestClient, username: str, name: str = "api") -> dict:
    response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD, "name": name})
    assert response.status_code == 200, response.text
    return response.json()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_logout_ends_a_copied_session_cookie(app, client_for):
    """Finding: logout only issued a new anonymous cookie; a copy of the old one kept working."""
    owner = client_for("ent_eligible")
    thief = _copy(app, owner)
    assert thief.get("/api/me").json()["uscc"] == ELIGIBLE
    other_browser = client_for("ent_eligible")
    response = owner.post("/logout", data={"csrf_token": csrf_of(owner.get("/policies").text)},
                          follow_redirects=False)
    assert response.status_code == 303
    assert thief.get("/api/me").status_code == 401
    assert other_browser.get("/api/me").status_code == 401  # logout ends every session of the user
    assert thief.get("/policies", follow_redirects=False).status_code == 200  # anonymous again, not an error
    assert login(owner, "ent_eligible").status_code == 303 and owner.get("/api/me").status_code == 200


def test_logout_keeps_the_users_api_tokens(app, client_for):
    owner = client_for("ent_eligible")
    token = _token(owner, "ent_eligible")["token"]
    owner.post("/logout", data={"csrf_token": csrf_of(owner.get("/policies").text)})
    assert TestClient(app).get("/api/me", headers=_bearer(token)).status_code == 200


@pytest.mark.parametrize("api", [False, True])
def test_an_admin_password_reset_ends_the_users_sessions_and_tokens(app, client_for, users, api):
    """Finding: an admin password reset left the old cookie and the API token working."""
    user = client_for("supervisor")
    token = _token(user, "supervisor")["token"]
    admin = client_for("admin")
    path = f"/admin/users/{users['supervisor'].user_id}/password"
    if api:
        response = admin.post("/api" + path, json={"password": NEW_PASSWORD},
                              headers={"X-CSRF-Token": csrf_of(admin.get("/admin/users").text)})
        assert response.status_code == 200
    else:
        response = admin.post(path, data={"password": NEW_PASSWORD, "csrf_token": csrf_of(admin.get("/admin/users").text)},
                              follow_redirects=False)
        assert response.status_code == 303
    assert user.get("/api/me").status_code == 401
    assert TestClient(app).get("/api/me", headers=_bearer(token)).status_code == 401
    assert admin.get("/api/me").status_code == 200  # the admin's own session is another user's
    assert login(TestClient(app), "supervisor", NEW_PASSWORD).status_code == 303


def test_reactivation_does_not_revive_old_sessions_or_tokens(app, client_for, users):
    user = client_for("ent_eligible")
    thief = _copy(app, user)
    token = _token(user, "ent_eligible")["token"]
    admin = client_for("admin")
    user_id = users["ent"].user_id
    for action in ("deactivate", "activate"):
        response = admin.post(f"/admin/users/{user_id}/{action}",
                              data={"csrf_token": csrf_of(admin.get("/admin/users").text)}, follow_redirects=False)
        assert response.status_code == 303
    assert user.get("/api/me").status_code == 401 and thief.get("/api/me").status_code == 401
    assert TestClient(app).get("/api/me", headers=_bearer(token)).status_code == 401
    assert login(TestClient(app), "ent_eligible").status_code == 303


def test_tokens_expire_after_the_configured_days(app, web_engine, results_dir, monkeypatch):
    """Finding: tokens never expired. They expire QINQING_TOKEN_TTL_DAYS (default 90) after issue."""
    client = TestClient(app)
    before = datetime.now(UTC)
    issued = _token(client, "ent_eligible")
    expires = datetime.fromisoformat(issued["expires_at"])
    assert before + timedelta(days=90) <= expires <= datetime.now(UTC) + timedelta(days=90)
    assert client.get("/api/me", headers=_bearer(issued["token"])).status_code == 200
    with web_engine.begin() as conn:  # the clock moves past the expiry
        conn.execute(sa.update(api_tokens).where(api_tokens.c.id == issued["id"])
                     .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    response = client.get("/api/me", headers=_bearer(issued["token"]))
    assert response.status_code == 401 and "已过期" in response.json()["error"]["message"]

    monkeypatch.setenv("QINQING_TOKEN_TTL_DAYS", "7")
    settings = Settings(database_url="sqlite://", secret_key="k")
    assert settings.token_ttl_days == 7
    seven = AccountService.from_settings(web_engine, settings)
    record = seven.issue(seven.list_users()[0]).record
    assert record.expires_at - record.created_at == timedelta(days=7)


def test_owners_list_and_revoke_their_own_tokens(app, client_for):
    owner = client_for("ent_eligible")
    first, second = _token(owner, "ent_eligible", "脚本一"), _token(owner, "ent_eligible", "脚本二")
    listed = owner.get("/api/me/tokens").json()["tokens"]
    assert [(t["id"], t["name"], t["state"]) for t in listed] == [(second["id"], "脚本二", "active"),
                                                                  (first["id"], "脚本一", "active")]
    assert "token" not in listed[0] and all(t["expires_at"] for t in listed)
    api = TestClient(app)
    revoked = api.post(f"/api/me/tokens/{first['id']}/revoke", headers=_bearer(second["token"]))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert api.get("/api/me", headers=_bearer(first["token"])).status_code == 401
    assert api.get("/api/me", headers=_bearer(second["token"])).status_code == 200
    # A session needs its CSRF token to revoke; a token of another user is answered like a missing one.
    assert owner.post(f"/api/me/tokens/{second['id']}/revoke").status_code == 403
    stranger = client_for("officer_hlj")
    response = stranger.post(f"/api/me/tokens/{second['id']}/revoke",
                             headers={"X-CSRF-Token": csrf_of(stranger.get("/policies").text)})
    assert response.status_code == 404 and response.json()["error"]["code"] == "accounts.token_not_found"
    assert response.json()["error"]["message"] == "API 令牌不存在。"
    assert api.get("/api/me", headers=_bearer(second["token"])).status_code == 200
    assert client_for(None).get("/api/me/tokens").status_code == 401


def test_admins_list_and_revoke_a_users_tokens(app, client_for, users):
    owner = client_for("officer_hlj")
    issued = _token(owner, "officer_hlj")
    admin = client_for("admin")
    user_id = users["officer"].user_id
    listed = admin.get(f"/api/admin/users/{user_id}/tokens").json()
    assert [t["id"] for t in listed["tokens"]] == [issued["id"]]
    response = admin.post(f"/api/admin/users/{user_id}/tokens/{issued['id']}/revoke",
                          headers={"X-CSRF-Token": csrf_of(admin.get("/admin/users").text)})
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    assert TestClient(app).get("/api/me", headers=_bearer(issued["token"])).status_code == 401
    # The token belongs to the officer, not to the supervisor: 404 under the wrong user.
    response = admin.post(f"/api/admin/users/{users['supervisor'].user_id}/tokens/{issued['id']}/revoke",
                          headers={"X-CSRF-Token": csrf_of(admin.get("/admin/users").text)})
    assert response.status_code == 404
    assert owner.get(f"/api/admin/users/{user_id}/tokens").status_code == 403
