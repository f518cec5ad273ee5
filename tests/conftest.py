"""Shared fixtures: a fresh, migrated-on-demand database per test, on SQLite and on PostgreSQL.

``database_url`` is parametrised: every test that uses it runs once on a new SQLite file and once
on a new PostgreSQL database created on the server at QINQING_TEST_POSTGRES_URL (scripts/test.sh
starts one and sets it). Without that variable the PostgreSQL runs are skipped, saying why.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

POSTGRES_ENV = "QINQING_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """URL of an empty database of its own for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'qinqing.db'}"
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set; scripts/test.sh starts a PostgreSQL server and sets it")
    name = f"qinqing_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def engine(database_url):
    """A migrated store (every branch at its head) on ``database_url``."""
    from qinqing.db import make_engine, migrate

    migrate(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


CHROMIUM = os.environ.get("QINQING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def session_chromium():
    """One Playwright and one Debian chromium for the whole test session, shared by every browser test
    (e2e, workflow, indices): a second ``sync_playwright()`` started in the same thread while the first
    is alive fails with "using Playwright Sync API inside the asyncio loop"."""
    import shutil
    from pathlib import Path

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium binary at {CHROMIUM}: install Debian's chromium (apt-get install chromium) "
                    "or set QINQING_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
