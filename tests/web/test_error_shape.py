"""Every error, whatever raised it, comes out of one handler in one JSON shape (and as an HTML page)."""

from __future__ import annotations

import pytest
from web_support import OTHER

from qinqing.errors import QinqingError
from qinqing.web.errors import BodyTooLarge

SHAPE_KEYS = {"status", "code", "message", "place", "details"}


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
        (None, "get", "/api/me", None, 401, "accounts.not_authenticated"),
        ("ent_eligible", "get", f"/api/enterprises/{OTHER}", None, 403, "accounts.forbidden"),
        ("ent_eligible", "get", "/api/policies/no-such-policy", None, 404, "catalogue.policy_not_found"),
        ("ent_eligible", "get", "/api/no-such-route", None, 404, "web.not_found"),
        (None, "post", "/api/auth/token", {"username": "x"}, 422, "web.invalid_request"),
        (None, "post", "/api/auth/token", {"username": "admin", "password": "wrong-password"}, 401,
         "accounts.invalid_credentials"),
        ("ent_eligible", "post", "/api/officer/check-expression", {"expr": "1"}, 403, "accounts.csrf_failed"),
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
    error = assert_shape(response, 422, "catalogue.policy_invalid")
    problems = error["details"]["problems"]
    assert problems and all({"message", "line", "column", "path"} <= set(p) for p in problems)


def test_pages_render_errors_as_html(client_for):
    response = client_for("ent_eligible").get(f"/enterprises/{OTHER}")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-code="accounts.forbidden"' in response.text
    assert "无权查看其他企业的信息" in response.text


