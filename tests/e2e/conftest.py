"""Browser tests: the app served by uvicorn in a thread on a free localhost port with a fresh SQLite store,
driven by Debian's chromium through Playwright (no browser download)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from qinqing.accounts import AccountService, Role
from qinqing.catalogue import CatalogueStore, load_directory
from qinqing.db import make_engine, migrate
from qinqing.registry.store import upsert_enterprises

from e2e_support import AS_OF, CHROMIUM, CHROMIUM_ARGS, ENTERPRISES, PASSWORD, ROOT, ELIGIBLE, UNKNOWN  # noqa: F401


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(url: str, results_dir: Path) -> None:
    migrate(url)
    engine = make_engine(url)
    upsert_enterprises(engine, ENTERPRISES)
    catalogue = CatalogueStore(engine)
    load_directory(catalogue, ROOT / "policies" / "heilongjiang")
    _match(engine, catalogue, results_dir)
    accounts = AccountService(engine)
    accounts.create_user("ent1", PASSWORD, Role.ENTERPRISE, "哈尔滨示例制造", uscc=ELIGIBLE)
    accounts.create_user("ent2", PASSWORD, Role.ENTERPRISE, "哈尔滨数据待补", uscc=UNKNOWN)
    accounts.create_user("officer", PASSWORD, Role.OFFICER, "黑龙江工信厅", department="黑龙江省工业和信息化厅",
                         region_code="230000")
    accounts.create_user("supervisor", PASSWORD, Role.SUPERVISOR, "营商办督查员")
    accounts.create_user("admin", PASSWORD, Role.ADMIN, "系统管理员")
    engine.dispose()


def _match(engine, catalogue, results_dir: Path) -> None:
    """A full matching run, as `qinqing demo` makes one: 我的政策 and 督政策 read it, publishing re-matches into it."""
    from qinqing.matching.results import ResultStore
    from qinqing.matching.run import full_run
    from qinqing.registry.store import to_arrow
    from qinqing.rules import parse_policy_text

    policies = [parse_policy_text(e.yaml_text, e.policy_id) for e in catalogue.published()]
    store = ResultStore(results_dir)
    full_run(policies, to_arrow(engine), store, AS_OF)
    store.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of a live server on a fresh database."""
    import uvicorn

    from qinqing.settings import Settings
    from qinqing.web.app import create_app

    directory = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{directory / 'e2e.db'}"
    _seed(url, directory / "results")
    app = create_app(Settings(database_url=url, secret_key="e2e-secret", reference_date=AS_OF,
                              results_dir=directory / "results"))
    app.state.services.worker.start()  # the in-process job runner, as `qinqing serve` runs it
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.state.services.worker.stop()


@pytest.fixture(scope="session")
def browser(session_chromium):
    """The session's one chromium (tests/conftest.py)."""
    return session_chromium


@pytest.fixture
def page_for(browser, server):
    """page_for("ent1") → a new browser page logged in as that user."""
    contexts = []

    def make(username: str):
        context = browser.new_context(base_url=server, locale="zh-CN", viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield make
    for c in contexts:
        c.close()
