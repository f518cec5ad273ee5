"""Writing one run: pairs into an unpublished file, then sorted, counted and published atomically.

Pairs are stored encoded (pairs.py): integers for enterprise, policy and status, and mask words of
the missing fields, decoded to names only for the rows read. Only eligible and unknown pairs are kept
(their ``failed`` is empty by definition); ``policy_counts`` keeps the count of every status.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from qinqing.matching.pairs import EncodedPairs
from qinqing.matching.results.layout import LIVE_WRITERS
from qinqing.matching.results.schema import (
    COUNT_SCHEMA,
    FORMAT_VERSION,
    MATCH_SCHEMA,
    STATUS_SQL,
    PolicyCount,
    RegionCount,
    RunInfo,
    RunProvenance,
    conform,
    encode_missing_sql,
    matches_view,
    region_counts_sql,
    run_ddl,
    word_columns,
)
from qinqing.matching.spill import RangeSpill

if TYPE_CHECKING:
    from qinqing.matching.results.store import ResultStore

WRITER_MEMORY = "6GB"  # a run's writer spills its sort to disk beyond this (DuckDB's default is 80 % of RAM)


class RunWriter:
    """Collects one run's rows in an unpublished file; ``publish`` makes it current atomically."""

    def __init__(self, store: ResultStore, run_id: str, as_of: date, engine: str, note: str = "",
                 enterprises: Iterable[str] | pa.Array | pa.Table | None = None,
                 provenance: RunProvenance | None = None) -> None:
        self.store, self.run_id, self.as_of, self.engine, self.note = store, run_id, as_of, engine, note
        self.provenance = provenance or RunProvenance()
        self.fields = self.provenance.fields
        self.words = word_columns(self.fields)
        self.path = store.layout.partial_path(run_id)
        self.started_at = datetime.now()
        LIVE_WRITERS.add(self.path)
        self._con = duckdb.connect(str(self.path))
        tmp = str(store.runs_dir / f"{run_id}.tmp").replace("'", "''")
        self._con.execute(f"SET memory_limit = '{WRITER_MEMORY}'; SET temp_directory = '{tmp}'")
        self._con.execute(run_ddl(self.fields))
        self._maps = _Maps()
        self._counts: list[pa.Table] = []
        self._numbered = enterprises is not None
        numbered = 0
        if enterprises is not None:  # numbered in uscc order, so that pairs sorted by ent are by uscc
            self._con.register("incoming_usccs", codes_table(enterprises))
            self._con.execute("INSERT INTO enterprises SELECT (row_number() OVER (ORDER BY uscc) - 1)::INTEGER, "
                              "uscc, region_code, industry_code FROM (SELECT DISTINCT ON (uscc) * FROM incoming_usccs) "
                              "ORDER BY uscc")
            self._con.unregister("incoming_usccs")
            numbered = self._con.execute("SELECT count(*) FROM enterprises").fetchall()[0][0]
        # Pairs numbered by the registry go to disk by enterprise range (spill.py); others (named
        # pairs, enterprises first met in the pairs) are numbered here and staged in the file.
        self._spill = RangeSpill(store.runs_dir / f"{run_id}.spill", numbered)
        self._done = False

    def add(self, pairs: pa.Table | EncodedPairs) -> None:
        """Append pairs, encoded or as MATCH_SCHEMA columns; only eligible and unknown rows are kept."""
        if isinstance(pairs, EncodedPairs) and pairs.ents is not None and self._numbered:
            # Numbered by the registry in uscc order, as this run's enterprises table: no lookup.
            t = pairs.pairs
            self._spill.append(pa.table({
                "ent": pa.array(pairs.ents[t.column("row").to_numpy()].astype(np.int32)),
                "pol": pa.array(self._pols(pairs)[t.column("pol").to_numpy()].astype(np.int32)),
                "status": t.column("status"), "amount": t.column("amount"),
                **{w: t.column(w) for w in self.words if w in t.column_names}}))
            return
        insert_pairs(self._con, "staging", pairs, self.started_at, self._maps, self.fields)

    def _pols(self, pairs: EncodedPairs) -> np.ndarray:
        key = id(pairs.policy_ids)
        if key not in self._maps.pols or self._maps.pols[key][0] is not pairs.policy_ids:
            ids = pa.array(list(pairs.policy_ids), pa.string())
            self._maps.pols[key] = (pairs.policy_ids, number(self._con, "policies", "policy_id", "pol", ids))
        return self._maps.pols[key][1]

    def add_counts(self, counts: pa.Table) -> None:
        """Append per-policy counts (COUNT_SCHEMA); several rows of one policy are summed."""
        self._counts.append(conform(counts, COUNT_SCHEMA))

    def publish(self, *, policies: int, enterprises: int, pairs_evaluated: int,
                provenance: RunProvenance | None = None) -> RunInfo:
        """Sort, index, count and close the file, record the run in the history (when the store has
        one), then swap it in as the current run. ``provenance`` replaces the one given to
        ``begin_run`` (its field table must be the same: the masks are already encoded with it)."""
        if provenance is not None:
            if provenance.fields != self.fields:
                raise ValueError("publish: the provenance's field table differs from the one the pairs were encoded with")
            self.provenance = provenance
        if self.provenance.format_version != FORMAT_VERSION:
            raise ValueError(f"this store writes results format {FORMAT_VERSION}, not {self.provenance.format_version}")
        con = self._con
        if self._counts:
            con.register("incoming_counts", pa.concat_tables(self._counts))
            con.execute("INSERT INTO staging_counts SELECT * FROM incoming_counts")
            con.unregister("incoming_counts")
        finished = datetime.now()
        info = RunInfo(self.run_id, self.as_of, self.engine, self.started_at, finished, policies, enterprises,
                       pairs_evaluated, self.note)
        con.execute("INSERT INTO run VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(info.__dict__.values()))
        _write_provenance(con, self.provenance)
        # Sorted by enterprise (numbered in uscc order) so that one enterprise's rows sit in one or
        # two row groups, which the zone maps find without a scan.
        con.execute("CREATE TABLE pairs AS FROM staging LIMIT 0")
        staged = con.execute("SELECT count(*) FROM staging").fetchall()[0][0]
        for part in self._spill.ranges():  # in enterprise order already (spill.py)
            insert_numbered(con, "staging" if staged else "pairs", part, self.started_at, self.words)
        if staged:  # named pairs too (not the fast path's): one sort over everything
            con.execute("INSERT INTO pairs SELECT * FROM staging ORDER BY ent, pol")
        con.execute(
            "CREATE TABLE policy_counts AS SELECT policy_id, sum(eligible)::BIGINT AS eligible, "
            "sum(unknown)::BIGINT AS unknown, sum(ineligible)::BIGINT AS ineligible, "
            "sum(amount_total)::DECIMAL(38,4) AS amount_total FROM staging_counts GROUP BY policy_id "
            "ORDER BY policy_id"
        )
        con.execute(f"CREATE TABLE region_counts AS {region_counts_sql()} ORDER BY region_code NULLS LAST")
        con.execute("DROP TABLE staging; DROP TABLE staging_counts")
        con.execute(matches_view(self.fields))
        policy_counts = [PolicyCount(*r) for r in con.execute("SELECT * FROM policy_counts").fetchall()]
        region_counts = [RegionCount(*r) for r in con.execute("SELECT * FROM region_counts").fetchall()]
        con.execute("CHECKPOINT")
        con.close()
        self._spill.discard()
        self._done = True
        try:
            self.store.publish_run(self.path, info, self.provenance, policy_counts, region_counts)
        except BaseException:
            self.path.unlink(missing_ok=True)  # not published: the history refused it, say
            raise
        finally:
            LIVE_WRITERS.discard(self.path)
            shutil.rmtree(self.store.runs_dir / f"{self.run_id}.tmp", ignore_errors=True)
        return info

    def abort(self) -> None:
        if not self._done:
            self._spill.discard()
            self._con.close()
            self._done = True
            LIVE_WRITERS.discard(self.path)
            for p in (self.path, self.path.with_name(self.path.name + ".wal")):
                p.unlink(missing_ok=True)
            shutil.rmtree(self.store.runs_dir / f"{self.run_id}.tmp", ignore_errors=True)


def _write_provenance(con: duckdb.DuckDBPyConnection, p: RunProvenance) -> None:
    con.execute("INSERT INTO provenance VALUES (?, ?, ?, ?)",
                [p.format_version, p.catalogue_revision, p.registry_rows, p.registry_hash])
    con.register("incoming_fields", pa.table({"bit": pa.array(range(len(p.fields)), pa.int32()),
                                              "name": pa.array(p.fields, pa.string())}))
    con.execute("INSERT INTO missing_fields SELECT * FROM incoming_fields")
    con.unregister("incoming_fields")
    if p.policies:
        con.register("incoming_versions", pa.table({
            "policy_id": pa.array([v.policy_id for v in p.policies], pa.string()),
            "version": pa.array([v.version for v in p.policies], pa.int64()),
            "plan_hash": pa.array([v.plan_hash for v in p.policies], pa.string())}))
        con.execute("INSERT INTO run_policies SELECT * FROM incoming_versions ORDER BY policy_id")
        con.unregister("incoming_versions")


class _Maps:
    """Per insert target: slice → ent numbers and policy-id list → pol numbers, computed once each."""

    def __init__(self) -> None:
        self.ents: dict[int, tuple[pa.Array, np.ndarray]] = {}
        self.pols: dict[int, tuple[Any, np.ndarray]] = {}


def number(con: duckdb.DuckDBPyConnection, table: str, key: str, num: str, values: pa.Array) -> np.ndarray:
    """The numbers of ``values`` in ``table`` (key → num), numbering the new ones after the rest."""
    con.register("incoming_keys", pa.table({"k": values, "i": pa.array(np.arange(len(values), dtype=np.int64))}))
    con.execute(
        f"INSERT INTO {table} ({num}, {key}) SELECT (coalesce((SELECT max({num}) FROM {table}), -1) + row_number() OVER (ORDER BY k))"
        f"::INTEGER, k FROM (SELECT DISTINCT k FROM incoming_keys WHERE k NOT IN (SELECT {key} FROM {table}))")
    got = con.sql(f"SELECT i, {num} FROM incoming_keys JOIN {table} ON {key} = k ORDER BY i").to_arrow_table()
    con.unregister("incoming_keys")
    return got.column(1).to_numpy()


def codes_table(enterprises: Iterable[str] | pa.Array | pa.Table) -> pa.Table:
    if isinstance(enterprises, pa.Table):
        cols = {c: enterprises.column(c).cast(pa.string()) if c in enterprises.column_names
                else pa.nulls(enterprises.num_rows, pa.string()) for c in ("uscc", "region_code", "industry_code")}
        return pa.table(cols)
    usccs = enterprises if isinstance(enterprises, pa.Array) else pa.array(list(enterprises), pa.string())
    return pa.table({"uscc": usccs, "region_code": pa.nulls(len(usccs), pa.string()),
                     "industry_code": pa.nulls(len(usccs), pa.string())})


def insert_numbered(con: duckdb.DuckDBPyConnection, table: str, incoming: pa.Table, now: datetime,
                    words: Sequence[str]) -> None:
    """Insert encoded pairs already numbered (ent, pol, status, amount in 0.0001 units, mask words)."""
    # amount's integers are DECIMAL(18,4)'s own representation: relabelled, not converted (a
    # DECIMAL expression per row cost a sixth of the insert).
    con.register("incoming", incoming.set_column(incoming.schema.get_field_index("amount"), "amount",
                                                 _as_decimal(incoming.column("amount"))))
    masks = ", ".join(w if w in incoming.column_names else "0::UBIGINT" for w in words)
    con.execute(f"INSERT INTO {table} SELECT ent, pol, status, amount, {masks}, ?::TIMESTAMP FROM incoming "
                "WHERE status IN (0, 1)", [now])
    con.unregister("incoming")


def _as_decimal(amount: pa.ChunkedArray) -> pa.ChunkedArray:
    """int64 amounts in 0.0001 units as DECIMAL(18,4) (Arrow decimal64: the same 8 bytes), zero-copy."""
    amount = amount.cast(pa.int64())
    return pa.chunked_array([pa.Array.from_buffers(_AMOUNT, len(c), c.buffers(), c.null_count, c.offset)
                             for c in amount.chunks], _AMOUNT)


_AMOUNT = pa.decimal64(18, 4)


def insert_pairs(con: duckdb.DuckDBPyConnection, table: str, pairs: pa.Table | EncodedPairs, now: datetime,
                 maps: _Maps, fields: Sequence[str]) -> None:
    """Insert kept pairs into ``table`` (staging or pairs): encoded ones as they are, named ones encoded
    with ``fields`` (the run's field table)."""
    words = word_columns(fields)
    if isinstance(pairs, EncodedPairs):
        if not pairs.num_rows:
            return
        key = id(pairs.uscc)
        if key not in maps.ents or maps.ents[key][0] is not pairs.uscc:
            maps.ents[key] = (pairs.uscc, number(con, "enterprises", "uscc", "ent", pairs.uscc))
        key_p = id(pairs.policy_ids)
        if key_p not in maps.pols or maps.pols[key_p][0] is not pairs.policy_ids:
            ids = pa.array(list(pairs.policy_ids), pa.string())
            maps.pols[key_p] = (pairs.policy_ids, number(con, "policies", "policy_id", "pol", ids))
        t = pairs.pairs
        ents, pols = maps.ents[key][1], maps.pols[key_p][1]
        insert_numbered(con, table, pa.table({
            "ent": pa.array(ents[t.column("row").to_numpy()].astype(np.int32)),
            "pol": pa.array(pols[t.column("pol").to_numpy()].astype(np.int32)),
            "status": t.column("status"), "amount": t.column("amount"),
            **{w: t.column(w) for w in words if w in t.column_names},
        }), now, words)
        return
    pairs = conform(pairs, MATCH_SCHEMA)
    if not pairs.num_rows:
        return
    ents = number(con, "enterprises", "uscc", "ent", pairs.column("uscc").combine_chunks())
    pols = number(con, "policies", "policy_id", "pol", pairs.column("policy_id").combine_chunks())
    con.register("incoming", pairs.append_column("_ent", pa.array(ents.astype(np.int32)))
                 .append_column("_pol", pa.array(pols.astype(np.int32))))
    masks = ", ".join(encode_missing_sql(fields))
    con.execute(
        f"INSERT INTO {table} SELECT _ent, _pol, (list_position({STATUS_SQL}, status) - 1)::TINYINT, amount, "
        f"{masks}, ?::TIMESTAMP FROM incoming WHERE status IN ('eligible', 'unknown')", [now])
    con.unregister("incoming")
