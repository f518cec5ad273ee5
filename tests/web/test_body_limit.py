"""Security review (issue 12), "no request body-size limit": a body over QINQING_MAX_BODY_BYTES gets 413
in the canonical error shape (a Chinese page for forms), whether it declares its length or streams
chunked — the bytes are counted as they arrive, so an understated Content-Length does not help."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_error_shape import assert_shape
from web_support import AS_OF, PASSWORD, csrf_of

from qinqing.settings import Settings
from qinqing.web.app import create_app

LIMIT = 64 * 1024


@pytest.fixture
def small_app(web_engine, users, results_dir):
    settings = Settings(database_url=web_engine.url.render_as_string(hide_password=False), secret_key="test-secret",
                        reference_date=AS_OF, results_dir=results_dir, max_body_bytes=LIMIT)
    return create_app(settings, engine=web_engine)


def chunks(total: int, size: int = 8192):
    """A generator body: the test client sends it with Transfer-Encoding: chunked and no Content-Length."""
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def test_default_limit_is_one_mebibyte():
    assert Settings().max_body_bytes == 1024 * 1024


def test_declared_length_over_the_limit_is_refused_with_413(small_app):
    client = TestClient(small_app)
    body = b'{"username": "admin", "password": "' + b"x" * LIMIT + b'"}'
    response = client.post("/api/auth/token", content=body, headers={"content-type": "application/json"})
    error = assert_shape(response, 413, "web.body_too_large")
    assert "请求内容过大" in error["message"]
    assert error["details"] == {"max_bytes": LIMIT}
    assert response.headers["x-content-type-options"] == "nosniff"


def test_chunked_body_over_the_limit_is_refused_with_413(small_app):
    client = TestClient(small_app)
    response = client.post("/api/auth/token", content=chunks(4 * LIMIT), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_shape(response, 413, "web.body_too_large")


def test_understated_content_length_does_not_pass_the_limit(small_app):
    """The raw ASGI conversation: a client that declares 10 bytes and sends far more."""
    import asyncio
    import threading

    sent: list[dict] = []
    parts = [b" " * 8192] * (LIMIT // 8192 + 4)

    async def receive():
        body = parts.pop() if parts else b""
        return {"type": "http.request", "body": body, "more_body": bool(parts)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/auth/token", "raw_path": b"/api/auth/token", "query_string": b"",
             "root_path": "", "server": ("testserver", 80), "client": ("127.0.0.1", 1),
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                         (b"content-length", b"10")]}
    # On a thread of its own: a browser test earlier in the same process may leave an event loop
    # running on this one (Playwright's sync API), and asyncio.run refuses to nest.
    worker = threading.Thread(target=lambda: asyncio.run(small_app(scope, receive, send)))
    worker.start()
    worker.join(timeout=60)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413


def test_body_under_the_limit_still_works(small_app):
    client = TestClient(small_app)
    response = client.post("/api/auth/token", json={"username": "admin", "password": PASSWORD})
    assert response.status_code == 200, response.text


def test_form_over_the_limit_gets_a_chinese_413_page(small_app):
    client = TestClient(small_app)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "admin", "password": "x" * LIMIT, "csrf_token": token})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-code="web.body_too_large"' in response.text and "请求内容过大" in response.text


def test_default_app_refuses_two_mebibytes(client_for):
    response = client_for(None).post("/api/auth/token", content=chunks(2 * 1024 * 1024),
                                     headers={"content-type": "application/json"})
    assert_shape(response, 413, "web.body_too_large")
