"""The match results store: one DuckDB file per run, and a pointer file naming the current one.

Why this shape: a province run writes tens of millions of rows, which a columnar file takes in
seconds, while the portal asks for one enterprise's matches, which the file answers from the
zone maps of a table sorted by ``uscc`` in a few milliseconds. A run is written into its own file
and published by atomically replacing ``CURRENT`` (``os.replace``); a run killed half-way leaves
only an unpublished file behind, and the previous run stays current and queryable.

Layout of ``root``::

    CURRENT                the id of the current run (one line)
    PREVIOUS               the id of the run before it (push lists compare the two)
    runs/<run_id>.duckdb   tables ``run`` (one row), ``matches`` and ``policy_counts``

Only eligible and unknown pairs are kept; ``policy_counts`` keeps the count of every status.
Incremental re-matches change the current run's file in one transaction. One process writes a
store at a time (DuckDB's file lock); the web application and the CLI share it through this class.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

KEPT_STATUSES = ("eligible", "unknown")
_LIVE_WRITERS: set[Path] = set()  # partial files written by this process

MATCH_SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("policy_id", pa.string()),
        ("status", pa.string()),
        ("amount", pa.decimal128(18, 4)),
        ("failed", pa.list_(pa.string())),
        ("missing", pa.list_(pa.string())),
    ]
)
COUNT_SCHEMA = pa.schema(
    [
        ("policy_id", pa.string()),
        ("eligible", pa.int64()),
        ("unknown", pa.int64()),
        ("ineligible", pa.int64()),
        ("amount_total", pa.decimal128(38, 4)),
    ]
)

_DDL = """
CREATE TABLE run (
    run_id VARCHAR PRIMARY KEY, as_of DATE, engine VARCHAR, started_at TIMESTAMP,
    finished_at TIMESTAMP, policies BIGINT, enterprises BIGINT, pairs_evaluated BIGINT, note VARCHAR);
CREATE TABLE staging (
    uscc VARCHAR, policy_id VARCHAR, status VARCHAR, amount DECIMAL(18,4),
    failed VARCHAR[], missing VARCHAR[]);
CREATE TABLE staging_counts (
    policy_id VARCHAR, eligible BIGINT, unknown BIGINT, ineligible BIGINT, amount_total DECIMAL(38,4));
"""


class StoreError(RuntimeError):
    """The results store cannot do what was asked (no run yet, locked by another process, …)."""


@dataclass(frozen=True)
class Match:
    """One kept pair: an enterprise that is eligible for, or may be eligible for, a policy."""

    uscc: str
    policy_id: str
    status: str
    amount: Decimal | None
    failed: tuple[str, ...]
    missing: tuple[str, ...]
    run_id: str
    computed_at: datetime


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    as_of: date
    engine: str
    started_at: datetime
    finished_at: datetime
    policies: int
    enterprises: int
    pairs_evaluated: int
    note: str


@dataclass(frozen=True)
class PolicyCount:
    policy_id: str
    eligible: int
    unknown: int
    ineligible: int
    amount_total: Decimal


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and unique: the start time, then a random suffix."""
    now = now or datetime.now()
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


