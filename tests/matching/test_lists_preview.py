"""Push lists, payout candidates, exports with Chinese headers, and the draft preview."""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinqing.matching.engines.plan import PolicyPlan, plan_from_sql
from qinqing.matching.lists import auto_grant_candidates, export, push_list
from qinqing.matching.preview import preview
from qinqing.matching.results import ResultStore
from qinqing.matching.run import full_run
from qinqing.matching.scope import Scope

AS_OF = date(2024, 6, 1)


@dataclass(frozen=True)
class Draft:  # a catalogue entry: the compiled plan plus what the lists need of the policy
    plan: PolicyPlan
    mode: str

    @property
    def id(self):
        return self.plan.policy_id


def plan(threshold):
    return plan_from_sql("p", [("rev", f"revenue >= {threshold}"), ("honest", "NOT is_dishonest")],
                         "least(revenue * 0.01, 50)", Scope("33", None))


def test_push_list_holds_only_new_eligible_pairs(tmp_path, registry):
    store = ResultStore(tmp_path)
    full_run([plan(5000)], registry(), store, AS_OF)
    first = push_list(store)
    assert first.num_rows == store.counts_by_policy()["p"].eligible  # no previous run: all are new
    full_run([plan(3000)], registry(), store, AS_OF)  # a lower threshold adds eligible enterprises
    new = push_list(store)
    counts = store.counts_by_policy()["p"]
    assert 0 < new.num_rows == counts.eligible - first.num_rows
    assert not set(new.column("uscc").to_pylist()) & set(first.column("uscc").to_pylist())


def test_auto_grant_candidates_and_exports(tmp_path, registry):
    store = ResultStore(tmp_path)
    full_run([plan(3000)], registry(), store, AS_OF)
    table = auto_grant_candidates(store, [Draft(plan(3000), "免申即享")])
    assert table.num_rows == store.counts_by_policy()["p"].eligible
    assert auto_grant_candidates(store, [Draft(plan(3000), "申报")]).num_rows == 0
    with open(export(table, tmp_path / "l.csv", {"p": "测试政策"}), encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:4] == ["统一社会信用代码", "政策编号", "政策名称", "匹配结果"]
    assert rows[1][2:4] == ["测试政策", "符合"]
    sheet = openpyxl.load_workbook(export(table, tmp_path / "l.xlsx")).active
    assert sheet.cell(1, 5).value == "预计金额（万元）" and sheet.max_row == table.num_rows + 1


def test_preview_counts_and_budget(registry):
    enterprises = registry()
    draft = replace(plan(3000), policy_id="draft")
    result = preview(draft, enterprises, AS_OF)
    assert result.eligible > 0 and result.unknown > 0
    assert result.evaluated == sum(1 for r in enterprises.column("region_code").to_pylist())
    assert sum(r["eligible"] for r in result.by_region) == result.eligible
    assert sum(r["amount"] for r in result.by_industry) == result.amount_total
    assert result.amount_distribution[-1]["amount"] <= 50
    assert sum(b["eligible"] for b in result.amount_bands) == result.eligible  # every amount in one band
    assert sum(b["amount"] for b in result.amount_bands) == result.amount_total
    assert result.amount_bands[0]["low"] == 0 and result.amount_bands[-1]["high"] >= result.amount_distribution[-1]["amount"]
    assert len(result.sample) == 20 and result.sample[0]["status"] == "eligible"


@pytest.mark.parametrize("amounts, bands", [
    ([], []),
    (["10", "10"], [("10", "10", 2)]),  # all equal: one band
    # top 50 → width ≥ 50 / 8 = 6.25 → 10; 50 itself falls in the last band [40, 50]
    (["3", "7", "50"], [("0", "10", 2), ("10", "20", 0), ("20", "30", 0), ("30", "40", 0), ("40", "50", 1)]),
    # top 100 → width ≥ 12.5 → 20; 20 is the low end of [20, 40)
    (["0.5", "20", "20", "100"], [("0", "20", 1), ("20", "40", 2), ("40", "60", 0), ("60", "80", 0), ("80", "100", 1)]),
    # top 10.8 → width ≥ 1.35 → 2; ceil(10.8 / 2) = 6 bands, 10.8 in [10, 12]
    (["0.15", "10.8"], [("0", "2", 1), ("2", "4", 0), ("4", "6", 0), ("6", "8", 0), ("8", "10", 0), ("10", "12", 1)]),
    # top 0.03 → width ≥ 0.00375 → 0.005: six bands
    (["0.012", "0.03"], [("0", "0.005", 0), ("0.005", "0.01", 0), ("0.01", "0.015", 1), ("0.015", "0.02", 0),
                         ("0.02", "0.025", 0), ("0.025", "0.03", 1)]),
])  # fmt: skip
def test_amount_bands_have_round_widths(amounts, bands):
    from qinqing.matching.preview import amount_bands

    got = amount_bands([Decimal(a) for a in amounts])
    assert [(b["low"], b["high"], b["eligible"]) for b in got] == [(Decimal(lo), Decimal(hi), n) for lo, hi, n in bands]
    assert sum(b["amount"] for b in got) == sum(Decimal(a) for a in amounts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=10**8, places=4, allow_nan=False), min_size=1, max_size=50))
def test_amount_bands_hold_every_amount_once_in_at_most_eight_bands(amounts):
    from qinqing.matching.preview import amount_bands

    bands = amount_bands(amounts)
    assert sum(b["eligible"] for b in bands) == len(amounts)
    assert sum(b["amount"] for b in bands) == sum(amounts)
    assert 1 <= len(bands) <= 8
    if len(bands) > 1:
        width = bands[0]["high"] - bands[0]["low"]
        assert width.normalize().as_tuple().digits[0] in (1, 2, 5) and len(width.normalize().as_tuple().digits) == 1
        assert bands[0]["low"] == 0 and bands[-1]["high"] >= max(amounts) > bands[-1]["low"] - width
        for b in bands:
            inside = [a for a in amounts if b["low"] <= a < b["high"] or (b is bands[-1] and a == b["high"])]
            assert b["eligible"] == len(inside)
