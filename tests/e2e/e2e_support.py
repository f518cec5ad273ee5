"""Constants and helpers of the browser tests."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct-horse-9"
AS_OF = date(2021, 12, 1)
CHROMIUM = os.environ.get("QINQING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

ELIGIBLE = "91230102MA1BXXXX01"
UNKNOWN = "91230102MA1BXXXX02"
ENTERPRISES = [
    {"uscc": ELIGIBLE, "name": "哈尔滨示例制造有限公司", "region_code": "230102", "industry_code": "C3911",
     "legal_person": True, "is_above_scale": True, "above_scale_since": 2021, "is_dishonest": False,
     "in_abnormal_list": False, "in_safety_blacklist": False, "employees": 120, "revenue": 9000,
     "total_assets": 12000, "established_on": date(2012, 5, 4)},
    {"uscc": UNKNOWN, "name": "哈尔滨数据待补公司", "region_code": "230103", "industry_code": "C3411",
     "legal_person": True, "is_above_scale": True, "above_scale_since": 2021, "is_dishonest": False,
     "in_abnormal_list": False},
    {"uscc": "91330106MA2CXXXX03", "name": "杭州西湖示例公司", "region_code": "330106", "industry_code": "C3911",
     "legal_person": True, "is_above_scale": True, "above_scale_since": 2021},
]


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
