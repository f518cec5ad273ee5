"""The results store as a component: provenance, decoding with the run's own field table (past 64
fields, and format-1 files), per-region counts, the pruning rule, the run history, the errors a caller
tells apart, and the fingerprint caches key on."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from datetime import date
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from qinqing.matching.pairs import FIELD_NAMES
from qinqing.matching.results import (
    FORMAT_VERSION,
    MATCH_SCHEMA,
    NoRun,
    PolicyVersion,
    RegionCount,
    ResultStore,
    RunHistory,
    RunNotFound,
    RunProvenance,
    StoreBusy,
    StoreError,
    registry_snapshot,
)
from qinqing.matching.results import turns as turns_module
from qinqing.web.services.results_cache import CachedMatches

AS_OF = date(2024, 6, 1)


def pairs(rows):
    cols = list(zip(*rows)) if rows else [[]] * 6
    return pa.table([pa.array(list(c), type=f.type) for c, f in zip(cols, MATCH_SCHEMA)], schema=MATCH_SCHEMA)


def counts(rows):
    return pa.table({"policy_id": [r[0] for r in rows], "eligible": [r[1] for r in rows],
                     "unknown": [r[2] for r in rows], "ineligible": [r[3] for r in rows],
                     "amount_total": [Decimal(r[4]) for r in rows]})


CODES = pa.table({"uscc": ["A", "B", "C", "D"], "region_code": ["330106", "330106", "330212", None],
                  "industry_code": ["C3911", None, "C2611", None]})
ROWS = [
    ("A", "p1", "eligible", Decimal(50), [], []),
    ("A", "p2", "unknown", None, [], ["employees"]),
    ("B", "p1", "eligible", Decimal("7.5"), [], ["revenue"]),
    ("C", "p2", "eligible", Decimal("12.5"), [], []),
    ("D", "p2", "unknown", None, [], ["revenue", "employees"]),
]
PROVENANCE = RunProvenance("catalogue-41", [("p1", 3, "h1"), ("p2", 1, "h2")], 4, "rowsum64:abc")


def publish(store, rows=ROWS, provenance=PROVENANCE, codes=CODES, count_rows=(("p1", 2, 0, 2, "57.5"),
                                                                                ("p2", 1, 2, 1, "12.5"))):
    writer = store.begin_run(AS_OF, "test", enterprises=codes, provenance=provenance)
    writer.add(pairs(rows))
    writer.add_counts(counts(count_rows))
    return writer.publish(policies=2, enterprises=4, pairs_evaluated=8)


def test_a_run_keeps_its_provenance(tmp_path):
    store = ResultStore(tmp_path, keep=1)
    publish(store)
    got = store.provenance()
    assert got == PROVENANCE
    assert got.format_version == FORMAT_VERSION == 2
    assert got.policies == (PolicyVersion("p1", 3, "h1"), PolicyVersion("p2", 1, "h2"))
    assert got.fields == FIELD_NAMES


def test_publish_takes_a_later_provenance_but_not_another_field_table(tmp_path):
    store = ResultStore(tmp_path, keep=1)
    writer = store.begin_run(AS_OF, "test", enterprises=CODES)
    writer.add(pairs(ROWS))
    with pytest.raises(ValueError, match="field table"):
        writer.publish(policies=2, enterprises=4, pairs_evaluated=8,
                       provenance=RunProvenance(fields=("revenue", "employees")))
    writer.publish(policies=2, enterprises=4, pairs_evaluated=8, provenance=PROVENANCE)
    assert store.provenance().catalogue_revision == "catalogue-41"


def test_a_run_is_decoded_with_its_own_field_table_past_64_fields(tmp_path):
    fields = tuple(f"f{i:02d}" for i in range(70))  # not today's schema, and wider than one mask word
    store = ResultStore(tmp_path, keep=1)
    publish(store, [("A", "p1", "unknown", None, [], ["f00", "f63", "f64", "f69"]),
                    ("B", "p1", "unknown", None, [], ["f65"]), ("C", "p1", "eligible", Decimal(1), [], [])],
            provenance=RunProvenance(fields=fields))
    assert [m.missing for m in store.matches_for("A")] == [("f00", "f63", "f64", "f69")]
    assert [m.missing for m in store.matches_for("B")] == [("f65",)]
    assert store.provenance().fields == fields
    assert store.eligible(complete=True).column("uscc").to_pylist() == ["C"]
    # an incremental change encodes with the run's table too
    store.replace_pairs(uscc=["C"], pairs=pairs([("C", "p1", "unknown", None, [], ["f66", "f01"])]))
    assert [m.missing for m in store.matches_for("C")] == [("f01", "f66")]


def test_a_format_1_file_is_decoded_with_the_table_its_view_was_made_with(tmp_path):
    """A run written before format 2 (no missing_fields table): its view names the fields of its day."""
    run_id = "20240101T000000-aaaaaa"
    (tmp_path / "runs").mkdir()
    con = duckdb.connect(str(tmp_path / "runs" / f"{run_id}.duckdb"))
    con.execute(f"""
        CREATE TABLE run (run_id VARCHAR PRIMARY KEY, as_of DATE, engine VARCHAR, started_at TIMESTAMP,
            finished_at TIMESTAMP, policies BIGINT, enterprises BIGINT, pairs_evaluated BIGINT, note VARCHAR);
        INSERT INTO run VALUES ('{run_id}', DATE '2024-01-01', 'vectorised', TIMESTAMP '2024-01-01 00:00:00',
            TIMESTAMP '2024-01-01 00:01:00', 1, 1, 1, '');
        CREATE TABLE enterprises (ent INTEGER, uscc VARCHAR, region_code VARCHAR, industry_code VARCHAR);
        INSERT INTO enterprises VALUES (0, 'A', '330106', NULL);
        CREATE TABLE policies (pol INTEGER, policy_id VARCHAR);
        INSERT INTO policies VALUES (0, 'p1');
        CREATE TABLE pairs (ent INTEGER, pol INTEGER, status TINYINT, amount DECIMAL(18,4), missing UBIGINT,
            computed_at TIMESTAMP);
        INSERT INTO pairs VALUES (0, 0, 1, NULL, 6, TIMESTAMP '2024-01-01 00:00:30');
        CREATE TABLE policy_counts (policy_id VARCHAR, eligible BIGINT, unknown BIGINT, ineligible BIGINT,
            amount_total DECIMAL(38,4));
        INSERT INTO policy_counts VALUES ('p1', 0, 1, 0, 0);
        CREATE VIEW matches AS SELECT e.uscc, p.policy_id,
            ['eligible', 'unknown', 'ineligible'][m.status + 1] AS status, m.amount, []::VARCHAR[] AS failed,
            list_filter(['old_a', 'old_b', 'old_c'], lambda f, i: ((m.missing >> (i - 1)::UBIGINT) & 1::UBIGINT) = 1)
            AS missing, (SELECT run_id FROM run) AS run_id, m.computed_at, m.ent, m.pol
            FROM pairs m JOIN enterprises e USING (ent) JOIN policies p USING (pol);
    """)
    con.close()
    (tmp_path / "CURRENT").write_text(run_id + "\n")
    store = ResultStore(tmp_path, keep=1)
    assert [m.missing for m in store.matches_for("A")] == [("old_b", "old_c")]
    assert store.provenance().format_version == 1 and store.provenance().fields == ("old_a", "old_b", "old_c")
    assert store.counts_by_region() == [RegionCount("330106", 1, 0, 0, 1, Decimal(0))]


def test_counts_by_region_hand_computed(tmp_path):
    store = ResultStore(tmp_path, keep=1)
    publish(store)
    assert store.counts_by_region() == [
        RegionCount("330106", 2, 2, 2, 1, Decimal("57.5")),  # A (p1 50, p2 unknown) and B (p1 7.5)
        RegionCount("330212", 1, 1, 1, 0, Decimal("12.5")),  # C
        RegionCount(None, 1, 0, 0, 1, Decimal(0)),  # D: unknown only
    ]


def _fresh_region_counts(store):
    """The per-region counts recomputed from the kept pairs and the run's codes, independently."""
    codes = {r["uscc"]: r["region_code"] for r in CODES.to_pylist()} | {"E": None}
    out: dict = {}
    for uscc in codes:
        for m in store.matches_for(uscc):
            row = out.setdefault(codes[uscc], [set(), 0, 0, Decimal(0)])
            if m.status == "eligible":
                row[0].add(uscc)
                row[1] += 1
                row[3] += m.amount or 0
            else:
                row[2] += 1
    return {k: (len(v[0]), v[1], v[2], v[3]) for k, v in out.items()}


