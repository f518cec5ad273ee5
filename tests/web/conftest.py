"""Fixtures for the web tests: a migrated store (SQLite, and PostgreSQL when test.sh started one) with real catalogue policies, a few enterprises
whose outcomes were worked out by hand, one user per role, and a TestClient per user."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from qinqing.accounts import AccountService, Role
from qinqing.catalogue import CatalogueStore, load_directory
from qinqing.db import make_engine, migrate
from qinqing.registry.store import upsert_enterprises
from qinqing.settings import Settings
from qinqing.web.app import create_app

POSTGRES_ENV = "QINQING_TEST_POSTGRES_URL"  # as tests/conftest.py (not importable by name from here)

from web_support import AS_OF, ELIGIBLE, ENTERPRISES, HLJ, HLJ_DEPARTMENT, PASSWORD, UNKNOWN, csrf_of, login  # noqa: F401

USERS = {
    "ent": ("ent_eligible", Role.ENTERPRISE, "示例制造", {"uscc": ELIGIBLE}),
    "ent_unknown": ("ent_unknown", Role.ENTERPRISE, "数据待补", {"uscc": UNKNOWN}),
    "officer": ("officer_hlj", Role.OFFICER, "黑龙江工信厅", {"department": HLJ_DEPARTMENT, "region_code": "230000"}),
    "officer_other": ("officer_zj", Role.OFFICER, "浙江经信厅",
                      {"department": "浙江省经济和信息化厅", "region_code": "330000"}),
    "supervisor": ("supervisor", Role.SUPERVISOR, "督查员", {}),
    "admin": ("admin", Role.ADMIN, "管理员", {}),
}


def _seed(url: str) -> None:
    """Migrate ``url`` and fill it: the enterprises, the Heilongjiang policies, one user per role."""
    migrate(url)
    engine = make_engine(url)
    upsert_enterprises(engine, ENTERPRISES)
    report = load_directory(CatalogueStore(engine), HLJ)
    assert not report.errors, report.errors
    accounts = AccountService(engine)
    for username, role, display, binding in USERS.values():
        accounts.create_user(username, PASSWORD, role, display, **binding)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """A migrated, seeded database built once; each test gets its own copy (argon2 hashing is slow on purpose)."""
    path = tmp_path_factory.mktemp("web-template") / "web.db"
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template():
    """The same seeded database on the PostgreSQL server of QINQING_TEST_POSTGRES_URL, as a template
    that each test's database is created from (CREATE DATABASE … TEMPLATE: a file copy, no re-seeding)."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set; scripts/test.sh starts a PostgreSQL server and sets it")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"qinqing_web_template_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        _seed(sa.make_url(server).set(database=name).render_as_string(hide_password=False))
        yield admin, name
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web_engine(request, template_db, tmp_path):
    """The seeded web database, a copy of its own per test: every web test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "web.db"
        shutil.copyfile(template_db, path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    admin, template = request.getfixturevalue("postgres_template")
    name = f"qinqing_web_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    engine = make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def users(web_engine):
    accounts = AccountService(web_engine)
    by_name = {p.username: p for p in accounts.list_users()}
    return {key: by_name[username] for key, (username, *_rest) in USERS.items()}


@pytest.fixture
def results_dir(tmp_path) -> Path:
    """An empty matching results store (no run yet: 我的政策 evaluates directly until a run exists)."""
    return tmp_path / "results"


@pytest.fixture
def app(web_engine, users, results_dir):
    settings = Settings(database_url=web_engine.url.render_as_string(hide_password=False), secret_key="test-secret", reference_date=AS_OF,
                        results_dir=results_dir)
    return create_app(settings, engine=web_engine)


@pytest.fixture
def client_for(app):
    """client_for("ent_eligible") → a TestClient logged in as that user (None: anonymous)."""
    clients = []

    def make(username: str | None = None) -> TestClient:
        client = TestClient(app)
        clients.append(client)
        if username:
            response = login(client, username)
            assert response.status_code == 303, response.text
        return client

    yield make
    for c in clients:
        c.close()
