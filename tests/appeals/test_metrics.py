"""三率 computed by hand for a small fixture, including a unit under the minimum count."""

from __future__ import annotations

from datetime import datetime

import pytest
from appeals_support import (ENTERPRISE, FINANCE, HLJ_FINANCE, HLJ_INDUSTRY, HLJ_MARKET, MARKET, OFFICER, SUPERVISOR,
                             complaint)

from qinqing.appeals.config import default_text
from qinqing.appeals.metrics import export_xlsx, month_period, wilson_lower
from qinqing.appeals.service import ranking_for
from qinqing.appeals.workdays import CHINA

TEXTS = ["技改奖补资金公示后一直未拨付到账", "稳岗返还资金迟迟没有发放", "人才补贴兑现被无故拖延"]


def handled(service, clock, text, *, late_lead=False, ratings=((5, True),)):
    appeal = service.submit(ENTERPRISE, complaint(title=text, description=text + "。")).appeal
    service.accept(FINANCE, appeal.id)
    if late_lead:
        clock.advance(hours=30)
    service.accept(OFFICER, appeal.id)
    for level, resolved in ratings:
        service.reply(OFFICER, appeal.id, "已办理")
        service.rate(ENTERPRISE, appeal.id, level, resolved=resolved)
    clock.advance(hours=1)
    return appeal


@pytest.fixture
def fixture_month(service, clock):
    text = default_text().replace("min_count: 20", "min_count: 3").replace("threshold: 0.5 ", "threshold: 0.99 ")
    service.load_config(SUPERVISOR, text)
    handled(service, clock, TEXTS[0])
    handled(service, clock, TEXTS[1], late_lead=True, ratings=((4, None),))
    handled(service, clock, TEXTS[2], ratings=((2, False), (3, True)))
    small = service.submit(ENTERPRISE, complaint(category="JG01", title="重复检查", description="被重复检查。")).appeal
    service.accept(MARKET, small.id)
    service.reply(MARKET, small.id, "已核查")
    service.rate(ENTERPRISE, small.id, 5, resolved=True)
    clock.set(2026, 10, 5, 9)
    return month_period(2026, 9)


def test_three_rates_by_hand(service, fixture_month):
    table = ranking_for(service, SUPERVISOR, *fixture_month)
    rows = {r.unit: r for r in table.rows}
    industry, finance, market = rows[HLJ_INDUSTRY], rows[HLJ_FINANCE], rows[HLJ_MARKET]
    # 响应率: the lead signed 2 of 3 in time (one after 30 h against 24 h); finance 3 of 3
    assert (industry.rates["response"].successes, industry.rates["response"].n) == (2, 3)
    assert (finance.rates["response"].successes, finance.rates["response"].n) == (3, 3)
    # 满意率 on the last valid rating: 5, 4, 3 → 3 of 3; 解决率: yes, (unanswered), yes → 2 of 2
    assert (industry.rates["satisfaction"].successes, industry.rates["satisfaction"].n) == (3, 3)
    assert (industry.rates["resolution"].successes, industry.rates["resolution"].n) == (2, 2)
    assert finance.rates["satisfaction"].n == 0  # 协办 only: no rating of its own
    # the unit under the minimum is flagged, not ranked, even with perfect rates
    assert market.rates["response"].raw == 1.0 and market.rank is None and "样本不足" in market.flag
    # scores on Wilson lower bounds, equal weights over the rates that have a denominator
    expected_industry = (wilson_lower(2, 3) + wilson_lower(3, 3) + wilson_lower(2, 2)) / 3
    assert industry.score == pytest.approx(expected_industry)
    assert finance.score == pytest.approx(wilson_lower(3, 3))
    assert (finance.rank, industry.rank) == (1, 2) if finance.score > industry.score else (2, 1)


def test_rankings_by_region_and_export(service, fixture_month, tmp_path):
    table = ranking_for(service, SUPERVISOR, *fixture_month, by="region")
    assert [r.unit for r in table.rows] == ["230100"]
    assert table.rows[0].rates["response"].n == 7  # 3 × (lead + assisting) + 1
    path = export_xlsx(tmp_path / "rankings.xlsx", [table, ranking_for(service, SUPERVISOR, *fixture_month)])
    from openpyxl import load_workbook

    book = load_workbook(path)
    assert book.sheetnames[-1] == "说明" and len(book.sheetnames) == 3


def test_month_boundaries_are_configurable():
    start, end = month_period(2026, 10, starts_on=26)
    assert start.astimezone(CHINA) == datetime(2026, 9, 26, tzinfo=CHINA)
    assert end.astimezone(CHINA) == datetime(2026, 10, 26, tzinfo=CHINA)
    start, end = month_period(2026, 12)
    assert end.astimezone(CHINA) == datetime(2027, 1, 1, tzinfo=CHINA)


def test_wilson_keeps_a_single_report_from_topping_the_chart():
    assert wilson_lower(1, 1) < wilson_lower(90, 100)
