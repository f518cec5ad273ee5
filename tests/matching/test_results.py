"""The results store: publish, query, incremental replacement, and a run killed half-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from qinqing.matching.results import MATCH_SCHEMA, ResultStore, StoreError

AS_OF = date(2024, 6, 1)


def pairs(rows):
    cols = list(zip(*rows)) if rows else [[]] * 6
    return pa.table([pa.array(list(c), type=f.type) for c, f in zip(cols, MATCH_SCHEMA)], schema=MATCH_SCHEMA)


def counts(rows):
    return pa.table({"policy_id": [r[0] for r in rows], "eligible": [r[1] for r in rows],
                     "unknown": [r[2] for r in rows], "ineligible": [r[3] for r in rows],
                     "amount_total": [Decimal(r[4]) for r in rows]})


def publish(store, rows, count_rows=()):
    writer = store.begin_run(AS_OF, "test")
    writer.add(pairs(rows))
    if count_rows:
        writer.add_counts(counts(count_rows))
    return writer.publish(policies=2, enterprises=3, pairs_evaluated=6)


FIRST = [
    ("A", "p1", "eligible", Decimal("50"), [], []),
    ("A", "p2", "unknown", None, [], ["employees"]),
    ("B", "p1", "ineligible", None, ["legal_person"], []),
    ("C", "p2", "eligible", Decimal("12.5"), [], []),
]


def test_empty_store_says_so(tmp_path):
    store = ResultStore(tmp_path)
    assert store.current_run() is None
    with pytest.raises(StoreError, match="尚无匹配结果"):
        store.matches_for("A")


def test_publish_keeps_eligible_and_unknown_only(tmp_path):
    store = ResultStore(tmp_path)
    info = publish(store, FIRST, [("p1", 1, 0, 1, "50"), ("p2", 1, 1, 0, "12.5")])
    assert store.current_run().run_id == info.run_id
    got = {(m.policy_id, m.status, m.amount, m.missing) for m in store.matches_for("A")}
    assert got == {("p1", "eligible", Decimal("50"), ()), ("p2", "unknown", None, ("employees",))}
    assert store.matches_for("B") == []
    assert store.counts_by_policy()["p2"].unknown == 1
    assert all(m.run_id == info.run_id for m in store.matches_for("C"))


def test_new_run_replaces_and_previous_is_remembered(tmp_path):
    store = ResultStore(tmp_path)
    first = publish(store, FIRST)
    second = publish(store, [("B", "p1", "eligible", Decimal("50"), [], [])])
    assert store.current_run().run_id == second.run_id
    assert store.previous_run_id() == first.run_id
    assert store.matches_for("A") == []
    assert [m.policy_id for m in store.matches_for("A", run_id=first.run_id)] == ["p1", "p2"]
    publish(store, [])
    assert len(list((tmp_path / "runs").glob("*.duckdb"))) == 2  # current and previous only


def test_replace_pairs_of_one_enterprise_and_one_policy(tmp_path):
    store = ResultStore(tmp_path)
    publish(store, FIRST, [("p1", 1, 0, 1, "50"), ("p2", 1, 1, 0, "12.5")])
    store.replace_pairs(uscc=["A"], pairs=pairs([("A", "p2", "eligible", Decimal("3"), [], [])]))
    assert [(m.policy_id, m.status) for m in store.matches_for("A")] == [("p2", "eligible")]
    store.replace_pairs(policy_ids=["p2"], pairs=pairs([("B", "p2", "unknown", None, [], ["revenue"])]),
                        counts=counts([("p2", 0, 1, 2, "0")]))
    assert store.matches_for("A") == [] and store.matches_for("C") == []
    assert [m.missing for m in store.matches_for("B")] == [("revenue",)]
    assert store.counts_by_policy()["p2"].ineligible == 2


def test_a_failed_replacement_changes_nothing(tmp_path):
    store = ResultStore(tmp_path)
    publish(store, FIRST)
    bad = pa.table({"uscc": ["A"]})  # lacks the other columns
    with pytest.raises(KeyError):
        store.replace_pairs(uscc=["A"], pairs=bad)
    assert len(store.matches_for("A")) == 2


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from decimal import Decimal
    import pyarrow as pa
    from qinqing.matching.results import ResultStore
    store = ResultStore(sys.argv[1])
    writer = store.begin_run(date(2024, 6, 1), "test")
    n = 200_000
    writer.add(pa.table({"uscc": [f"X{i:07d}" for i in range(n)], "policy_id": ["p9"] * n,
                         "status": ["eligible"] * n, "amount": [Decimal(1)] * n,
                         "failed": [[]] * n, "missing": [[]] * n}))
    print("written", flush=True)
    time.sleep(60)
    """
)


def test_run_killed_half_way_leaves_previous_results(tmp_path):
    store = ResultStore(tmp_path)
    first = publish(store, FIRST)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert proc.stdout.readline().strip() == "written"
        assert store.current_run().run_id == first.run_id  # readable while the other run is written
        assert len(store.matches_for("A")) == 2
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert list((tmp_path / "runs").glob("*.partial.duckdb"))
    reopened = ResultStore(tmp_path)
    assert reopened.current_run().run_id == first.run_id
    assert reopened.matches_for("X0000001") == []
    assert [m.policy_id for m in reopened.matches_for("A")] == ["p1", "p2"]
    publish(reopened, [])  # the next run sweeps the dead run's file
    assert not list((tmp_path / "runs").glob("*.partial.duckdb*"))
