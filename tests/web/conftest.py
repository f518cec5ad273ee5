"""Fixtures for the web tests: a migrated SQLite store with real catalogue policies, a few enterprises
whose outcomes were worked out by hand, one user per role, and a TestClient per user."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qinqing.accounts import AccountService, Role
from qinqing.catalogue import CatalogueStore, load_directory
from qinqing.db import make_engine, migrate
from qinqing.registry.store import upsert_enterprises
from qinqing.settings import Settings
from qinqing.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
HLJ = ROOT / "policies" / "heilongjiang"
AS_OF = date(2021, 12, 1)
PASSWORD = "correct-horse-9"

# Hand-worked against hlj-2021-new-above-scale-industrial (50 万元 to new 2021 above-scale industry in 黑龙江).
ELIGIBLE = "91230102MA1BXXXX01"  # every condition met → eligible, 50 万元
UNKNOWN = "91230102MA1BXXXX02"  # safety blacklist unknown → unknown, missing in_safety_blacklist
OTHER = "91330106MA2CXXXX03"  # 浙江: outside the region → ineligible

ENTERPRISES = [
    {"uscc": ELIGIBLE, "name": "哈尔滨示例制造有限公司", "region_code": "230102", "industry_code": "C3911",
     "legal_person": True, "is_above_scale": True, "above_scale_since": 2021, "is_dishonest": False,
     "in_abnormal_list": False, "in_safety_blacklist": False, "employees": 120, "revenue": 9000},
    {"uscc": UNKNOWN, "name": "哈尔滨数据待补公司", "region_code": "230102", "industry_code": "C3911",
     "legal_person": True, "is_above_scale": True, "above_scale_since": 2021, "is_dishonest": False,
     "in_abnormal_list": False},
    {"uscc": OTHER, "name": "杭州西湖示例公司", "region_code": "330106", "industry_code": "C3911",
     "legal_person": True, "is_above_scale": True, "above_scale_since": 2021, "is_dishonest": False,
     "in_abnormal_list": False, "in_safety_blacklist": False},
]

HLJ_DEPARTMENT = "黑龙江省工业和信息化厅"


USERS = {
    "ent": ("ent_eligible", Role.ENTERPRISE, "示例制造", {"uscc": ELIGIBLE}),
    "ent_unknown": ("ent_unknown", Role.ENTERPRISE, "数据待补", {"uscc": UNKNOWN}),
    "officer": ("officer_hlj", Role.OFFICER, "黑龙江工信厅", {"department": HLJ_DEPARTMENT, "region_code": "230000"}),
    "officer_other": ("officer_zj", Role.OFFICER, "浙江经信厅",
                      {"department": "浙江省经济和信息化厅", "region_code": "330000"}),
    "supervisor": ("supervisor", Role.SUPERVISOR, "督查员", {}),
    "admin": ("admin", Role.ADMIN, "管理员", {}),
}


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """A migrated, seeded database built once; each test gets its own copy (argon2 hashing is slow on purpose)."""
    path = tmp_path_factory.mktemp("web-template") / "web.db"
    url = f"sqlite:///{path}"
    migrate(url)
    engine = make_engine(url)
    upsert_enterprises(engine, ENTERPRISES)
    report = load_directory(CatalogueStore(engine), HLJ)
    assert not report.errors, report.errors
    accounts = AccountService(engine)
    for username, role, display, binding in USERS.values():
        accounts.create_user(username, PASSWORD, role, display, **binding)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def web_engine(template_db, tmp_path):
    path = tmp_path / "web.db"
    shutil.copyfile(template_db, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


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
    settings = Settings(database_url=str(web_engine.url), secret_key="test-secret", reference_date=AS_OF,
                        results_dir=results_dir)
    return create_app(settings, engine=web_engine)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF meta tag"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/"}, follow_redirects=False)


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