@pytest.mark.parametrize("change", ["enterprise moves", "policy replaced"])
def test_region_counts_follow_incremental_changes(tmp_path, change):
    store = ResultStore(tmp_path, keep=1)
    publish(store)
    if change == "enterprise moves":  # C moves to A's region and loses its match; D gains one
        store.replace_pairs(uscc=["C", "D"], pairs=pairs([("D", "p1", "eligible", Decimal(3), [], [])]),
                            codes=pa.table({"uscc": ["C", "D"], "region_code": ["330106", None],
                                            "industry_code": [None, None]}))
    else:
        store.replace_pairs(policy_ids=["p1"], pairs=pairs([("C", "p1", "eligible", Decimal(9), [], []),
                                                            ("D", "p1", "eligible", Decimal(1), [], [])]),
                            counts=counts([("p1", 2, 0, 2, "10")]))
    got = {r.region_code: (r.enterprises, r.eligible, r.unknown, r.amount_total) for r in store.counts_by_region()
           if r.enterprises or r.unknown}
    if change == "enterprise moves":
        CODES_AFTER = {"330106": (2, 2, 1, Decimal("57.5")), None: (1, 1, 0, Decimal(3))}
        assert got == CODES_AFTER
        assert {r.region_code: r.registered for r in store.counts_by_region()} == {"330106": 3, None: 1}
    else:
        assert got == _fresh_region_counts(store)
        assert got["330212"] == (1, 2, 0, Decimal("21.5"))


