"""The match results store: one DuckDB file per run, and a pointer file naming the current one.

Why this shape: a province run writes hundreds of millions of rows, which a columnar file takes in
seconds, while the portal asks for one enterprise's matches, which the file answers from the
zone maps of a table sorted by enterprise in a few milliseconds. A run is written into its own file
and published by atomically replacing ``CURRENT`` (``os.replace``); a run killed half-way leaves
only an unpublished file behind, and the previous run stays current and queryable.

Layout of ``root``::

    CURRENT                the id of the current run (one line)
    PREVIOUS               the id of the run before it (push lists compare the two)
    WRITING                present while a process changes the current run (incremental runs)
    runs/<run_id>.duckdb   tables ``run`` (one row), ``enterprises`` (ent, uscc, region_code,
                           industry_code: the codes the run scoped it by), ``policies``
                           (pol, policy_id), ``pairs`` (ent, pol, status, amount, missing bitmask,
                           computed_at) and ``policy_counts``; the view ``matches`` spells pairs
                           out as (uscc, policy_id, status, amount, failed, missing, run_id, computed_at)

Pairs are stored encoded (pairs.py): integers for enterprise, policy and status, a bitmask of the
missing fields, decoded to names by the ``matches`` view only for the rows read. Only eligible and
unknown pairs are kept (their ``failed`` is empty by definition); ``policy_counts`` keeps the count
of every status.

Readers and writers in different processes (the web application, a CLI incremental run) share a
run file by taking turns: a reader keeps a read-only connection while it is busy and drops it after
``IDLE_SECONDS``, or at once when it sees ``WRITING``; a writer announces itself with ``WRITING``,
waits for the readers to let go, changes the file in one transaction and leaves.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from qinqing.errors import QinqingError
from qinqing.matching.pairs import FIELD_NAMES, STATUS_NAMES, EncodedPairs
from qinqing.matching.spill import RangeSpill

KEPT_STATUSES = ("eligible", "unknown")
IDLE_SECONDS = 0.5  # a reader lets go of the file after this long without a query
WAIT_SECONDS = 60.0  # how long a reader or writer waits for the other before giving up
WRITER_MEMORY = "6GB"  # a run's writer spills its sort to disk beyond this (DuckDB's default is 80 % of RAM)
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
_FIELDS_SQL = "[" + ", ".join(f"'{f}'" for f in FIELD_NAMES) + "]"
_STATUS_SQL = "[" + ", ".join(f"'{s}'" for s in STATUS_NAMES) + "]"

_DDL = """
CREATE TABLE run (
    run_id VARCHAR PRIMARY KEY, as_of DATE, engine VARCHAR, started_at TIMESTAMP,
    finished_at TIMESTAMP, policies BIGINT, enterprises BIGINT, pairs_evaluated BIGINT, note VARCHAR);
CREATE TABLE enterprises (ent INTEGER, uscc VARCHAR, region_code VARCHAR, industry_code VARCHAR);
CREATE TABLE policies (pol INTEGER, policy_id VARCHAR);
CREATE TABLE staging (ent INTEGER, pol INTEGER, status TINYINT, amount DECIMAL(18,4), missing UBIGINT,
                      computed_at TIMESTAMP);
CREATE TABLE staging_counts (
    policy_id VARCHAR, eligible BIGINT, unknown BIGINT, ineligible BIGINT, amount_total DECIMAL(38,4));
"""
_DECODE_SQL = f"""
SELECT e.uscc, p.policy_id, {_STATUS_SQL}[m.status + 1] AS status, m.amount, []::VARCHAR[] AS failed,
       list_filter({_FIELDS_SQL}, lambda f, i: ((m.missing >> (i - 1)::UBIGINT) & 1::UBIGINT) = 1) AS missing,
       (SELECT run_id FROM run) AS run_id, m.computed_at
