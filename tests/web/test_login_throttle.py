"""The login rate limit under concurrency, the argon2 slots, timing of unknown usernames, the bounded
audit trail (security review, issue 12). The races run real threads against a real uvicorn server."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from web_support import AS_OF, PASSWORD, login
from fastapi.testclient import TestClient

from qinqing.accounts import AccountService
from qinqing.accounts.errors import InvalidCredentials
from qinqing.accounts.ratelimit import LoginLimits
from qinqing.accounts.tables import login_attempts, login_throttle
from qinqing.settings import Settings
from qinqing.web.app import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve(web_engine, users, results_dir):
    """serve(**settings) → (base URL, app) of the app on a live uvicorn server in a thread."""
    import uvicorn

    servers = []

    def start(**overrides):
        settings = Settings(database_url=web_engine.url.render_as_string(hide_password=False), secret_key="t",
                            reference_date=AS_OF, results_dir=results_dir, **overrides)
        port = _free_port()
        app = create_app(settings, engine=web_engine)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{port}", app

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def _token_requests(base: str, bodies: list[dict]) -> list[httpx.Response]:
    """All ``bodies`` posted to /api/auth/token at once, one thread and connection each."""
    barrier = threading.Barrier(len(bodies))

    def post(body: dict) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as client:
            barrier.wait()
            return client.post("/api/auth/token", json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_concurrent_wrong_passwords_are_checked_no_more_than_the_limit(serve):
    """Review finding: 15 concurrent wrong passwords were all checked against a limit of 5 (each request
    counted the failures before any of them was recorded). Now each attempt is charged atomically before
    its check: 5 are checked (401), 10 wait (429)."""
    base, _ = serve(password_hash_concurrency=16, password_hash_wait_seconds=60)
    responses = _token_requests(base, [{"username": "admin", "password": "wrong-password"}] * 15)
    codes = sorted(r.status_code for r in responses)
    assert codes == [401] * 5 + [429] * 10, codes
    codes = {r.json()["error"]["code"] for r in responses if r.status_code == 429}
    assert codes == {"accounts.login_rate_limited"}


def test_argon2_verifications_are_bounded_per_process(serve, web_engine):
    """Review finding: each argon2 verification takes 64 MiB and nothing bounded how many ran at once
    (24 concurrent logins added ~1.6 GB). With every slot taken, a login waits its configured time and
    is refused with a Chinese 429, uncharged; once a slot is free it is checked."""
    base, app = serve(password_hash_concurrency=1, password_hash_wait_seconds=0.2)
    gate = app.state.services.accounts.gate
    assert gate.slots == 1 and gate.wait == 0.2
    body = {"username": "admin", "password": PASSWORD}
    with httpx.Client(base_url=base, timeout=30) as client:
        with gate.slot():  # the one slot is busy (as during a long verification)
            concurrent = _token_requests(base, [body] * 5)
            one_by_one = [client.post("/api/auth/token", json=body) for _ in range(7)]
        assert [r.status_code for r in concurrent + one_by_one] == [429] * 12
        assert {r.json()["error"]["message"] for r in concurrent + one_by_one} == {"登录请求过多，请稍后再试。"}
        # Twelve refusals were not counted as failures (5 per account and address): the login is checked.
        assert client.post("/api/auth/token", json=body).status_code == 200




def test_unknown_usernames_cost_as_much_as_known_ones(web_engine):
    """Review finding: a known username took ≈710 ms, an unknown one ≈140 ms (no argon2 without a hash), so
    usernames could be enumerated by timing. Now an unknown one is verified against a dummy hash: the
    medians differ by far less than the 5× of before (factor 2 allowed for noise)."""
    accounts = AccountService(web_engine, LoginLimits(per_pair=100, per_client=1000, per_account=1000))

    def median_seconds(username: str) -> float:
        times = []
        for i in range(5):
            started = time.perf_counter()
            with pytest.raises(InvalidCredentials):
                accounts.authenticate(username, "wrong-password", f"10.9.0.{i}")
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    with pytest.raises(InvalidCredentials):
        accounts.authenticate("warm-up-user", "wrong-password", "10.9.9.9")  # the dummy hash is made once
    known, unknown = median_seconds("supervisor"), median_seconds("no-such-user")
    assert unknown > known / 2 and known > unknown / 2, (known, unknown)


def _audit_rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(login_attempts.c.username, login_attempts.c.attempted_at)).all()


def test_a_huge_username_is_stored_cut_to_64_characters(app, web_engine):
    """Review finding: a 4 MB username was stored verbatim in the login-attempts table (and PostgreSQL
    refuses it for VARCHAR(64): a 500). It is refused like any wrong login and stored cut."""
    with pytest.raises(InvalidCredentials):
        AccountService(web_engine).authenticate("x" * 4_000_000, "wrong-password", "10.0.0.1")
    # Through HTTP as large as the body limit (1 MiB, web/middleware.py) lets it.
    response = TestClient(app).post("/api/auth/token", json={"username": "z" * 900_000, "password": "wrong"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "accounts.invalid_credentials"
    response = login(TestClient(app), "y" * 100_000, "wrong-password")  # the login page does not echo it all
    assert response.status_code == 401 and "y" * 65 not in response.text
    assert sorted((name[0], len(name)) for name, _ in _audit_rows(web_engine)) == [("x", 64), ("y", 64), ("z", 64)]


def test_old_login_attempts_and_idle_counters_are_pruned_in_bounded_batches(web_engine):
    """Review finding: the login-attempts table was never pruned. Each login deletes at most 100 rows
    older than 30 days, and counters idle for longer than the window (1 hour)."""
    accounts = AccountService(web_engine)
    now = datetime.now(UTC)
    with web_engine.begin() as conn:
        conn.execute(sa.insert(login_attempts), [
            {"username": f"old{i}", "client": "10.0.0.1", "attempted_at": now - timedelta(days=40), "succeeded": False}
            for i in range(250)
        ] + [{"username": "recent", "client": "10.0.0.1", "attempted_at": now - timedelta(days=29), "succeeded": False}])
        conn.execute(sa.insert(login_throttle), [
            {"key": f"{i:064d}", "failures": 3, "last_failure_at": now - timedelta(hours=2), "version": 1}
            for i in range(5)
        ] + [{"key": "f" * 64, "failures": 3, "last_failure_at": now - timedelta(minutes=30), "version": 1}])

    def counts():
        rows = _audit_rows(web_engine)
        with web_engine.connect() as conn:
            keys = {k for (k,) in conn.execute(sa.select(login_throttle.c.key))}
        return (sum(name.startswith("old") for name, _ in rows), len(rows), "f" * 64 in keys,
                sum(k.startswith("0000") for k in keys))

    assert counts() == (250, 251, True, 5)
    accounts.authenticate("admin", PASSWORD, "10.0.0.2")
    # 100 old rows gone, the recent one kept, one row added; the 5 idle counters gone, the busy one kept.
    assert counts() == (150, 152, True, 0)
    with pytest.raises(InvalidCredentials):
        accounts.authenticate("admin", "wrong-password", "10.0.0.2")
    accounts.authenticate("admin", PASSWORD, "10.0.0.3")
    assert counts() == (0, 4, True, 0)
