"""Constants and helpers of the appeals tests: one principal per role, a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qinqing.accounts.authz import Principal, Role
from qinqing.appeals.workdays import CHINA

ENTERPRISE_USCC = "91230102MA1BXXXX9M"  # a valid code (GB 32100)
OTHER_USCC = "91330106MA2CXXXX03"
HLJ_INDUSTRY = "黑龙江省工业和信息化厅"
HLJ_FINANCE = "黑龙江省财政厅"
HLJ_MARKET = "黑龙江省市场监督管理局"

ENTERPRISE = Principal(1, "ent1", Role.ENTERPRISE, "哈尔滨示例制造有限公司", uscc=ENTERPRISE_USCC)
OTHER_ENTERPRISE = Principal(2, "ent2", Role.ENTERPRISE, "杭州西湖示例公司", uscc=OTHER_USCC)
OFFICER = Principal(3, "officer_hlj", Role.OFFICER, "黑龙江工信厅", department=HLJ_INDUSTRY, region_code="230000")
FINANCE = Principal(4, "officer_fin", Role.OFFICER, "黑龙江财政厅", department=HLJ_FINANCE, region_code="230000")
MARKET = Principal(5, "officer_mkt", Role.OFFICER, "黑龙江市场监管局", department=HLJ_MARKET, region_code="230000")
DESK = Principal(6, "desk", Role.OFFICER, "12345派单席", department="12345热线涉企服务专席")
SUPERVISOR = Principal(7, "supervisor", Role.SUPERVISOR, "营商办督查员")


class Clock:
    """Now, as the test sets it (China time given, UTC kept)."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, *args: int) -> None:
        self.now = datetime(*args, tzinfo=CHINA).astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def complaint(**more) -> dict:
    data = {"kind": "complaint", "category": "ZC02", "title": "技改奖补资金迟迟未到账",
            "description": "我司 2025 年技术改造项目已公示获得奖补 50 万元，至今未拨付到账，请协调财政尽快拨付。",
            "region_code": "230102", "disclose_identity": True}
    data.update(more)
    return data
