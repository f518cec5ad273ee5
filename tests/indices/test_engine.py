"""The pipeline through configuration: missing-data rules with every imputed cell recorded, denominators,
data-driven weights at a node, per-node aggregators, ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qinqing.indices.engine import Inputs, compute
from qinqing.indices.load import parse_system
from qinqing.indices.sources import gather

BASE = """\
id: t
name: 测试
tables: {d: {}}
missing: {indicator_coverage: 0.5, unit_availability: 0.5, impute: %(impute)s}
tree:
  id: total
  name: 总
  children:
    - {id: a, name: A, source: {table: d, column: a}}
    - {id: b, name: B, source: {table: d, column: b}}
    - {id: c, name: C, source: {table: d, column: c}}
"""


def _raw(**columns):
    return pd.DataFrame(columns, index=["u1", "u2", "u3", "u4"], dtype=float)


@pytest.mark.parametrize(("impute", "filled"), [("mean", 4.0), ("median", 4.0), ("min", 2.0), ("max", 6.0)])
def test_imputation_is_recorded_per_cell(impute, filled) -> None:
    system = parse_system(BASE % {"impute": impute})
    raw = _raw(a=[2, 4, 6, np.nan], b=[1, 2, 3, 4], c=[4, 3, 2, 1])
    result = compute(system, Inputs(raw=raw))
    assert result.values.at["u4", "a"] == filled
    assert result.imputed.at["u4", "a"] == impute
    assert (result.imputed.drop(index="u4") == "").all().all()
    assert np.isnan(result.raw.at["u4", "a"])  # the raw value stays missing
    assert "a:" + impute in result.ranking().set_index("unit").at["u4", "imputed"]


def test_carry_forward_uses_the_previous_period() -> None:
    system = parse_system(BASE % {"impute": "carry_forward"})
    raw = _raw(a=[2, 4, 6, np.nan], b=[1, 2, 3, 4], c=[4, 3, 2, 1])
    previous = _raw(a=[1, 1, 1, 5], b=[1, 1, 1, 1], c=[1, 1, 1, 1])
    result = compute(system, Inputs(raw=raw, previous=previous))
    assert result.values.at["u4", "a"] == 5 and result.imputed.at["u4", "a"] == "carry_forward"


def test_no_imputation_rescales_the_weights_over_what_is_present() -> None:
    system = parse_system(BASE % {"impute": "none"})
    raw = _raw(a=[2, 4, 6, np.nan], b=[1, 2, 3, 4], c=[4, 3, 2, 1])
    result = compute(system, Inputs(raw=raw))
    # u4: b → 100, c → 0 (min-max), a missing → mean of the two
    assert result.scores.at["u4", "total"] == pytest.approx(50)
    assert result.imputed.at["u4", "a"] == ""


def test_availability_and_coverage_thresholds() -> None:
    system = parse_system(BASE % {"impute": "none"})
    raw = _raw(a=[1, 2, 3, np.nan], b=[np.nan, np.nan, np.nan, 1], c=[1, np.nan, 3, np.nan])
    result = compute(system, Inputs(raw=raw))
    assert "b" in result.dropped_indicators  # 25 % coverage < 50 %
    assert "u4" in result.excluded_units  # no a, no c: 0 of 2
    assert np.isnan(result.scores.at["u4", "total"]) and np.isnan(result.ranks.at["u4", "total"])
    assert "u2" not in result.excluded_units  # 1 of 2 = 50 %


@pytest.mark.parametrize("method", ["entropy", "critic", "pca"])
def test_data_driven_weights_at_a_node(method) -> None:
    text = (BASE % {"impute": "none"}).replace("  name: 总\n", f"  name: 总\n  weights: {{method: {method}}}\n", 1)
    system = parse_system(text)
    raw = _raw(a=[1, 2, 3, 4], b=[1, 3, 2, 5], c=[4, 1, 3, 2])
    result = compute(system, Inputs(raw=raw))
    w = result.weights["total"]
    assert w.method == method and w.weights.sum() == pytest.approx(1) and (w.weights >= 0).all()


@pytest.mark.parametrize(("aggregate", "expected"), [("arithmetic", 50.0), ("geometric", 0.0), ("harmonic", 0.0)])
def test_aggregator_per_node(aggregate, expected) -> None:
    text = (BASE % {"impute": "none"}).replace("  name: 总\n", f"  name: 总\n  aggregate: {aggregate}\n", 1)
    result = compute(parse_system(text), Inputs(raw=_raw(a=[1, 2, 3, 4], b=[1, 2, 3, 4], c=[4, 3, 2, 1])))
    # u1 scores (0, 0, 100)... u4 (100, 100, 0): any zero makes the geometric and harmonic means 0
    assert result.scores.at["u4", "total"] == pytest.approx(100 * 2 / 3 if aggregate == "arithmetic" else expected)


def test_denominator_from_a_table(tmp_path) -> None:
    (tmp_path / "d.csv").write_text("code,name,policies,enterprises\n330100,杭州市,120,600000\n330200,宁波市,90,300000\n",
                                    encoding="utf-8")
    system = parse_system("""\
id: per10k
name: 每万户
tables: {d: {path: d.csv, unit_column: code, name_column: name}}
tree:
  id: total
  name: 总
  children:
    - {id: density, name: 每万户政策数, source: {table: d, column: policies},
       denominator: {source: {table: d, column: enterprises}, per: 10000}}
""")
    inputs = gather(system, base_dir=tmp_path)
    assert inputs.raw.at["330100", "density"] == pytest.approx(2.0)
    assert inputs.raw.at["330200", "density"] == pytest.approx(3.0)
    assert inputs.names["330100"] == "杭州市"
    assert inputs.provenance[("330100", "density")]["numerator"]["row"] == 2
    assert compute(system, inputs).ranking()["unit"].tolist() == ["330200", "330100"]


def test_eligible_enterprises_query_over_the_results_store() -> None:
    from types import SimpleNamespace

    from qinqing.indices.queries import eligible_enterprises
    from qinqing.indices.sources import QueryContext, queries

    rows = [SimpleNamespace(region_code="330102", enterprises=5, registered=50),
            SimpleNamespace(region_code="330106", enterprises=7, registered=70),
            SimpleNamespace(region_code="330203", enterprises=1, registered=10),
            SimpleNamespace(region_code=None, enterprises=9, registered=9)]
    store = SimpleNamespace(current_run=lambda: SimpleNamespace(run_id="r1"), counts_by_region=lambda: rows)
    city = eligible_enterprises(QueryContext(period="2025-01", options={"results": store}), {})
    assert city.set_index("unit")["value"].to_dict() == {"330100": 12.0, "330200": 1.0}
    county = eligible_enterprises(QueryContext(period="2025-01", options={"results": store, "level": "county"}), {})
    assert set(county["unit"]) == {"330102", "330106", "330203"}
    assert "matching.eligible_enterprises" in queries()
