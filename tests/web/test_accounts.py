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


def test_lockout_of_one_address_spares_the_owner_on_another(web_engine):
    """Review finding (issue 12): five requests from anyone locked any account, admin included, for 15
    minutes, even for its owner on another address. The back-off is per (account, address) now."""
    accounts = AccountService(web_engine, LoginLimits(per_pair=3, per_client=100, backoff=timedelta(minutes=5)))
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            accounts.authenticate("admin", "wrong-password", "10.0.0.1")
    with pytest.raises(LoginRateLimited) as error:
        accounts.authenticate("admin", PASSWORD, "10.0.0.1")  # right password, but this address must wait
    assert error.value.status == 429 and "登录失败次数过多，请 5 分钟后再试。" == error.value.message
    assert accounts.authenticate("admin", PASSWORD, "10.0.0.2").role is Role.ADMIN  # the owner elsewhere


def test_an_account_under_attack_slows_every_address_but_a_first_attempt_gets_through(web_engine):
    """Past the per-account ceiling (3 here) every address backs off after its first failure; an address
    with no failure of its own is still checked, so the owner logs in."""
    accounts = AccountService(web_engine, LoginLimits(per_pair=5, per_account=3, per_client=100,
                                                      backoff=timedelta(minutes=1)))
    for address in ("10.1.0.1", "10.1.0.2", "10.1.0.3"):
        with pytest.raises(InvalidCredentials):
            accounts.authenticate("supervisor", "wrong-password", address)
    with pytest.raises(InvalidCredentials):
        accounts.authenticate("supervisor", "wrong-password", "10.1.0.4")  # a first attempt: checked
    for address in ("10.1.0.4", "10.1.0.1"):  # one failure each, under attack: wait
        with pytest.raises(LoginRateLimited):
            accounts.authenticate("supervisor", PASSWORD, address)
    with pytest.raises(InvalidCredentials):  # below the ceiling another account is not slowed
        accounts.authenticate("admin", "wrong-password", "10.1.0.1")
    assert accounts.authenticate("admin", PASSWORD, "10.1.0.1").role is Role.ADMIN
    assert accounts.authenticate("supervisor", PASSWORD, "10.1.0.5").role is Role.SUPERVISOR  # the owner


@pytest.mark.parametrize(("failures", "free", "seconds"), [
    (0, 5, 0), (4, 5, 0),  # free failures
    (5, 5, 30), (6, 5, 60), (7, 5, 120), (9, 5, 480),  # 30 s doubled per further failure
    (10, 5, 900), (40, 5, 900),  # 960 s capped at 15 minutes
    (0, 0, 0), (1, 0, 30), (2, 0, 60),  # under attack: no free failure
])
def test_backoff_doubles_up_to_its_cap(failures, free, seconds):
    from qinqing.accounts.ratelimit import wait_after

    assert wait_after(failures, free, LoginLimits()) == timedelta(seconds=seconds)


def test_login_is_rate_limited_per_client(web_engine):
    accounts = AccountService(web_engine, LoginLimits(per_pair=100, per_client=2))
    for name in ("a-user", "b-user"):
        with pytest.raises(InvalidCredentials):
            accounts.authenticate(name, "wrong-password", "10.0.0.9")
    with pytest.raises(LoginRateLimited):
        accounts.authenticate("ent_eligible", PASSWORD, "10.0.0.9")
    assert accounts.authenticate("ent_eligible", PASSWORD, "10.0.0.10").uscc == ELIGIBLE


def test_success_clears_earlier_failures(web_engine):
    accounts = AccountService(web_engine, LoginLimits(per_pair=2, per_client=100))
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
    assert response.status_code == 401 and response.json()["error"]["code"] == "accounts.not_authenticated"


def _migrate_accounts_to(url: str, revision: str) -> None:
    """Every other branch to its head, the accounts branch to ``revision`` (a store of before)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from qinqing.db import alembic_config, make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        script = ScriptDirectory.from_config(config)
        others = [h for h in script.get_heads() if "accounts" not in script.get_revision(h).branch_labels
                  and not h.startswith("accounts_")]
        for target in [*others, revision]:
            command.upgrade(config, target)
    engine.dispose()


def _legacy_user(conn, username: str, now) -> int:
    import sqlalchemy as sa

    return conn.execute(sa.text(
        "INSERT INTO accounts_users (username, password_hash, role, display_name, active, created_at) "
        "VALUES (:u, 'x', 'supervisor', :u, true, :now) RETURNING id"), {"u": username, "now": now}).scalar_one()


def test_the_case_insensitive_migration_refuses_names_differing_only_in_case(database_url):
    """`Admin` beside `admin` (possible before accounts_0002): the migration stops and names them, rather
    than picking one; once renamed it runs."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from qinqing.db import make_engine, migrate

    _migrate_accounts_to(database_url, "accounts_0001")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        for name in ("Admin", "admin", "Solo"):
            _legacy_user(conn, name, datetime.now(UTC))
    with pytest.raises(RuntimeError, match="several spellings: admin"):
        migrate(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE accounts_users SET username = 'admin2' WHERE username = 'Admin'"))
    migrate(database_url)
    assert sorted(p.username for p in AccountService(engine).list_users()) == ["Solo", "admin", "admin2"]
    with pytest.raises(sa.exc.IntegrityError):  # the unique index on lower(username) holds in the database
        with engine.begin() as conn:
            _legacy_user(conn, "SOLO", datetime.now(UTC))
    engine.dispose()


def test_tokens_issued_before_expiry_existed_expire_90_days_after_issue(database_url):
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from qinqing.db import make_engine, migrate

    _migrate_accounts_to(database_url, "accounts_0001")
    engine = make_engine(database_url)
    created = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    with engine.begin() as conn:
        user_id = _legacy_user(conn, "legacy", created)
        conn.execute(sa.text("INSERT INTO accounts_api_tokens (user_id, name, token_hash, created_at) "
                             "VALUES (:u, 'old', 'h', :c)"), {"u": user_id, "c": created})
    migrate(database_url)
    with engine.connect() as conn:
        expires = conn.execute(sa.text("SELECT expires_at FROM accounts_api_tokens")).scalar_one()
    if isinstance(expires, str):  # SQLite hands back text
        expires = datetime.fromisoformat(expires)
    assert expires.replace(tzinfo=None) == datetime(2025, 4, 2, 3, 4, 5)  # 2 Jan + 90 days
    engine.dispose()
