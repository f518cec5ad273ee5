"""A full run on Spark (local mode) publishes the rows a full run on DuckDB publishes."""

from __future__ import annotations

from datetime import date

import pytest

from matching.test_fastpath_semantics import POLICIES, random_registry
from qinqing.matching.results import ResultStore
from qinqing.matching.run import full_run

AS_OF = date(2024, 6, 1)


def rows(store, usccs, fields=("status", "amount", "failed", "missing")):
    return sorted((m.uscc, m.policy_id, *(getattr(m, f) for f in fields)) for u in usccs for m in store.matches_for(u))


@pytest.mark.spark
def test_spark_full_run_equals_duckdb_full_run(tmp_path):
    from qinqing.rules.load import load_policies

    policies, _ = load_policies([POLICIES])
    enterprises = random_registry(300, seed=5)
    usccs = enterprises.column("uscc").to_pylist()
    stores = {engine: ResultStore(tmp_path / engine) for engine in ("spark", "duckdb", "vectorised")}
    summaries = {engine: full_run(policies, enterprises, store, AS_OF, engine=engine)
                 for engine, store in stores.items()}
    assert rows(stores["spark"], usccs) == rows(stores["duckdb"], usccs)
    assert stores["spark"].counts_by_policy() == stores["duckdb"].counts_by_policy()
    assert summaries["spark"].eligible == summaries["duckdb"].eligible > 0
    # The fast path prunes by scope (fewer ineligible counted) but keeps the same pairs.
    assert rows(stores["spark"], usccs, ("status", "amount")) == rows(stores["vectorised"], usccs, ("status", "amount"))