FROM (SELECT * FROM pairs WHERE {{where}}) m JOIN enterprises e USING (ent) JOIN policies p USING (pol)
"""
_MATCHES_VIEW = f"""
CREATE VIEW matches AS
SELECT e.uscc, p.policy_id, {_STATUS_SQL}[m.status + 1] AS status, m.amount,
       []::VARCHAR[] AS failed,
       list_filter({_FIELDS_SQL}, lambda f, i: ((m.missing >> (i - 1)::UBIGINT) & 1::UBIGINT) = 1) AS missing,
       (SELECT run_id FROM run) AS run_id, m.computed_at, m.ent, m.pol
FROM pairs m JOIN enterprises e USING (ent) JOIN policies p USING (pol)
"""


class StoreError(QinqingError, RuntimeError):
    """The results store cannot do what was asked (no run yet, locked by another process, …).

    A 503 with Retry-After on the web: the message names server files, so the web shows
    ``default_message`` instead (every 5xx does)."""

    code = "matching.results_unavailable"
    status = 503
    default_message = "匹配结果暂时无法读取，请稍后再试。"
    retry_after = 30


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

    def __init__(self, store: ResultStore, run_id: str, as_of: date, engine: str, note: str = "",
                 enterprises: Iterable[str] | pa.Array | pa.Table | None = None) -> None:
        self.store, self.run_id, self.as_of, self.engine, self.note = store, run_id, as_of, engine, note
        self.path = store.runs_dir / f"{run_id}.partial.duckdb"
        self.started_at = datetime.now()
        _LIVE_WRITERS.add(self.path)
        self._con = duckdb.connect(str(self.path))
        tmp = str(store.runs_dir / f"{run_id}.tmp").replace("'", "''")
        self._con.execute(f"SET memory_limit = '{WRITER_MEMORY}'; SET temp_directory = '{tmp}'")
        self._con.execute(_DDL)
        self._maps = _Maps()
        self._counts: list[pa.Table] = []
        self._numbered = enterprises is not None
        numbered = 0
        if enterprises is not None:  # numbered in uscc order, so that pairs sorted by ent are by uscc
            self._con.register("incoming_usccs", _codes_table(enterprises))
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
                "status": t.column("status"), "amount": t.column("amount"), "missing": t.column("missing")}))
            return
        _insert(self._con, "staging", pairs, self.started_at, self._maps)

    def _pols(self, pairs: EncodedPairs) -> np.ndarray:
        key = id(pairs.policy_ids)
        if key not in self._maps.pols or self._maps.pols[key][0] is not pairs.policy_ids:
            ids = pa.array(list(pairs.policy_ids), pa.string())
            self._maps.pols[key] = (pairs.policy_ids, _number(self._con, "policies", "policy_id", "pol", ids))
        return self._maps.pols[key][1]

    def add_counts(self, counts: pa.Table) -> None:
        """Append per-policy counts (COUNT_SCHEMA); several rows of one policy are summed."""
        self._counts.append(_conform(counts, COUNT_SCHEMA))

    def publish(self, *, policies: int, enterprises: int, pairs_evaluated: int) -> RunInfo:
        """Sort, index and close the file, then swap it in as the current run."""
        con = self._con
        if self._counts:
            con.register("incoming_counts", pa.concat_tables(self._counts))
            con.execute("INSERT INTO staging_counts SELECT * FROM incoming_counts")
            con.unregister("incoming_counts")
        finished = datetime.now()
        con.execute(
            "INSERT INTO run VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.run_id, self.as_of, self.engine, self.started_at, finished, policies, enterprises,
             pairs_evaluated, self.note],
        )
        # Sorted by enterprise (numbered in uscc order) so that one enterprise's rows sit in one or
        # two row groups, which the zone maps find without a scan.
        con.execute("CREATE TABLE pairs AS FROM staging LIMIT 0")
        staged = con.execute("SELECT count(*) FROM staging").fetchall()[0][0]
        for part in self._spill.ranges():  # in enterprise order already (spill.py)
            _insert_numbered(con, "staging" if staged else "pairs", part, self.started_at)
        if staged:  # named pairs too (not the fast path's): one sort over everything
            con.execute("INSERT INTO pairs SELECT * FROM staging ORDER BY ent, pol")
        con.execute(
            "CREATE TABLE policy_counts AS SELECT policy_id, sum(eligible)::BIGINT AS eligible, "
            "sum(unknown)::BIGINT AS unknown, sum(ineligible)::BIGINT AS ineligible, "
            "sum(amount_total)::DECIMAL(38,4) AS amount_total FROM staging_counts GROUP BY policy_id "
            "ORDER BY policy_id"
        )
        con.execute("DROP TABLE staging; DROP TABLE staging_counts")
        con.execute(_MATCHES_VIEW)
        con.execute("CHECKPOINT")
        con.close()
        self._done = True
        _LIVE_WRITERS.discard(self.path)
        final = self.store.runs_dir / f"{self.run_id}.duckdb"
        os.replace(self.path, final)
        shutil.rmtree(self.store.runs_dir / f"{self.run_id}.tmp", ignore_errors=True)
        self._spill.discard()
        self.store._publish(self.run_id)
        return self.store.run_info(self.run_id)

    def abort(self) -> None:
        if not self._done:
            self._spill.discard()
            self._con.close()
            self._done = True
            _LIVE_WRITERS.discard(self.path)
            for p in (self.path, self.path.with_name(self.path.name + ".wal")):
                p.unlink(missing_ok=True)
            shutil.rmtree(self.store.runs_dir / f"{self.run_id}.tmp", ignore_errors=True)


class ResultStore:
    """Results of matching runs under one directory; see the module docstring."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_run: str | None = None
        self._last_used = 0.0
        self._timer: threading.Timer | None = None

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

    def begin_run(self, as_of: date, engine: str, note: str = "",
                  enterprises: Iterable[str] | pa.Array | pa.Table | None = None) -> RunWriter:
        """Start writing a new run; nothing is visible until ``RunWriter.publish``.

        ``enterprises`` (the registry's USCCs, or a table of uscc, region_code, industry_code) numbers
        them in uscc order up front; enterprises first met in the pairs are numbered after them. The
        codes let an incremental run take an enterprise's old contribution out of the counts."""
        self._sweep_partials()
        return RunWriter(self, new_run_id(), as_of, engine, note, enterprises)

    # -- queries ----------------------------------------------------------------------------
    def matches_for(self, uscc: str, run_id: str | None = None) -> list[Match]:
        """Eligible and unknown matches of one enterprise in the current (or given) run.

        Two lookups with constants, so that both hit the sorted tables' zone maps (a filter through
        the ``matches`` view's joins would scan every pair)."""
        with self._reading(run_id) as con:
            cur = con.cursor()
            try:
                found = cur.execute("SELECT ent FROM enterprises WHERE uscc = ?", [uscc]).fetchall()
                if not found:
                    return []
                rows = cur.execute(_DECODE_SQL.format(where="ent = ?") + " ORDER BY status, policy_id",
                                   [found[0][0]]).fetchall()
            finally:
                cur.close()
        return [_match(r) for r in rows]

    def matches_of_policy(self, policy_id: str, status: str | None = None, run_id: str | None = None) -> list[Match]:
        sql = ("SELECT uscc, policy_id, status, amount, failed, missing, run_id, computed_at FROM matches "
               "WHERE pol = (SELECT pol FROM policies WHERE policy_id = ?)")
        params: list[object] = [policy_id]
        if status:
            sql += " AND status = ?"
            params.append(status)
        return [_match(r) for r in self._query_run(run_id, sql + " ORDER BY uscc", params)]

    def counts_by_policy(self, run_id: str | None = None) -> dict[str, PolicyCount]:
        rows = self._query_run(run_id, "SELECT * FROM policy_counts ORDER BY policy_id")
        return {r[0]: PolicyCount(*r) for r in rows}

    def arrow(self, sql: str, params: list[object] | None = None, run_id: str | None = None,
              attach: dict[str, str] | None = None) -> pa.Table:
        """Run a read query against a run's tables (``matches``, ``policy_counts``, ``run``);
        ``attach`` maps aliases to other run ids, attached read-only for the query."""
        with self._reading(run_id) as con:
            cur = con.cursor()
            try:
                for alias, other in (attach or {}).items():
                    path = str(self.runs_dir / f"{other}.duckdb").replace("'", "''")
                    cur.execute(f"ATTACH '{path}' AS {alias} (READ_ONLY)")
                return cur.sql(sql, params=params or None).to_arrow_table()
            finally:
                cur.close()

    # -- incremental ------------------------------------------------------------------------
    def replace_pairs(self, *, uscc: Iterable[str] | None = None, policy_ids: Iterable[str] | None = None,
                      pairs: pa.Table | EncodedPairs | Iterable[EncodedPairs], counts: pa.Table | None = None,
                      codes: pa.Table | None = None, scope: ScopeOf | None = None) -> None:
        """In one transaction of the current run: drop the rows of these enterprises / policies
        and insert their new pairs; for policies, replace their counts too.

        For enterprises, ``counts`` (their new pairs' counts, COUNT_SCHEMA, ineligible included) is
        added to the counts after their old contribution is taken out: their old kept pairs, and
        one ineligible pair for every other policy ``scope(old region, old industry)`` names (the
        codes the store holds for them). ``codes`` (uscc, region_code, industry_code) are then kept
        as their new codes."""
        parts = [pairs] if isinstance(pairs, (pa.Table, EncodedPairs)) else list(pairs)
        parts = [_conform(p, MATCH_SCHEMA) if isinstance(p, pa.Table) else p for p in parts]
        with self._writing() as con:
            now = datetime.now()
            con.execute("BEGIN TRANSACTION")
            try:
                if uscc is not None:
                    uscc = list(uscc)
                    if counts is not None:
                        _take_out_enterprises(con, uscc, scope)
                    con.execute("DELETE FROM pairs WHERE ent IN (SELECT ent FROM enterprises "
                                "WHERE uscc IN (SELECT unnest(?::VARCHAR[])))", [uscc])
                if policy_ids is not None:
                    ids = list(policy_ids)
                    known = con.execute("SELECT list(pol) FROM policies WHERE policy_id IN (SELECT unnest(?::VARCHAR[]))",
                                        [ids]).fetchall()[0][0]
                    if known:  # a new policy has no rows: skip the scan (pairs are sorted by enterprise)
                        con.execute("DELETE FROM pairs WHERE pol IN (SELECT unnest(?::INTEGER[]))", [known])
                    if counts is not None:
                        con.execute("DELETE FROM policy_counts WHERE policy_id IN (SELECT unnest(?::VARCHAR[]))",
                                    [ids])
                maps = _Maps()
                for part in parts:
                    _insert(con, "pairs", part, now, maps)
                if counts is not None and uscc is not None:
                    _add_counts(con, _conform(counts, COUNT_SCHEMA))
                elif counts is not None:
                    con.register("incoming_counts", _conform(counts, COUNT_SCHEMA))
                    con.execute("INSERT INTO policy_counts SELECT policy_id, sum(eligible), sum(unknown), "
                                "sum(ineligible), sum(amount_total) FROM incoming_counts GROUP BY policy_id")
                    con.unregister("incoming_counts")
                if codes is not None:
                    con.register("incoming_codes", _codes_table(codes))
                    con.execute("UPDATE enterprises SET region_code = c.region_code, industry_code = c.industry_code "
                                "FROM incoming_codes c WHERE enterprises.uscc = c.uscc")
                    con.unregister("incoming_codes")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con, self._con_run = None, None

    # -- connections: readers take turns with writers (module docstring) ---------------------
    @contextmanager
    def _reading(self, run_id: str | None) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            target = run_id or self._read_pointer("CURRENT")
            if target is None:
                raise StoreError("尚无匹配结果：请先运行一次全量匹配（qinqing run full）")
            if self._con is not None and (self._con_run != target or self._writer_waiting()):
                self.close()
            if self._con is None:
                self._wait_for_writer()
                self._con = self._open(self.runs_dir / f"{target}.duckdb", read_only=True)
                self._con_run = target
            try:
                yield self._con
            finally:
                self._last_used = time.monotonic()
                self._schedule_idle_close()

    @contextmanager
    def _writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The current run's file, read-write, once every reader (of every process) has let go."""
        with self._lock:
            target = self._read_pointer("CURRENT")
            if target is None:
                raise StoreError("尚无匹配结果：请先运行一次全量匹配（qinqing run full）")
            flag = self.root / "WRITING"
            self._take_flag(flag)
            try:
                self.close()
                con = self._open(self.runs_dir / f"{target}.duckdb", read_only=False)
                try:
                    yield con
                finally:
                    con.close()
            finally:
                flag.unlink(missing_ok=True)

    def _open(self, path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        if not path.exists():
            raise StoreError(f"匹配批次 {path.stem} 的结果文件不存在：{path}")
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                return duckdb.connect(str(path), read_only=read_only)
            except duckdb.IOException as exc:  # the other side still holds the file lock
                if time.monotonic() > deadline:
                    raise StoreError(f"结果库正被另一个进程占用，等待 {WAIT_SECONDS:.0f} 秒后仍未释放：{path}（{exc}）") from exc
                time.sleep(0.01)

    def _take_flag(self, flag: Path) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                return
            except FileExistsError:
                if _stale(flag) or time.monotonic() > deadline:
                    flag.unlink(missing_ok=True)  # its writer died, or is stuck far beyond any real change
                time.sleep(0.01)

    def _writer_waiting(self) -> bool:
        return (self.root / "WRITING").exists()

    def _wait_for_writer(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        flag = self.root / "WRITING"
        while flag.exists() and not _stale(flag):
            if time.monotonic() > deadline:
                raise StoreError(f"结果库正在更新，等待 {WAIT_SECONDS:.0f} 秒后仍未完成：{self.root}")
            time.sleep(0.005)

    def _schedule_idle_close(self) -> None:
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Timer(IDLE_SECONDS, self._close_if_idle)
            self._timer.daemon = True
            self._timer.start()

    def _close_if_idle(self) -> None:
        with self._lock:
            self._timer = None
            if time.monotonic() - self._last_used >= IDLE_SECONDS * 0.9:
                self.close()
            else:
                self._schedule_idle_close()

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

    def _query_run(self, run_id: str | None, sql: str, params: list[object] | None = None) -> list[tuple]:
        with self._reading(run_id) as con:
            cur = con.cursor()
            try:
                return cur.execute(sql, params or []).fetchall()
            finally:
                cur.close()


def _stale(flag: Path) -> bool:
    """A WRITING flag whose process is gone (killed mid-write: DuckDB rolled its transaction back)."""
    try:
        pid = int(flag.read_text() or "0")
    except (FileNotFoundError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class _Maps:
    """Per insert target: slice → ent numbers and policy-id list → pol numbers, computed once each."""

    def __init__(self) -> None:
        self.ents: dict[int, tuple[pa.Array, np.ndarray]] = {}
        self.pols: dict[int, tuple[Any, np.ndarray]] = {}


def _number(con: duckdb.DuckDBPyConnection, table: str, key: str, num: str, values: pa.Array) -> np.ndarray:
    """The numbers of ``values`` in ``table`` (key → num), numbering the new ones after the rest."""
    con.register("incoming_keys", pa.table({"k": values, "i": pa.array(np.arange(len(values), dtype=np.int64))}))
    con.execute(
        f"INSERT INTO {table} ({num}, {key}) SELECT (coalesce((SELECT max({num}) FROM {table}), -1) + row_number() OVER (ORDER BY k))"
        f"::INTEGER, k FROM (SELECT DISTINCT k FROM incoming_keys WHERE k NOT IN (SELECT {key} FROM {table}))")
    got = con.sql(f"SELECT i, {num} FROM incoming_keys JOIN {table} ON {key} = k ORDER BY i").to_arrow_table()
    con.unregister("incoming_keys")
    return got.column(1).to_numpy()


ScopeOf = Callable[[str | None, str | None], Iterable[str]]  # (region, industry) → ids of the policies in scope


def _codes_table(enterprises: Iterable[str] | pa.Array | pa.Table) -> pa.Table:
    if isinstance(enterprises, pa.Table):
        cols = {c: enterprises.column(c).cast(pa.string()) if c in enterprises.column_names
                else pa.nulls(enterprises.num_rows, pa.string()) for c in ("uscc", "region_code", "industry_code")}
        return pa.table(cols)
    usccs = enterprises if isinstance(enterprises, pa.Array) else pa.array(list(enterprises), pa.string())
    return pa.table({"uscc": usccs, "region_code": pa.nulls(len(usccs), pa.string()),
                     "industry_code": pa.nulls(len(usccs), pa.string())})


def _take_out_enterprises(con: duckdb.DuckDBPyConnection, uscc: list[str], scope: ScopeOf | None) -> None:
    """Subtract these enterprises' contribution to policy_counts, as the current run holds it."""
    old = con.execute("SELECT uscc, region_code, industry_code FROM enterprises WHERE uscc IN "
                      "(SELECT unnest(?::VARCHAR[]))", [uscc]).fetchall()
    kept = con.execute(
        "SELECT e.uscc, p.policy_id, m.status, m.amount FROM pairs m JOIN enterprises e USING (ent) "
        "JOIN policies p USING (pol) WHERE m.ent IN (SELECT ent FROM enterprises WHERE uscc IN "
        "(SELECT unnest(?::VARCHAR[])))", [uscc]).fetchall()
    delta: dict[str, list] = {}

    def row(pid: str) -> list:
        return delta.setdefault(pid, [0, 0, 0, Decimal(0)])

    in_scope: dict[str, set[str]] = {}
    for u, region, industry in old:
        in_scope[u] = set(scope(region, industry)) if scope is not None else set()
        for pid in in_scope[u]:
            row(pid)[2] -= 1
    for u, pid, status, amount in kept:
        r = row(pid)
        r[status] -= 1  # status 0 eligible, 1 unknown: the first two counters
        if pid in in_scope.get(u, ()):
            r[2] += 1  # counted above as ineligible; it was kept
        if status == 0 and amount is not None:
            r[3] -= amount
    if delta:
        _add_counts(con, pa.table({"policy_id": list(delta), "eligible": [v[0] for v in delta.values()],
                                   "unknown": [v[1] for v in delta.values()],
                                   "ineligible": [v[2] for v in delta.values()],
                                   "amount_total": pa.array([v[3] for v in delta.values()], pa.decimal128(38, 4))},
                                  schema=COUNT_SCHEMA))


def _add_counts(con: duckdb.DuckDBPyConnection, counts: pa.Table) -> None:
    """policy_counts += counts, per policy (a policy without a row gets one)."""
    con.register("incoming_counts", counts)
    con.execute("CREATE TEMP TABLE delta_counts AS SELECT policy_id, sum(eligible) AS e, sum(unknown) AS u, "
                "sum(ineligible) AS i, sum(amount_total) AS a FROM incoming_counts GROUP BY policy_id")
    con.unregister("incoming_counts")
    con.execute("UPDATE policy_counts SET eligible = eligible + d.e, unknown = unknown + d.u, "
                "ineligible = ineligible + d.i, amount_total = amount_total + d.a FROM delta_counts d "
                "WHERE policy_counts.policy_id = d.policy_id")
    con.execute("INSERT INTO policy_counts SELECT policy_id, e, u, i, a FROM delta_counts "
                "WHERE policy_id NOT IN (SELECT policy_id FROM policy_counts)")
    con.execute("DROP TABLE delta_counts")


def _insert_numbered(con: duckdb.DuckDBPyConnection, table: str, incoming: pa.Table, now: datetime) -> None:
    """Insert encoded pairs already numbered (ent, pol, status, amount in 0.0001 units, missing)."""
    # amount's integers are DECIMAL(18,4)'s own representation: relabelled, not converted (a
    # DECIMAL expression per row cost a sixth of the insert).
    con.register("incoming", incoming.set_column(incoming.schema.get_field_index("amount"), "amount",
                                                 _as_decimal(incoming.column("amount"))))
    con.execute(f"INSERT INTO {table} SELECT ent, pol, status, amount, missing, ?::TIMESTAMP FROM incoming "
                "WHERE status IN (0, 1)", [now])
    con.unregister("incoming")


def _as_decimal(amount: pa.ChunkedArray) -> pa.ChunkedArray:
    """int64 amounts in 0.0001 units as DECIMAL(18,4) (Arrow decimal64: the same 8 bytes), zero-copy."""
    amount = amount.cast(pa.int64())
    return pa.chunked_array([pa.Array.from_buffers(_AMOUNT, len(c), c.buffers(), c.null_count, c.offset)
                             for c in amount.chunks], _AMOUNT)


_AMOUNT = pa.decimal64(18, 4)


def _insert(con: duckdb.DuckDBPyConnection, table: str, pairs: pa.Table | EncodedPairs, now: datetime,
            maps: _Maps) -> None:
    """Insert kept pairs into ``table`` (staging or pairs): encoded ones as they are, named ones encoded."""
    if isinstance(pairs, EncodedPairs):
        if not pairs.num_rows:
            return
        key = id(pairs.uscc)
        if key not in maps.ents or maps.ents[key][0] is not pairs.uscc:
            maps.ents[key] = (pairs.uscc, _number(con, "enterprises", "uscc", "ent", pairs.uscc))
        key_p = id(pairs.policy_ids)
        if key_p not in maps.pols or maps.pols[key_p][0] is not pairs.policy_ids:
            ids = pa.array(list(pairs.policy_ids), pa.string())
            maps.pols[key_p] = (pairs.policy_ids, _number(con, "policies", "policy_id", "pol", ids))
        t = pairs.pairs
        ents, pols = maps.ents[key][1], maps.pols[key_p][1]
        _insert_numbered(con, table, pa.table({
            "ent": pa.array(ents[t.column("row").to_numpy()].astype(np.int32)),
            "pol": pa.array(pols[t.column("pol").to_numpy()].astype(np.int32)),
            "status": t.column("status"), "amount": t.column("amount"), "missing": t.column("missing"),
        }), now)
        return
    pairs = _conform(pairs, MATCH_SCHEMA)
    if not pairs.num_rows:
        return
    ents = _number(con, "enterprises", "uscc", "ent", pairs.column("uscc").combine_chunks())
    pols = _number(con, "policies", "policy_id", "pol", pairs.column("policy_id").combine_chunks())
    con.register("incoming", pairs.append_column("_ent", pa.array(ents.astype(np.int32)))
                 .append_column("_pol", pa.array(pols.astype(np.int32))))
    con.execute(
        f"INSERT INTO {table} SELECT _ent, _pol, (list_position({_STATUS_SQL}, status) - 1)::TINYINT, amount, "
        f"coalesce(list_sum(list_transform(missing, lambda f: 1::UBIGINT << (list_position({_FIELDS_SQL}, f) - 1)"
        f"::UBIGINT)), 0)::UBIGINT, ?::TIMESTAMP FROM incoming WHERE status IN ('eligible', 'unknown')", [now])
    con.unregister("incoming")


def _match(row: tuple) -> Match:
    uscc, policy_id, status, amount, failed, missing, run_id, computed_at = row
    return Match(uscc, policy_id, status, amount, tuple(failed or ()), tuple(missing or ()), run_id, computed_at)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select and cast the columns a store table needs, by name."""
    return pa.table([table.column(f.name).cast(f.type) for f in schema], schema=schema)
