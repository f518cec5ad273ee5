"""用户管理: admins create users with their binding, reset passwords, deactivate; CSRF on every form;
nobody else may, by page or API."""

from __future__ import annotations

import pytest
from web_support import ELIGIBLE, PASSWORD, csrf_of, login

NEW_PASSWORD = "another-horse-7"


def _post_form(client, path, data):
    token = csrf_of(client.get("/admin/users").text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _user_id(users, key):
    return users[key].user_id


def test_admin_lands_on_the_user_list(client_for):
    client = client_for("admin")
    assert client.get("/", follow_redirects=False).headers["location"] == "/admin/users"
    html = client.get("/admin/users").text
    for username in ("ent_eligible", "officer_hlj", "supervisor", "admin"):
        assert f'data-user="{username}"' in html
    assert "政策部门" in html and "黑龙江省工业和信息化厅 · 230000" in html


@pytest.mark.parametrize(("data", "role"), [
    ({"username": "new_ent", "role": "enterprise", "uscc": ELIGIBLE.lower()}, "enterprise"),
    ({"username": "new_officer", "role": "officer", "department": "哈尔滨市工信局", "region_code": "230100"}, "officer"),
    ({"username": "new_super", "role": "supervisor"}, "supervisor"),
])
def test_admin_creates_a_user_who_can_then_log_in(client_for, data, role):
    admin = client_for("admin")
    response = _post_form(admin, "/admin/users", {**data, "password": PASSWORD, "display_name": "新用户"})
    assert response.status_code == 303 and response.headers["location"] == "/admin/users?done=created"
    me = client_for(data["username"]).get("/api/me").json()
    assert me["role"] == role
    if role == "enterprise":
        assert me["uscc"] == ELIGIBLE  # normalised to upper case
    if role == "officer":
        assert (me["department"], me["region_code"]) == ("哈尔滨市工信局", "230100")


@pytest.mark.parametrize(("data", "message"), [
    ({"username": "x_ent", "role": "enterprise", "uscc": ""}, "企业用户必须绑定一个统一社会信用代码。"),
    ({"username": "x_ent", "role": "enterprise", "uscc": "91110000000000000X"}, "企业库中没有统一社会信用代码为"),
    ({"username": "x_off", "role": "officer", "department": "某局", "region_code": ""}, "政策部门用户必须绑定部门和行政区划。"),
    ({"username": "x_off", "role": "officer", "department": "某局", "region_code": "239999"}, "不在 GB/T 2260 中"),
    ({"username": "supervisor", "role": "supervisor"}, "用户名 supervisor 已存在。"),
    ({"username": "x_pw", "role": "supervisor", "password": "short"}, "密码至少 8 位。"),
    # Security review (issue 12): eight spaces were accepted as a password, `Admin` beside `admin`.
    ({"username": "x_pw", "role": "supervisor", "password": " " * 8}, "密码不能全是空格等空白字符。"),
    ({"username": "x_pw", "role": "supervisor", "password": "Aa1-" * 32 + "x"}, "密码最多 128 位。"),
    ({"username": "x_pw", "role": "supervisor", "password": "abcdefghij"}, "至少包含小写字母、大写字母、数字、符号中的两类"),
    ({"username": "x_pw", "role": "supervisor", "password": "Password123"}, "密码过于常见"),
    ({"username": "x_pw", "role": "supervisor", "password": " P@ssw0rd "}, "密码过于常见"),
    ({"username": "rule_user1", "role": "supervisor", "password": "Rule_User1"}, "密码不能与用户名相同。"),
    ({"username": "Admin", "role": "supervisor"}, "用户名 admin 已存在。"),
    ({"username": "SUPERVISOR", "role": "supervisor"}, "用户名 supervisor 已存在。"),
])
def test_invalid_users_are_refused_with_a_chinese_message(client_for, data, message):
    admin = client_for("admin")
    response = _post_form(admin, "/admin/users", {"password": PASSWORD, **data})
    assert response.status_code in (409, 422)
    assert message in response.text and 'id="admin-error"' in response.text
    assert 'value="' + data["username"] + '"' in response.text  # the form keeps what was typed (not the password)


def test_usernames_are_case_insensitive(client_for):
    """Security review (issue 12): `Admin` could exist beside `admin`. Names are stored casefolded and
    looked up regardless of case."""
    admin = client_for("admin")
    response = _post_form(admin, "/admin/users", {"username": "Zhang.San", "role": "supervisor", "password": PASSWORD})
    assert response.status_code == 303
    assert 'data-user="zhang.san"' in admin.get("/admin/users").text
    for typed in ("zhang.san", "ZHANG.SAN", " Zhang.San "):
        assert login(client_for(), typed).status_code == 303, typed
        assert client_for(typed.strip()).get("/api/me").json()["username"] == "zhang.san"


def test_reset_password(client_for, users):
    admin = client_for("admin")
    user_id = _user_id(users, "supervisor")
    response = _post_form(admin, f"/admin/users/{user_id}/password", {"password": NEW_PASSWORD})
    assert response.status_code == 303
    fresh = client_for()
    assert login(fresh, "supervisor").status_code == 401  # the old password no longer works
    assert login(fresh, "supervisor", NEW_PASSWORD).status_code == 303


def test_deactivated_user_loses_session_and_token_and_can_be_reactivated(client_for, users):
    ent = client_for("ent_eligible")
    token = ent.post("/api/auth/token", json={"username": "ent_eligible", "password": PASSWORD}).json()["token"]
    admin = client_for("admin")
    user_id = _user_id(users, "ent")
    assert _post_form(admin, f"/admin/users/{user_id}/deactivate", {}).status_code == 303
    assert ent.get("/api/me").status_code == 401
    assert client_for().get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(client_for(), "ent_eligible").status_code == 401
    assert 'data-user="ent_eligible" class="inactive"' in admin.get("/admin/users").text
    assert _post_form(admin, f"/admin/users/{user_id}/activate", {}).status_code == 303
    assert login(client_for(), "ent_eligible").status_code == 303


def test_admin_cannot_deactivate_itself(client_for, users):
    admin = client_for("admin")
    response = _post_form(admin, f"/admin/users/{_user_id(users, 'admin')}/deactivate", {})
    assert response.status_code == 403 and "不能停用自己的账号" in response.text


def test_forms_need_the_csrf_token(client_for, users):
    admin = client_for("admin")
    response = admin.post("/admin/users", data={"username": "nocsrf", "password": PASSWORD, "role": "supervisor"})
    assert response.status_code == 403 and 'data-code="accounts.csrf_failed"' in response.text
    response = admin.post(f"/admin/users/{_user_id(users, 'supervisor')}/deactivate", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert 'data-user="nocsrf"' not in admin.get("/admin/users").text


def test_api(client_for, users):
    admin = client_for("admin")
    token = admin.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json()["token"]
    api = client_for()
    auth = {"Authorization": f"Bearer {token}"}
    created = api.post("/api/admin/users", json={"username": "api_ent", "password": PASSWORD, "role": "enterprise",
                                                 "uscc": ELIGIBLE}, headers=auth)
    assert created.status_code == 201 and created.json()["role"] == "enterprise"
    listed = {u["username"]: u for u in api.get("/api/admin/users", headers=auth).json()["users"]}
    assert listed["api_ent"]["uscc"] == ELIGIBLE and listed["api_ent"]["active"] is True
    uid = created.json()["id"]
    assert api.post(f"/api/admin/users/{uid}/deactivate", headers=auth).json() == {"id": uid, "active": False}
    bad = api.post(f"/api/admin/users/{uid}/password", json={"password": "short"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "accounts.invalid_account"


@pytest.mark.parametrize("user", ["ent_eligible", "officer_hlj", "supervisor"])
@pytest.mark.parametrize(("method", "path"), [
    ("get", "/admin/users"), ("get", "/api/admin/users"), ("post", "/admin/users"), ("post", "/api/admin/users"),
    ("post", "/admin/users/1/password"), ("post", "/api/admin/users/1/deactivate"), ("post", "/admin/users/1/deactivate"),
])
def test_only_admins(client_for, user, method, path):
    client = client_for(user)
    if method == "get":
        response = client.get(path)
    else:
        token = csrf_of(client.get("/policies").text)
        data = {"username": "sneaky", "password": PASSWORD, "role": "admin"}
        if path.startswith("/api"):
            response = client.post(path, json={**data}, headers={"X-CSRF-Token": token})
        else:
            response = client.post(path, data={**data, "csrf_token": token})
    assert response.status_code == 403, response.text[:300]
    if path.startswith("/api"):
        assert response.json()["error"]["code"] == "accounts.forbidden"
    else:
        assert 'data-code="accounts.forbidden"' in response.text


OUT_OF_RANGE_IDS = ["99999999999999999999", "2147483648", "0", "-1", "424242"]


@pytest.mark.parametrize("user_id", OUT_OF_RANGE_IDS)
@pytest.mark.parametrize(("path", "body"), [
    ("/api/admin/users/{id}/password", {"password": NEW_PASSWORD}),
    ("/api/admin/users/{id}/deactivate", None),
    ("/api/admin/users/{id}/activate", None),
    ("/api/admin/users/{id}/tokens/1/revoke", None),
])
def test_ids_that_name_no_user_are_404_not_500(client_for, user_id, path, body):
    """Security review (issue 12): /admin/users/99999999999999999999 (or any huge int) gave a 500."""
    admin = client_for("admin")
    token = csrf_of(admin.get("/admin/users").text)
    response = admin.post(path.format(id=user_id), json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 404, response.text[:300]
    assert response.json()["error"]["code"] == "accounts.account_not_found" and response.json()["error"]["message"] == "用户不存在。"


@pytest.mark.parametrize("user_id", OUT_OF_RANGE_IDS)
def test_ids_that_name_no_user_are_404_on_pages_and_token_lists(client_for, user_id):
    admin = client_for("admin")
    assert admin.get(f"/api/admin/users/{user_id}/tokens").status_code == 404
    for action in ("deactivate", "activate", "password"):
        response = _post_form(admin, f"/admin/users/{user_id}/{action}", {"password": NEW_PASSWORD})
        assert response.status_code == 404 and "用户不存在。" in response.text


@pytest.mark.parametrize("token_id", ["99999999999999999999", "0", "-5"])
def test_token_ids_out_of_range_are_404(client_for, users, token_id):
    admin = client_for("admin")
    response = admin.post(f"/api/admin/users/{users['admin'].user_id}/tokens/{token_id}/revoke",
                          headers={"X-CSRF-Token": csrf_of(admin.get("/admin/users").text)})
    assert response.status_code == 404 and response.json()["error"]["code"] == "accounts.token_not_found"