class RunWriter:
    """Collects one run's rows in an unpublished file; ``publish`` makes it current atomically."""

    def __init__(self, store: ResultStore, run_id: str, as_of: date, engine: str, note: str = "") -> None:
        self.store, self.run_id, self.as_of, self.engine, self.note = store, run_id, as_of, engine, note
        self.path = store.runs_dir / f"{run_id}.partial.duckdb"
        self.started_at = datetime.now()
        _LIVE_WRITERS.add(self.path)
        self._con = duckdb.connect(str(self.path))
        self._con.execute(_DDL)
        self._done = False

    def add(self, pairs: pa.Table) -> None:
        """Append pairs (MATCH_SCHEMA columns); only eligible and unknown rows are kept."""
        pairs = _conform(pairs, MATCH_SCHEMA)
        self._con.register("incoming", pairs)
        self._con.execute(
            "INSERT INTO staging SELECT uscc, policy_id, status, amount, failed, missing FROM incoming "
            "WHERE status IN ('eligible', 'unknown')"
        )
        self._con.unregister("incoming")

    def add_counts(self, counts: pa.Table) -> None:
        """Append per-policy counts (COUNT_SCHEMA); several rows of one policy are summed."""
        self._con.register("incoming_counts", _conform(counts, COUNT_SCHEMA))
        self._con.execute("INSERT INTO staging_counts SELECT * FROM incoming_counts")
        self._con.unregister("incoming_counts")

    def publish(self, *, policies: int, enterprises: int, pairs_evaluated: int) -> RunInfo:
        """Sort, index and close the file, then swap it in as the current run."""
        con = self._con
        finished = datetime.now()
        con.execute(
            "INSERT INTO run VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.run_id, self.as_of, self.engine, self.started_at, finished, policies, enterprises,
             pairs_evaluated, self.note],
        )
        # Sorted by uscc so that one enterprise's rows sit in one or two row groups (zone maps).
        con.execute(
            "CREATE TABLE matches AS SELECT uscc, policy_id, status, amount, failed, missing, "
            "?::VARCHAR AS run_id, ?::TIMESTAMP AS computed_at FROM staging ORDER BY uscc, policy_id",
            [self.run_id, finished],
        )
        con.execute(
            "CREATE TABLE policy_counts AS SELECT policy_id, sum(eligible)::BIGINT AS eligible, "
            "sum(unknown)::BIGINT AS unknown, sum(ineligible)::BIGINT AS ineligible, "
            "sum(amount_total)::DECIMAL(38,4) AS amount_total FROM staging_counts GROUP BY policy_id "
            "ORDER BY policy_id"
        )
        con.execute("DROP TABLE staging; DROP TABLE staging_counts")
        con.execute("CHECKPOINT")
        con.close()
        self._done = True
        _LIVE_WRITERS.discard(self.path)
        final = self.store.runs_dir / f"{self.run_id}.duckdb"
        os.replace(self.path, final)
        self.store._publish(self.run_id)
        return self.store.run_info(self.run_id)

    def abort(self) -> None:
        if not self._done:
            self._con.close()
            self._done = True
            _LIVE_WRITERS.discard(self.path)
            for p in (self.path, self.path.with_name(self.path.name + ".wal")):
                p.unlink(missing_ok=True)


