"""The indices pages: the three-colour map and ranking, a unit's indicators with their records, and the
督办 → 整改 → 验收 → 公示 walk, through the app (TestClient) and in Debian's chromium (browser mark)."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qinqing.accounts import AccountService, Role
from qinqing.db import make_engine, migrate
from qinqing.indices.load import BUILTIN_DIR, load_system
from qinqing.indices.service import IndicesService
from qinqing.settings import Settings
from qinqing.web.app import create_app

PASSWORD = "correct-horse-9"
INDEX = "kuaixiang_sample"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("QINQING_CHROMIUM", "/usr/bin/chromium")


def _seed(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    service = IndicesService(engine)
    path = BUILTIN_DIR / f"{INDEX}.yaml"
    system = load_system(path)
    for month in ("2025-01", "2025-02"):
        service.compute_period(system, path.read_text(encoding="utf-8"), month, actor="system:test", base_dir=BUILTIN_DIR)
    accounts = AccountService(engine)
    accounts.create_user("supervisor", PASSWORD, Role.SUPERVISOR, "营商办督查员")
    accounts.create_user("quzhou", PASSWORD, Role.OFFICER, "衢州市营商办", department="衢州市营商办",
                         region_code="330800")
    accounts.create_user("ningbo", PASSWORD, Role.OFFICER, "宁波市营商办", department="宁波市营商办",
                         region_code="330200")
    accounts.create_user("ent", PASSWORD, Role.ENTERPRISE, "某企业", uscc="91330106MA2CXXXX03")
    engine.dispose()


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'web.db'}"
    _seed(url)
    return create_app(Settings(database_url=url, secret_key="t", reference_date=date(2025, 3, 10)))


def _login(app, username: str) -> TestClient:
    client = TestClient(app)
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token,
                                           "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    return client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_map_and_ranking(app) -> None:
    client = _login(app, "supervisor")
    page = client.get(f"/indices/{INDEX}")
    assert page.status_code == 200
    html = page.text
    assert "三色图" in html and "/static/vendor/echarts-4.9.0/echarts.min.js" in html
    assert 'data-unit="330800"' in html and "样本不足" in html  # 舟山 is flagged, not coloured
    data = client.get(f"/api/indices/{INDEX}/ranking").json()
    assert data["period"] == "2025-02" and len(data["units"]) == 11
    zhoushan = next(u for u in data["units"] if u["unit"] == "330900")
    assert zhoushan["tier"] is None and zhoushan["rank"] is None and zhoushan["colour"] == "#bdbdbd"
    assert {u["tier"] for u in data["units"] if u["tier"]} == {"green", "yellow", "red"}
    assert client.get("/static/vendor/echarts-4.9.0/zhejiang.json").json()["type"] == "FeatureCollection"
    workbook = client.get(f"/api/indices/{INDEX}/ranking.xlsx?period=2025-01")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert book.sheetnames == ["排名", "指标数据", "督办与整改"]
    assert book["排名"]["C4"].value == "宁波市" or book["排名"]["C4"].value == "杭州市"
    unit = client.get(f"/indices/{INDEX}/units/330100?period=2025-01")
    assert unit.status_code == 200 and "兑付金额占预算比例" in unit.text and "kuaixiang_sample.csv" in unit.text


def test_enterprises_cannot_see_indices(app) -> None:
    assert _login(app, "ent").get(f"/api/indices/{INDEX}/ranking").status_code == 403


def test_supervision_walk(app) -> None:
    supervisor = _login(app, "supervisor")
    token = _csrf(supervisor.get(f"/indices/{INDEX}").text)
    response = supervisor.post(f"/indices/{INDEX}/supervise", data={"period": "2025-02", "csrf_token": token},
                               follow_redirects=False)
    assert response.status_code == 303
    cases = supervisor.get(f"/api/indices/{INDEX}/cases").json()
    assert sorted(c["unit_name"] for c in cases) == ["丽水市", "衢州市"]
    quzhou_case = next(c for c in cases if c["unit"] == "330800")["id"]
    ningbo = _login(app, "ningbo")
    refused = ningbo.post(f"/indices/cases/{quzhou_case}/report",
                          data={"text": "x", "csrf_token": _csrf(ningbo.get(f"/indices/{INDEX}").text)})
    assert refused.status_code == 403
    quzhou = _login(app, "quzhou")
    quzhou.post(f"/indices/cases/{quzhou_case}/report",
                data={"text": "已推行免申即享，兑付时限压缩至 3 个工作日。",
                      "csrf_token": _csrf(quzhou.get(f"/indices/{INDEX}").text)})
    supervisor.post(f"/indices/cases/{quzhou_case}/review",
                    data={"decision": "accept", "note": "整改到位", "csrf_token": token})
    supervisor.post(f"/indices/cases/{quzhou_case}/publish", data={"published_on": "2025-03-20", "csrf_token": token})
    case = next(c for c in supervisor.get(f"/api/indices/{INDEX}/cases").json() if c["id"] == quzhou_case)
    assert case["state"] == "published" and case["published_on"] == "2025-03-20"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_browser_map_and_rectification(tmp_path, session_chromium) -> None:
    import uvicorn

    url = f"sqlite:///{tmp_path / 'browser.db'}"
    _seed(url)
    app = create_app(Settings(database_url=url, secret_key="b", reference_date=date(2025, 3, 10)))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        browser = session_chromium  # the session's one chromium (tests/conftest.py), not closed here
        base = f"http://127.0.0.1:{port}"

        def login(name):
            context = browser.new_context(base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto("/login")
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            return page

        page = login("supervisor")
        page.goto(f"/indices/{INDEX}")
        page.wait_for_selector("#index-map[data-ready='1'] canvas")
        page.screenshot(path=str(SCREENSHOTS / "indices-map.png"), full_page=True)
        page.click("#run-supervision")
        page.wait_for_selector("tr[data-case][data-state=open]")
        assert page.locator("tr[data-case]").count() == 2
        page.screenshot(path=str(SCREENSHOTS / "indices-supervision.png"), full_page=True)

        officer = login("quzhou")
        officer.goto(f"/indices/{INDEX}")
        row = officer.locator("tr[data-case]", has_text="衢州市")
        row.locator("textarea[name=text]").fill("已推行免申即享，兑付时限压缩至 3 个工作日。")
        row.locator(".report-button").click()
        officer.wait_for_selector("tr[data-case][data-state=reported]")

        page.goto(f"/indices/{INDEX}")
        row = page.locator("tr[data-case][data-state=reported]")
        row.locator("input[name=note]").fill("整改到位")
        row.locator(".accept-button").click()
        page.wait_for_selector("tr[data-case][data-state=accepted]")
        row = page.locator("tr[data-case][data-state=accepted]")
        row.locator("input[name=published_on]").fill("2025-03-20")
        row.locator(".publish-button").click()
        page.wait_for_selector("tr[data-case][data-state=published]")
        assert "2025-03-20" in page.locator("tr[data-case][data-state=published]").text_content()
        page.screenshot(path=str(SCREENSHOTS / "indices-rectification.png"), full_page=True)
        page.goto(f"/indices/{INDEX}/units/330800?period=2025-02")
        page.screenshot(path=str(SCREENSHOTS / "indices-unit.png"), full_page=True)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