def test_named_lists(tmp_path):
    store = ResultStore(tmp_path, keep=1)
    publish(store)
    assert store.eligible(["p1"]).column("uscc").to_pylist() == ["A", "B"]
    assert store.eligible(["p1"], complete=True).column("uscc").to_pylist() == ["A"]  # B misses revenue
    assert store.top_enterprises(2) == ["A", "B"]  # A: 1 eligible of 2 kept; B, C: 1 of 1 (by uscc)
    assert store.kept_count(["A", "D", "nobody"]) == 3
    assert store.new_since_previous().num_rows == 3  # no previous run: every eligible pair is new
    publish(store, [*ROWS, ("D", "p1", "eligible", Decimal(1), [], [])])
    new = store.new_since_previous()
    assert list(zip(new.column("uscc").to_pylist(), new.column("policy_id").to_pylist())) == [("D", "p1")]
    assert new.column_names == ["uscc", "policy_id", "status", "amount", "missing", "run_id"]


def test_pruning_keeps_the_current_and_the_configured_previous(tmp_path, monkeypatch):
    store = ResultStore(tmp_path, keep=2)
    ids = [publish(store).run_id for _ in range(4)]
    assert store.published_run_ids() == ids
    assert sorted(p.stem for p in (tmp_path / "runs").glob("*.duckdb")) == sorted(ids[1:])
    assert store.prune(keep=1) == [ids[1]]
    with pytest.raises(ValueError):
        store.prune(keep=0)
    monkeypatch.setenv("QINQING_RESULTS_KEEP", "3")
    from qinqing.settings import get_settings

    get_settings.cache_clear()
    try:
        assert ResultStore(tmp_path).keep == 3
    finally:
        get_settings.cache_clear()


def test_a_run_being_read_is_not_pruned(tmp_path, monkeypatch):
    monkeypatch.setattr(turns_module, "IDLE_SECONDS", 60.0)  # the reader stays busy throughout
    store = ResultStore(tmp_path, keep=1)
    old = publish(store).run_id
    reader = ResultStore(tmp_path, keep=1)
    assert reader.matches_for("A", run_id=old)  # this process holds the old run open
    publish(store)
    publish(store)
    assert (tmp_path / "runs" / f"{old}.duckdb").exists()
    reader.close()
    assert store.prune() == [old]
    with pytest.raises(RunNotFound):
        reader.matches_for("A", run_id=old)


HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    con.execute("SELECT count(*) FROM pairs").fetchall()
    print("open", flush=True)
    sys.stdin.readline()
    """
)


def test_a_run_open_in_another_process_is_not_pruned(tmp_path):
    store = ResultStore(tmp_path, keep=1)
    old = publish(store).run_id
    path = tmp_path / "runs" / f"{old}.duckdb"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "open"
        publish(store)
        publish(store)
        assert path.exists()
    finally:
        proc.communicate("\n", timeout=30)
    assert store.prune() == [old]


def test_errors_a_caller_tells_apart(tmp_path, monkeypatch):
    store = ResultStore(tmp_path, keep=1)
    with pytest.raises(NoRun) as no_run:
        store.matches_for("A")
    assert no_run.value.status == 404 and isinstance(no_run.value, StoreError)
    assert CachedMatches(store).matches_for("A") is None  # "no run yet": the portal evaluates directly
    publish(store)
    with pytest.raises(RunNotFound):
        store.matches_for("A", run_id="20000101T000000-000000")
    store.close()
    monkeypatch.setattr(turns_module, "WAIT_SECONDS", 0.2)
    (tmp_path / "WRITING").write_text(str(os.getpid()))  # a live writer that does not finish
    try:
        assert store.fingerprint() is None
        with pytest.raises(StoreBusy) as busy:
            store.matches_for("A")
        assert busy.value.status == 503 and busy.value.retry_after
        with pytest.raises(StoreBusy):
            CachedMatches(store).matches_for("A")  # never a silent fallback
    finally:
        (tmp_path / "WRITING").unlink()


def test_fingerprint_changes_with_publish_and_incremental_change(tmp_path):
    store = ResultStore(tmp_path, keep=1)
    assert store.fingerprint() is None
    publish(store)
    first = store.fingerprint()
    assert first is not None and first == store.fingerprint()
    store.replace_pairs(uscc=["A"], pairs=pairs([]))
    second = store.fingerprint()
    assert second != first and second[0] == first[0]
    publish(store)
    assert store.fingerprint()[0] != first[0]


def test_history_keeps_every_published_run_after_its_file_is_pruned(tmp_path, engine):
    history = RunHistory(engine)
    store = ResultStore(tmp_path, history=history, keep=1)
    first = publish(store)
    publish(store, ROWS[:2], count_rows=(("p1", 1, 0, 3, "50"), ("p2", 0, 1, 3, "0")))
    publish(store)
    assert not (tmp_path / "runs" / f"{first.run_id}.duckdb").exists()
    assert history.run_ids() == store.published_run_ids()
    record = history.run(first.run_id)
    assert record.info == first
    assert record.provenance == PROVENANCE
    assert record.policy_counts["p1"].eligible == 2 and record.policy_counts["p1"].amount_total == Decimal("57.5")
    assert {r.region_code: r.amount_total for r in record.region_counts} == {
        "330106": Decimal("57.5"), "330212": Decimal("12.5"), None: Decimal(0)}
    assert [(v, c.eligible) for _, v, c in history.policy_series("p1")] == [(3, 2), (3, 1), (3, 2)]
    assert history.run("never") is None


def test_a_run_the_history_refuses_is_not_published(tmp_path, database_url):
    from qinqing.db import make_engine

    engine = make_engine(database_url)  # not migrated: the history's tables are missing
    try:
        store = ResultStore(tmp_path, history=RunHistory(engine), keep=1)
        with pytest.raises(Exception):  # noqa: B017 (the database's own error)
            publish(store)
        assert store.current_run() is None
        assert not list((tmp_path / "runs").glob("*.duckdb*"))
    finally:
        engine.dispose()


def test_history_tables_match_the_migration(engine):
    import sqlalchemy as sa

    from qinqing.matching.results.tables import metadata

    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        reflected = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert list(reflected) == [c.name for c in table.columns], table.name
        for column in table.columns:
            assert reflected[column.name]["nullable"] is column.nullable, (table.name, column.name)
        assert inspector.get_pk_constraint(table.name)["constrained_columns"] == [c.name for c in table.primary_key]


def _registry(n=500, seed=3):
    rng = random.Random(seed)
    return pa.table({"uscc": [f"U{i:05d}" for i in range(n)],
                     "revenue": [None if rng.random() < 0.2 else Decimal(rng.randint(0, 10 ** 6)) for _ in range(n)],
                     "region_code": [rng.choice(["330106", "330212", None]) for _ in range(n)]})


def test_registry_snapshot_is_a_content_hash_of_the_rows_as_a_set():
    table = _registry()
    rows, digest = registry_snapshot(table)
    assert rows == 500
    order = list(range(500))
    random.Random(1).shuffle(order)
    shuffled = table.take(pa.array(order))
    assert registry_snapshot(shuffled) == (rows, digest)  # row order does not matter
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=37))
    assert registry_snapshot(rechunked) == (rows, digest)  # nor chunking
    assert registry_snapshot(table.select(["region_code", "uscc", "revenue"]))[1] == digest  # nor column order
    changed = table.set_column(1, "revenue", pa.array([Decimal(1), *table.column("revenue").to_pylist()[1:]],
                                                      table.schema.field("revenue").type))
    assert registry_snapshot(changed)[1] != digest
    doubled = pa.concat_tables([table, table.slice(0, 1)])
    assert registry_snapshot(doubled)[0] == 501 and registry_snapshot(doubled)[1] != digest
    assert registry_snapshot(table.slice(0, 499))[1] != digest


def test_full_run_records_versions_digests_and_the_registry(tmp_path, registry, engine):
    """full_run passes its provenance to the writer: each plan's digest, the version of the plan or of
    the policy it was made from, the catalogue revision, and the registry's snapshot."""
    from dataclasses import dataclass, fields

    from qinqing.matching.engines.plan import PolicyPlan, plan_from_sql
    from qinqing.matching.run import full_run
    from qinqing.matching.scope import Scope

    @dataclass(frozen=True)
    class StoredPlan(PolicyPlan):  # a plan with its hash, as the compiler will give it (``digest``)
        digest: str | None = None

    def plan(policy_id, threshold, **extra):
        base = plan_from_sql(policy_id, [("rev", f"revenue >= {threshold}")], "least(revenue * 0.01, 50)",
                             Scope("33", None))
        kept = {f.name: getattr(base, f.name) for f in fields(PolicyPlan) if f.name not in extra}
        return StoredPlan(**kept, **extra)

    table = registry()
    store = ResultStore(tmp_path, history=RunHistory(engine), keep=1)
    summary = full_run([plan("a", 3000, digest="d-a", version=4), plan("b", 5000, digest="d-b")], table, store,
                       AS_OF, catalogue_revision=17)
    got = store.provenance()
    assert got.catalogue_revision == "17"
    assert got.policies == (PolicyVersion("a", 4, "d-a"), PolicyVersion("b", None, "d-b"))
    assert (got.registry_rows, got.registry_hash) == registry_snapshot(table)
    record = RunHistory(engine).run(summary.run_id)
    assert record.provenance == got
    assert {p: c.eligible for p, c in record.policy_counts.items()} == \
        {p: c.eligible for p, c in store.counts_by_policy().items()}
    assert sum(r.registered for r in record.region_counts) == table.num_rows
    assert sum(r.eligible for r in store.counts_by_region()) == summary.eligible


def test_policy_versions_take_what_a_plan_lacks_from_its_policy():
    from types import SimpleNamespace as NS

    from qinqing.matching.results import policy_versions

    plans = [NS(policy_id="b", version=None, digest="hb"), NS(policy_id="a", version=2)]
    originals = [NS(id="a", version=9, digest="ha"), NS(id="b", version=5)]
    assert policy_versions(plans, originals) == (PolicyVersion("a", 2, "ha"), PolicyVersion("b", 5, "hb"))
    assert policy_versions([NS(id="c")]) == (PolicyVersion("c", None, None),)


def test_a_store_from_before_the_publish_log_keeps_its_two_runs_in_order(tmp_path):
    store = ResultStore(tmp_path, keep=2)
    first, second = publish(store).run_id, publish(store).run_id
    (tmp_path / "PUBLISHED").unlink()  # as a store written before PUBLISHED existed
    third = publish(store).run_id
    assert store.published_run_ids() == [first, second, third]
    assert sorted(p.stem for p in (tmp_path / "runs").glob("*.duckdb")) == sorted([first, second, third])
