"""Stored runs, tiers with the previous period's hysteresis, the 督办 rule over stored history, and a case's
整改 walk (report → return → report → acceptance → publication), each step in the audit trail."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from qinqing import audit
from qinqing.indices import tables
from qinqing.indices.engine import Inputs
from qinqing.indices.errors import CaseStateConflict
from qinqing.indices.load import parse_system
from qinqing.indices.service import IndicesService

TEXT = """\
id: demo
name: 示例指数
tables: {d: {}}
tiers:
  method: thresholds
  hysteresis: 2
  min_sample: 5
  levels:
    - {id: green, label: 绿, colour: "#2e7d32", min: 70}
    - {id: yellow, label: 黄, colour: "#f9a825", min: 40}
    - {id: red, label: 红, colour: "#c62828"}
supervision: {bottom_k: 2, consecutive: 2}
uncertainty: {runs: 50, seed: 3}
tree:
  id: total
  name: 总
  children:
    - {id: x, name: X, source: {table: d, column: x}}
    - {id: y, name: Y, source: {table: d, column: y}, direction: lower}
"""

UNITS = ["330100", "330200", "330300", "330400", "330500", "330600"]
NAMES = dict(zip(UNITS, ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市"], strict=True))


def _inputs(period: str, x: list[float], y: list[float], sample: list[float]) -> Inputs:
    raw = pd.DataFrame({"x": x, "y": y}, index=UNITS)
    return Inputs(raw=raw, names=NAMES, period=period,
                  sample=pd.DataFrame({"x": sample, "y": sample}, index=UNITS))


@pytest.fixture
def service(engine):
    return IndicesService(engine)


def test_store_tiers_supervise_and_rectify(service, engine) -> None:
    system = parse_system(TEXT)
    # 温州 (330300) has too small a sample: flagged, never ranked, coloured or supervised, though worst
    first = service.compute_period(system, TEXT, "2025-01",
                                   _inputs("2025-01", [9, 8, 0, 5, 2, 1], [1, 2, 9, 5, 8, 9], [30, 30, 2, 30, 30, 30]),
                                   actor="system:test")
    ranking = {r["unit"]: r for r in service.ranking(first.run_id)}
    assert ranking["330300"]["rank"] is None and ranking["330300"]["tier"] is None
    assert "样本不足" in ranking["330300"]["tier_reason"]
    assert ranking["330100"]["rank"] == 1 and ranking["330100"]["tier"] == "green"
    assert ranking["330100"]["rank_low"] is not None  # Monte Carlo interval stored
    assert service.supervise("demo", actor="supervisor:li") == []  # one period only

    second = service.compute_period(system, TEXT, "2025-02",
                                    _inputs("2025-02", [9, 8, 0, 1, 5, 2], [1, 2, 9, 9, 5, 8], [30, 30, 2, 30, 30, 30]),
                                    actor="system:test")
    assert second.run_id != first.run_id
    opened = service.supervise("demo", "2025-02", actor="supervisor:li")
    # bottom two among the five ranked: Jan 湖州, 绍兴; Feb 嘉兴, 绍兴 → only 绍兴 both months
    assert [c["unit"] for c in opened] == ["330600"]
    assert "连续 2 期" in opened[0]["reason"] and "绍兴市" in opened[0]["reason"]
    assert service.supervise("demo", "2025-02", actor="supervisor:li") == []  # not opened twice

    case_id = opened[0]["id"]
    with pytest.raises(CaseStateConflict):
        service.review(case_id, actor="supervisor:li", accept=True, note="通过")
    service.submit_report(case_id, actor="unit:330600", report="已压缩审核环节，兑付时限缩短至 3 个工作日。")
    service.review(case_id, actor="supervisor:li", accept=False, note="请补充佐证材料")
    assert service.case(case_id)["state"] == "open"
    service.submit_report(case_id, actor="unit:330600", report="补充：2025 年 3 月兑付台账。")
    service.review(case_id, actor="supervisor:li", accept=True, note="整改到位")
    done = service.publish(case_id, actor="supervisor:li", published_on=date(2025, 3, 15))
    assert done["state"] == "published" and done["published_on"] == date(2025, 3, 15)

    actions = [entry.action for entry in audit.trail(engine, "indices_case", case_id)]
    assert actions == ["indices_case.open", "indices_case.report", "indices_case.return", "indices_case.report",
                       "indices_case.accept", "indices_case.publish"]
    assert audit.verify(engine).ok


def test_recomputing_a_period_replaces_it(service, engine) -> None:
    system = parse_system(TEXT)
    inputs = _inputs("2025-01", [9, 8, 7, 5, 2, 1], [1, 2, 3, 5, 8, 9], [30] * 6)
    service.compute_period(system, TEXT, "2025-01", inputs, actor="a", uncertainty=False)
    service.compute_period(system, TEXT, "2025-01", inputs, actor="a", uncertainty=False)
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(tables.runs)).scalar() == 1
        assert connection.execute(sa.select(sa.func.count()).select_from(tables.unit_results)).scalar() == 6


def test_hysteresis_uses_the_previous_period(service) -> None:
    system = parse_system(TEXT)
    # 杭州 scores 100 in January (green); February x and y put it at 69 — inside the band, stays green
    service.compute_period(system, TEXT, "2025-01", _inputs("2025-01", [10, 0, 5, 5, 5, 5], [0, 10, 5, 5, 5, 5],
                                                             [30] * 6), actor="a", uncertainty=False)
    feb = service.compute_period(system, TEXT, "2025-02", _inputs("2025-02", [10, 0, 5, 5, 5, 5],
                                                                   [8.1, 10, 5, 5, 5, 5], [30] * 6),
                                 actor="a", uncertainty=False)
    score = feb.result.scores.at["330100", "total"]
    assert 68 <= score < 70
    assert feb.tiers["330100"].tier == "green" and "滞后带" in feb.tiers["330100"].reason


def test_migrated_columns_match_the_tables(engine) -> None:
    inspector = sa.inspect(engine)
    for table in tables.metadata.sorted_tables:
        reflected = {c["name"] for c in inspector.get_columns(table.name)}
        assert reflected == {c.name for c in table.columns}, table.name


def test_monthly_job_computes_registered_indices_once(service, engine, monkeypatch) -> None:
    import pandas as pd

    from qinqing.indices import monthly
    from qinqing.indices.sources import QUERIES, register_query

    def rate(context, params):
        assert context.period == "2025-02"
        return pd.DataFrame({"unit": ["d1", "d2", "d3"], "value": [0.9, 0.5, 0.7], "sample": [30, 30, 30]})

    names = ["appeals.response_rate", "appeals.resolution_rate", "appeals.satisfaction_rate",
             "appeals.closed_on_time", "appeals.supervised_per_100"]
    monkeypatch.setattr("qinqing.indices.sources.QUERIES", dict(QUERIES))
    monkeypatch.setattr("qinqing.indices.monthly.QUERIES", __import__("qinqing.indices.sources",
                                                                       fromlist=["QUERIES"]).QUERIES)
    for name in names:
        register_query(name, rate)
    assert monthly.last_completed_month(date(2025, 3, 2)) == "2025-02"
    assert monthly.last_completed_month(date(2025, 1, 5)) == "2024-12"
    first = monthly.compute_month(service, "2025-02")
    assert first["appeals_index"].startswith("computed") and first["kuaixiang"].startswith("skipped")
    assert monthly.compute_month(service, "2025-02")["appeals_index"] == "already computed"
    assert [r["unit"] for r in service.ranking(service.run("appeals_index", "2025-02")["id"])] == ["d1", "d3", "d2"]


def test_robust_supervision_over_stored_intervals(service) -> None:
    from qinqing.indices.load import BUILTIN_DIR

    path = BUILTIN_DIR / "kuaixiang_sample.yaml"
    text = path.read_text(encoding="utf-8").replace("robust: false", "robust: true")
    system = parse_system(text)
    for month in ("2025-01", "2025-02"):
        service.compute_period(system, text, month, actor="system:test", base_dir=BUILTIN_DIR)
    history = service.history("kuaixiang_sample")
    opened = {c["unit"]: c for c in service.supervise("kuaixiang_sample", actor="supervisor:li")}
    for unit, case in opened.items():  # every case: the whole interval in the bottom two, both months
        for period in history:
            assert period.best_plausible[unit] > period.n - 2
        assert "区间" in case["reason"]
    plain = parse_system(path.read_text(encoding="utf-8"))
    bottom_both = {u for u in history[-1].ranks
                   if all(p.ranks.get(u, 0) > p.n - 2 for p in history)}
    assert set(opened) <= bottom_both and plain.supervision.robust is False
    # 丽水 is in the bottom two both months, but its interval reaches rank 8: not surely behind
    assert bottom_both == {"330800", "331100"} and set(opened) == {"330800"}
