"""Constants and helpers of the web tests (a uniquely named module, importable beside other test trees)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

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


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF meta tag"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/"}, follow_redirects=False)
