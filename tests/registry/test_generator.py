"""The synthetic registry: deterministic, valid against the standards, importable, plausible."""

from __future__ import annotations

from datetime import date

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from qinqing.registry import store
from qinqing.registry.generator import DEFAULT_AS_OF, generate
from qinqing.registry.importer import import_file
from qinqing.registry.standards import industries, regions, uscc
from qinqing.registry.tables import ENTERPRISES_ARROW_SCHEMA


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "r.parquet"
    generate(path, 20_000, seed=11, province="330000", chunk_rows=7_000)
    return pq.read_table(path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_same_seed_gives_the_same_bytes(tmp_path, suffix):
    generate(tmp_path / f"a{suffix}", 1_500, seed=5, chunk_rows=600)
    generate(tmp_path / f"b{suffix}", 1_500, seed=5, chunk_rows=600)
    generate(tmp_path / f"c{suffix}", 1_500, seed=6, chunk_rows=600)
    assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()
    assert (tmp_path / f"a{suffix}").read_bytes() != (tmp_path / f"c{suffix}").read_bytes()


def test_schema_and_unique_valid_codes(registry):
    assert registry.schema == ENTERPRISES_ARROW_SCHEMA
    assert registry.num_rows == 20_000
    codes = registry.column("uscc").to_pylist()
    assert len(set(codes)) == len(codes)
    regions_ = registry.column("region_code").to_pylist()
    for code, region in list(zip(codes, regions_))[::97]:
        assert uscc.check(code) is None
        assert code[2:8] == region
    assert all(regions.level(r) == "county" for r in set(regions_))
    assert all(industries.is_valid(c) and industries.level(c) == "class" for c in set(registry.column("industry_code").to_pylist()))


def test_most_enterprises_are_in_the_chosen_province(registry):
    home = pc.mean(pc.equal(pc.utf8_slice_codeunits(registry.column("region_code"), 0, 2), "33").cast("int8")).as_py()
    assert 0.83 < home < 0.87
    cities = {r[:4] for r in registry.column("region_code").to_pylist() if r.startswith("33")}
    assert len(cities) == 11  # every city of 浙江 appears


def _share(registry, name, condition=None):
    column = registry.column(name)
    return pc.mean(pc.is_valid(column).cast("int8") if condition is None else condition(column).cast("int8")).as_py()


def test_rates_are_plausible(registry):
    manufacturing = pc.equal(pc.utf8_slice_codeunits(registry.column("industry_code"), 0, 1), "C")
    assert 0.10 < pc.mean(manufacturing.cast("int8")).as_py() < 0.22
    made = registry.filter(manufacturing)
    assert 0.03 < _share(made, "high_tech_cert_year") < 0.12
    assert 0.01 < _share(registry, "srdi_year") < 0.03
    assert 0.001 < _share(registry, "little_giant_year") < 0.006
    assert 0.005 < _share(registry, "is_dishonest", lambda c: pc.fill_null(c, False)) < 0.015
    assert 0.015 < _share(registry, "in_abnormal_list", lambda c: pc.fill_null(c, False)) < 0.045
    for field in ("employees", "is_dishonest", "legal_person"):
        assert 0.04 < 1 - _share(registry, field) < 0.16  # missing at random
    for field in ("uscc", "name", "region_code", "industry_code"):
        assert _share(registry, field) == 1


def test_sizes_are_heavy_tailed_and_consistent(registry):
    employees = registry.column("employees").drop_null()
    assert pc.approximate_median(employees).as_py() < 15 < pc.quantile(employees, 0.99)[0].as_py() / 10
    revenue = pc.cast(registry.column("revenue"), "double")
    prev = pc.cast(registry.column("revenue_prev"), "double")
    growth = pc.subtract(pc.divide(revenue, prev), 1).drop_null()
    assert 0.0 < pc.approximate_median(growth).as_py() < 0.12
    established = registry.column("established_on").drop_null()
    assert pc.max(established).as_py() <= DEFAULT_AS_OF
    certified_before = pc.less(registry.column("srdi_year"), pc.year(registry.column("established_on")))
    assert not pc.any(pc.fill_null(certified_before, False)).as_py()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_generated_file_imports_without_a_single_rejection(engine, tmp_path, suffix):
    generate(tmp_path / f"r{suffix}", 800, seed=3)
    generate(tmp_path / "expected.parquet", 800, seed=3)
    result = import_file(tmp_path / f"r{suffix}", engine, as_of=date(2025, 1, 1))
    assert (result.read, result.stored, result.rejected) == (800, 800, 0)
    assert store.count_enterprises(engine) == 800
    assert store.to_arrow(engine).equals(pq.read_table(tmp_path / "expected.parquet").sort_by("uscc"))