class ResultStore:
    """Results of matching runs under one directory; see the module docstring."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_run: str | None = None

    # -- runs -------------------------------------------------------------------------------
    def current_run(self) -> RunInfo | None:
        """The published run that queries answer from, or None before the first run."""
        run_id = self._read_pointer("CURRENT")
        return self.run_info(run_id) if run_id else None

    def previous_run_id(self) -> str | None:
        return self._read_pointer("PREVIOUS")

    def run_info(self, run_id: str) -> RunInfo:
        row = self._query_run(run_id, "SELECT * FROM run")[0]
        return RunInfo(*row)

    def begin_run(self, as_of: date, engine: str, note: str = "") -> RunWriter:
        """Start writing a new run; nothing is visible until ``RunWriter.publish``."""
        self._sweep_partials()
        return RunWriter(self, new_run_id(), as_of, engine, note)

    # -- queries ----------------------------------------------------------------------------
    def matches_for(self, uscc: str, run_id: str | None = None) -> list[Match]:
        """Eligible and unknown matches of one enterprise in the current (or given) run."""
        rows = self._query_run(
            run_id,
            "SELECT uscc, policy_id, status, amount, failed, missing, run_id, computed_at "
            "FROM matches WHERE uscc = ? ORDER BY status, policy_id",
            [uscc],
        )
        return [_match(r) for r in rows]

    def matches_of_policy(self, policy_id: str, status: str | None = None, run_id: str | None = None) -> list[Match]:
        sql = ("SELECT uscc, policy_id, status, amount, failed, missing, run_id, computed_at FROM matches "
               "WHERE policy_id = ?")
        params: list[object] = [policy_id]
        if status:
            sql += " AND status = ?"
            params.append(status)
        return [_match(r) for r in self._query_run(run_id, sql + " ORDER BY uscc", params)]

    def counts_by_policy(self, run_id: str | None = None) -> dict[str, PolicyCount]:
        rows = self._query_run(run_id, "SELECT * FROM policy_counts ORDER BY policy_id")
        return {r[0]: PolicyCount(*r) for r in rows}

    def arrow(self, sql: str, params: list[object] | None = None, run_id: str | None = None) -> pa.Table:
        """Run a read query against a run's tables (``matches``, ``policy_counts``, ``run``)."""
        with self._lock:
            con = self._connection(run_id)
            return con.execute(sql, params or []).to_arrow_table()

    # -- incremental ------------------------------------------------------------------------
    def replace_pairs(self, *, uscc: Iterable[str] | None = None, policy_ids: Iterable[str] | None = None,
                      pairs: pa.Table, counts: pa.Table | None = None) -> None:
        """In one transaction of the current run: drop the rows of these enterprises / policies
        and insert their new pairs; for policies, replace their counts too."""
        pairs = _conform(pairs, MATCH_SCHEMA)
        with self._lock:
            con = self._connection(None)
            run_id = self._con_run
            con.execute("BEGIN TRANSACTION")
            try:
                if uscc is not None:
                    con.execute("DELETE FROM matches WHERE uscc IN (SELECT unnest(?::VARCHAR[]))", [list(uscc)])
                if policy_ids is not None:
                    ids = list(policy_ids)
                    con.execute("DELETE FROM matches WHERE policy_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
                    if counts is not None:
                        con.execute("DELETE FROM policy_counts WHERE policy_id IN (SELECT unnest(?::VARCHAR[]))",
                                    [ids])
                con.register("incoming", pairs)
                con.execute(
                    "INSERT INTO matches SELECT uscc, policy_id, status, amount, failed, missing, ?, ? "
                    "FROM incoming WHERE status IN ('eligible', 'unknown')",
                    [run_id, datetime.now()],
                )
                con.unregister("incoming")
                if counts is not None:
                    con.register("incoming_counts", _conform(counts, COUNT_SCHEMA))
                    con.execute("INSERT INTO policy_counts SELECT policy_id, sum(eligible), sum(unknown), "
                                "sum(ineligible), sum(amount_total) FROM incoming_counts GROUP BY policy_id")
                    con.unregister("incoming_counts")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con, self._con_run = None, None

    # -- internals --------------------------------------------------------------------------
    def _read_pointer(self, name: str) -> str | None:
        try:
            text = (self.root / name).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def _write_pointer(self, name: str, value: str) -> None:
        tmp = self.root / f".{name}.{uuid.uuid4().hex[:8]}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(value + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / name)

    def _publish(self, run_id: str) -> None:
        with self._lock:
            previous = self._read_pointer("CURRENT")
            if previous:
                self._write_pointer("PREVIOUS", previous)
            self._write_pointer("CURRENT", run_id)
            self.close()
            keep = {run_id, previous}  # older runs are dropped: push lists need only these two
            for p in self.runs_dir.glob("*.duckdb"):
                if not p.name.endswith(".partial.duckdb") and p.stem not in keep:
                    p.unlink(missing_ok=True)

    def _sweep_partials(self) -> None:
        """Remove files of runs that died before publishing; a live writer's file is locked."""
        for p in self.runs_dir.glob("*.partial.duckdb"):
            if p in _LIVE_WRITERS:
                continue
            try:
                duckdb.connect(str(p)).close()
            except duckdb.Error:
                continue  # locked: still being written by another process
            p.unlink(missing_ok=True)
            p.with_name(p.name + ".wal").unlink(missing_ok=True)

    def _connection(self, run_id: str | None) -> duckdb.DuckDBPyConnection:
        target = run_id or self._read_pointer("CURRENT")
        if target is None:
            raise StoreError("尚无匹配结果：请先运行一次全量匹配（qinqing run full）")
        if self._con is None or self._con_run != target:
            self.close()
            path = self.runs_dir / f"{target}.duckdb"
            if not path.exists():
                raise StoreError(f"匹配批次 {target} 的结果文件不存在：{path}")
            try:
                self._con = duckdb.connect(str(path))
            except duckdb.IOException as exc:
                raise StoreError(f"结果库正被另一个进程使用：{path}（{exc}）") from exc
            self._con_run = target
        return self._con

    def _query_run(self, run_id: str | None, sql: str, params: list[object] | None = None) -> list[tuple]:
        with self._lock:
            return self._connection(run_id).execute(sql, params or []).fetchall()


def _match(row: tuple) -> Match:
    uscc, policy_id, status, amount, failed, missing, run_id, computed_at = row
    return Match(uscc, policy_id, status, amount, tuple(failed or ()), tuple(missing or ()), run_id, computed_at)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select and cast the columns a store table needs, by name."""
    return pa.table([table.column(f.name).cast(f.type) for f in schema], schema=schema)
