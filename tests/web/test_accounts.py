"""Passwords, login and its rate limit, CSRF, sessions and API tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from web_support import ELIGIBLE, PASSWORD, csrf_of, login
from fastapi.testclient import TestClient

from qinqing.accounts import AccountService, Role
from qinqing.accounts.errors import InvalidAccount, InvalidCredentials, LoginRateLimited
from qinqing.accounts.passwords import hash_password, verify_password
from qinqing.accounts.ratelimit import LoginLimits
from qinqing.accounts.sessions import Session, SessionCodec


def test_passwords_are_argon2id_and_verify():
    stored = hash_password("s3cret-pass")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "s3cret-pass")
    assert not verify_password(stored, "s3cret-pasS")
    assert not verify_password("not-a-hash", "s3cret-pass")


@pytest.mark.parametrize(
    ("username", "password", "role", "binding"),
    [
        ("ab", "long-enough", Role.ADMIN, {}),  # username too short
        ("good_name", "short", Role.ADMIN, {}),  # password too short
        ("ent_x", "long-enough", Role.ENTERPRISE, {}),  # enterprise without uscc
        ("off_x", "long-enough", Role.OFFICER, {"department": "某部门"}),  # officer without region
    ],
)
def test_invalid_accounts_are_refused(web_engine, username, password, role, binding):
    with pytest.raises(InvalidAccount):
        AccountService(web_engine).create_user(username, password, role, **binding)


def test_login_is_rate_limited_per_username(web_engine):
    accounts = AccountService(web_engine, LoginLimits(window=timedelta(minutes=15), per_username=3, per_client=100))
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            accounts.authenticate("ent_eligible", "wrong-password", "10.0.0.1")
    with pytest.raises(LoginRateLimited) as error:
        accounts.authenticate("ent_eligible", PASSWORD, "10.0.0.2")  # right password, still locked
    assert error.value.status == 429 and "分钟后再试" in error.value.message


def test_login_is_rate_limited_per_client(web_engine):
    accounts = AccountService(web_engine, LoginLimits(per_username=100, per_client=2))
    for name in ("a-user", "b-user"):
        with pytest.raises(InvalidCredentials):
            accounts.authenticate(name, "wrong-password", "10.0.0.9")
    with pytest.raises(LoginRateLimited):
        accounts.authenticate("ent_eligible", PASSWORD, "10.0.0.9")
    assert accounts.authenticate("ent_eligible", PASSWORD, "10.0.0.10").uscc == ELIGIBLE


def test_success_clears_earlier_failures(web_engine):
    accounts = AccountService(web_engine, LoginLimits(per_username=2, per_client=100))
    with pytest.raises(InvalidCredentials):
        accounts.authenticate("admin", "wrong-password")
    accounts.authenticate("admin", PASSWORD)
    with pytest.raises(InvalidCredentials):
        accounts.authenticate("admin", "wrong-password")
    assert accounts.authenticate("admin", PASSWORD).role is Role.ADMIN


def test_login_page_shows_the_rate_limit(app):
    client = TestClient(app)
    for _ in range(5):
        assert login(client, "supervisor", "wrong-password").status_code == 401
    response = login(client, "supervisor")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.text


def test_login_form_without_csrf_token_is_refused(app):
    client = TestClient(app)
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403 and "CSRF" in response.text


def test_forms_need_the_sessions_own_csrf_token(app):
    a, b = TestClient(app), TestClient(app)
    assert login(a, "officer_hlj").status_code == 303
    foreign = csrf_of(b.get("/login").text)  # valid token, but of another session
    response = a.post("/officer/policies/hlj-2021-new-above-scale-industrial/publish", data={"csrf_token": foreign})
    assert response.status_code == 403
    own = csrf_of(a.get("/policies").text)
    response = a.post("/officer/policies/hlj-2021-new-above-scale-industrial/publish", data={"csrf_token": own},
                      follow_redirects=False)
    assert response.status_code == 303


def test_login_rotates_the_session(app):
    client = TestClient(app)
    before = csrf_of(client.get("/login").text)
    login(client, "admin")
    assert csrf_of(client.get("/policies").text) != before


def test_tampered_session_cookie_is_anonymous(app):
    client = TestClient(app)
    login(client, "admin")
    cookie = client.cookies.get("qinqing_session")
    client.cookies.set("qinqing_session", cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1])
    assert client.get("/api/me").status_code == 401


def test_session_codec_round_trip_and_expiry():
    codec = SessionCodec("k")
    session = Session.anonymous().logged_in(7)
    assert codec.decode(codec.encode(session)) == session
    assert SessionCodec("other-key").decode(codec.encode(session)) is None
    assert SessionCodec("k", max_age=-1).decode(codec.encode(session)) is None
    assert codec.csrf_valid(session, codec.csrf_token(session))
    assert not codec.csrf_valid(session, codec.csrf_token(Session.anonymous()))


def test_api_tokens_authenticate_without_csrf_and_can_be_revoked(app, web_engine):
    client = TestClient(app)
    token = client.post("/api/auth/token", json={"username": "ent_eligible", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).json()["uscc"] == ELIGIBLE
    assert client.get(f"/api/enterprises/{ELIGIBLE}/matches", headers=headers).status_code == 200
    AccountService(web_engine).revoke_token(token)
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