def test_anonymous_page_redirects_to_login(client_for):
    response = client_for(None).get(f"/enterprises/{OTHER}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/enterprises/{OTHER}"


# Security review (issue 12), "every 500 found", and issue 11 (one error root): every error class defined
# anywhere in qinqing is a QinqingError that reaches the user with its own status and a Chinese message,
# never a traceback (a 5xx with its class's default message: the instance's may name server files);
# anything else is a Chinese 500 that leaks nothing.

def _qinqing_error_classes() -> list[type[BaseException]]:
    import importlib
    import inspect
    import pkgutil

    import qinqing

    found = set()
    for module_info in pkgutil.walk_packages(qinqing.__path__, "qinqing."):
        if module_info.name.startswith("qinqing.migrations"):  # alembic scripts: import only under alembic
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if (inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module.__name__
                    and not value.__name__.startswith("_")):  # private: a control-flow signal caught where raised
                found.add(value)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _sample(error_type: type[BaseException]) -> BaseException:
    """An instance of ``error_type``, its required arguments filled by name or annotation."""
    import inspect

    from qinqing.catalogue.errors import Problem
    from qinqing.rules.errors import ExprIssue, RuleError

    by_name = {"problems": [Problem("示例问题。", 2, 3, "conditions.0.expr")], "errors": [RuleError("示例错误。")],
               "issues": [ExprIssue("示例问题。", 0, 1)]}
    try:
        parameters = inspect.signature(error_type).parameters.values()
    except ValueError:  # a builtin __init__ (RuntimeError, RecursionError): one message
        return error_type("示例错误信息。")
    args = []
    for p in parameters:
        if p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        args.append(by_name.get(p.name, 7 if "int" in str(p.annotation) else "示例错误信息。"))
    try:
        return error_type(*args)
    except Exception:  # a piece's own problem type (not the catalogue's): an empty list is still an instance
        return error_type(*[[] if isinstance(a, list) else a for a in args])


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def raising_client(app):
    """The app with two routes that raise what ``app.state.to_raise`` holds (JSON under /api, else a page)."""
    from fastapi.testclient import TestClient

    def raiser():
        raise app.state.to_raise

    app.add_api_route("/api/test-raise", raiser)
    app.add_api_route("/test-raise", raiser)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


# Exception classes of qinqing that are not QinqingErrors, each with the reason. Anything else must be one.
NOT_DOMAIN_ERRORS = {
    "qinqing.web.errors.BodyTooLarge": "an HTTP exception: FastAPI re-raises only those from reading the body",
    "qinqing.audit.errors.AuditUsageError": "a caller's bug: a 500 with an error id",
}
ALL_ERROR_CLASSES = _qinqing_error_classes()
DOMAIN_ERROR_CLASSES = [c for c in ALL_ERROR_CLASSES if issubclass(c, QinqingError)]
EXPECTED_STATUS = {**{c: c.status for c in DOMAIN_ERROR_CLASSES}, RecursionError: 422, BodyTooLarge: 413}


def test_the_error_classes_are_found():
    names = {c.__name__ for c in DOMAIN_ERROR_CLASSES}
    assert {"AccountError", "CatalogueError", "RuleError", "RegistryError", "StoreError", "WebError"} <= names


@pytest.mark.parametrize("error_type", ALL_ERROR_CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_error_class_is_a_qinqing_error(error_type):
    name = f"{error_type.__module__}.{error_type.__qualname__}"
    assert issubclass(error_type, QinqingError) or name in NOT_DOMAIN_ERRORS, \
        f"{name} is not under qinqing.errors.QinqingError: subclass your piece's root (or say why not above)"


@pytest.mark.parametrize("error_type", list(EXPECTED_STATUS), ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_domain_error_answers_its_status_in_chinese(raising_client, app, error_type):
    """RecursionError included: deeply nested input (the editor's live check) is the request's fault."""
    app.state.to_raise = _sample(error_type)
    response = raising_client.get("/api/test-raise")
    assert response.status_code == EXPECTED_STATUS[error_type], (error_type, response.text)
    error = assert_shape(response, response.status_code, response.json()["error"]["code"])
    assert _has_chinese(error["message"]), error
    assert "Traceback" not in response.text
    if response.status_code >= 500:  # the instance's message stays in the log
        assert "示例错误信息" not in response.text
    if issubclass(error_type, QinqingError):
        assert error["code"] == error_type.code
        if error_type.status >= 500:
            assert error["message"] == error_type.default_message and error["place"] is None

    page = raising_client.get("/test-raise", follow_redirects=False)
    assert page.status_code == response.status_code or page.status_code == 303  # 401 on a page → login
    if page.status_code != 303:
        assert page.headers["content-type"].startswith("text/html")
        assert f'data-code="{error["code"]}"' in page.text


def test_store_error_hides_the_files_it_names(raising_client, app):
    from qinqing.matching.results import StoreError

    app.state.to_raise = StoreError("结果库正被另一个进程占用，等待 30 秒后仍未释放：/srv/qinqing/results/run-7.duckdb")
    error = assert_shape(raising_client.get("/api/test-raise"), 503, "matching.results_unavailable")
    assert "/srv" not in error["message"] and _has_chinese(error["message"])


def test_a_busy_store_is_a_503_with_retry_after_on_the_api_and_on_pages(raising_client, app):
    from qinqing.matching.results import StoreError

    app.state.to_raise = StoreError("结果库正在更新，等待 60 秒后仍未完成：/srv/qinqing/results")
    response = raising_client.get("/api/test-raise")
    assert response.status_code == 503 and response.headers["retry-after"] == str(StoreError.retry_after)
    page = raising_client.get("/test-raise")
    assert page.status_code == 503 and page.headers["retry-after"] == str(StoreError.retry_after)
    assert "/srv" not in page.text and "匹配结果暂时无法读取" in page.text


def test_a_place_is_in_the_json_and_on_the_page(raising_client, app):
    from qinqing.catalogue.errors import PolicyNotFound

    app.state.to_raise = PolicyNotFound("zj-001")
    error = assert_shape(raising_client.get("/api/test-raise"), 404, "catalogue.policy_not_found")
    assert error["place"] == {"policy_id": "zj-001"} and error["details"] == {"policy_id": "zj-001"}
    assert "位置：政策 zj-001" in raising_client.get("/test-raise").text


def test_a_login_rate_limit_says_when_to_retry(raising_client, app):
    from qinqing.accounts.errors import LoginRateLimited

    app.state.to_raise = LoginRateLimited("登录失败次数过多，请 30 秒后再试。", retry_after_seconds=30)
    response = raising_client.get("/api/test-raise")
    assert response.status_code == 429 and response.headers["retry-after"] == "30"


@pytest.mark.parametrize("error", [RuntimeError("password=hunter2 at /srv/qinqing/secret.py"), KeyError("uscc"),
                                   ZeroDivisionError("division by zero"), AttributeError("'NoneType' object")],
                         ids=lambda e: type(e).__name__)
def test_unexpected_error_is_a_chinese_500_without_traceback(raising_client, app, error):
    app.state.to_raise = error
    response = raising_client.get("/api/test-raise")
    body = assert_shape(response, 500, "web.internal_error")
    assert _has_chinese(body["message"])
    assert set(body["details"]) == {"error_id"}  # finds the traceback in the server log, tells nothing else
    for leak in ("Traceback", str(error), type(error).__name__, ".py"):
        assert leak not in response.text
    page = raising_client.get("/test-raise")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "服务器内部错误" in page.text
    for leak in ("Traceback", str(error), type(error).__name__):
        assert leak not in page.text


def test_deeply_nested_expression_in_the_live_check_is_not_a_500(app, users):
    """The editor's live check on a deeply nested expression raised RecursionError → 500 / connection reset."""
    from fastapi.testclient import TestClient

    client = TestClient(app)
    token = client.post("/api/auth/token", json={"username": "officer_hlj", "password": "correct-horse-9"}).json()
    depth = 400
    response = client.post("/api/officer/check-expression", json={"expr": "(" * depth + "1" + ")" * depth + " > 0"},
                           headers={"Authorization": f"Bearer {token['token']}"})
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert _has_chinese(assert_shape(response, response.status_code, response.json()["error"]["code"])["message"])
    else:
        assert response.json()["ok"] is False
