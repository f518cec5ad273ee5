"""``ResultStore``: the results of matching runs under one directory, and what other pieces may ask of it.

The public surface is this class's methods: runs (``current_run``, ``run_info``, ``provenance``,
``begin_run``, ``prune``, ``fingerprint``), named queries (``matches_for``, ``matches_of_policy``,
``counts_by_policy``, ``counts_by_region``, ``new_since_previous``, ``eligible``, ``top_enterprises``,
``kept_count``) and the incremental ``replace_pairs``. No SQL crosses it: the run file's tables are this
package's own business (schema.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import pyarrow as pa

from qinqing.matching.pairs import EncodedPairs
from qinqing.matching.results import incremental, queries
from qinqing.matching.results.errors import RunNotFound
from qinqing.matching.results.layout import Layout
from qinqing.matching.results.schema import (
    Match,
    PolicyCount,
    RegionCount,
    RunInfo,
    RunProvenance,
)
from qinqing.matching.results.turns import Turns
from qinqing.matching.results.writer import RunWriter

if TYPE_CHECKING:
    from qinqing.matching.results.history import RunHistory
    from qinqing.settings import Settings

T = TypeVar("T")


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and unique: the start time, then a random suffix."""
    import uuid

    now = now or datetime.now()
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


class ResultStore:
    """Results of matching runs under ``root`` (layout.py); ``history`` records every published run in the
    database; ``keep`` previous run files are kept beside the current one (the pruning rule, layout.py;
    QINQING_RESULTS_KEEP when not given)."""

    def __init__(self, root: str | os.PathLike[str], *, history: RunHistory | None = None,
                 keep: int | None = None) -> None:
        if keep is None:
            from qinqing.settings import get_settings

            keep = get_settings().results_keep
        if keep < 1:
            raise ValueError("keep must be at least 1: push lists read the previous run")
        self.layout = Layout(root)
        self.root, self.runs_dir = self.layout.root, self.layout.runs_dir
        self.history = history
        self.keep = keep
        self._turns = Turns(self.layout)
        self._fields: dict[str, tuple[str, ...]] = {}
        self._publishing = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, engine: Any = None) -> ResultStore:
        """The store the settings name (QINQING_RESULTS_DIR, QINQING_RESULTS_KEEP), recording its runs in the
        database (``engine``, or one for QINQING_DATABASE_URL)."""
        from qinqing.db import make_engine
        from qinqing.matching.results.history import RunHistory
        from qinqing.settings import get_settings

        settings = settings or get_settings()
        engine = engine if engine is not None else make_engine(settings.database_url)
        return cls(settings.results_dir, history=RunHistory(engine), keep=settings.results_keep)

    # -- runs -------------------------------------------------------------------------------
    def current_run(self) -> RunInfo | None:
        """The published run that queries answer from, or None before the first run."""
        run_id = self.layout.current()
        return self.run_info(run_id) if run_id else None

    def previous_run_id(self) -> str | None:
        return self.layout.previous()

    def published_run_ids(self) -> list[str]:
        """Run ids in publish order, the current one last (files of the older ones may be pruned)."""
        return self.layout.published()

    def run_info(self, run_id: str) -> RunInfo:
        row = self._read(run_id, lambda con, _: con.execute(
            "SELECT run_id, as_of, engine, started_at, finished_at, policies, enterprises, pairs_evaluated, note "
            "FROM run").fetchall()[0])
        return RunInfo(*row)

    def provenance(self, run_id: str | None = None) -> RunProvenance:
        """What the current (or given) run was computed from, and the field table it is decoded with."""
        return self._read(run_id, queries.provenance)

    def fingerprint(self) -> tuple | None:
        """What identifies the current run's content (changes when a run is published or the current one is
        rewritten, by any process); None when there is no run or a writer is busy. For caches."""
        return self.layout.fingerprint()

    def begin_run(self, as_of: date, engine: str, note: str = "",
                  enterprises: Iterable[str] | pa.Array | pa.Table | None = None, *,
                  provenance: RunProvenance | None = None) -> RunWriter:
        """Start writing a new run; nothing is visible until ``RunWriter.publish``.

        ``enterprises`` (the registry's USCCs, or a table of uscc, region_code, industry_code) numbers
        them in uscc order up front; enterprises first met in the pairs are numbered after them. The
        codes let an incremental run take an enterprise's old contribution out of the counts, and give
        the per-region counts. ``provenance`` is recorded with the run (``RunWriter.publish`` may replace it)."""
        self.layout.sweep_partials()
        return RunWriter(self, new_run_id(), as_of, engine, note, enterprises, provenance)

    def publish_run(self, partial: Path, info: RunInfo, provenance: RunProvenance,
                    policy_counts: Sequence[PolicyCount], region_counts: Sequence[RegionCount]) -> None:
        """Called by ``RunWriter.publish`` with the closed file: record the run in the history, move the file
        into place, make it current, prune. (One place where a run becomes published: an audit record of
        the publication belongs here, after the history.)"""
        with self._publishing:
            if self.history is not None:
                self.history.record(info, provenance, policy_counts, region_counts)
            os.replace(partial, self.layout.run_path(info.run_id))
            with self._turns.lock:
                self.layout.publish(info.run_id)
                self._turns.close()
                self.prune()

    def prune(self, keep: int | None = None) -> list[str]:
        """Delete old run files by the pruning rule (layout.py); the run ids deleted."""
        with self._turns.lock:
            in_use = {self._turns.open_run} if self._turns.open_run else set()
            removed = self.layout.prune(self.keep if keep is None else keep, in_use)
        for run_id in removed:
            self._fields.pop(run_id, None)
        return removed

    # -- named queries ----------------------------------------------------------------------
    def matches_for(self, uscc: str, run_id: str | None = None) -> list[Match]:
        """Eligible and unknown matches of one enterprise in the current (or given) run."""
        return self._read(run_id, lambda con, fields: queries.matches_for(con, fields, uscc))

    def matches_of_policy(self, policy_id: str, status: str | None = None, run_id: str | None = None) -> list[Match]:
        """Kept matches of one policy (of one status), by uscc."""
        return self._read(run_id, lambda con, fields: queries.matches_of_policy(con, fields, policy_id, status))

    def counts_by_policy(self, run_id: str | None = None) -> dict[str, PolicyCount]:
        """Per policy: eligible, unknown and ineligible pairs and the eligible amount."""
        return self._read(run_id, lambda con, _: queries.counts_by_policy(con))

    def counts_by_region(self, run_id: str | None = None) -> list[RegionCount]:
        """Per region code of the run's enterprises: enterprises, those with an eligible policy, pairs, amount."""
        return self._read(run_id, lambda con, _: queries.counts_by_region(con))

    def new_since_previous(self) -> pa.Table:
        """Eligible pairs of the current run that were not eligible in the previous one (all, without one):
        uscc, policy_id, status, amount, missing, run_id, by uscc and policy."""
        previous = self.layout.previous()
        path = self.layout.run_path(previous) if previous else None
        if path is not None and not path.exists():
            raise RunNotFound(f"上一次匹配批次 {previous} 的结果文件不存在：{path}", run_id=previous)
        return self._read(None, lambda con, fields: queries.new_since(con, fields, path))

    def eligible(self, policy_ids: Sequence[str] | None = None, *, complete: bool = False,
                 run_id: str | None = None) -> pa.Table:
        """Eligible pairs of these policies (all when None), by policy and uscc; ``complete``: only those with
        nothing missing. Columns as ``new_since_previous``."""
        return self._read(run_id, lambda con, fields: queries.eligible(con, fields, policy_ids, complete))

    def top_enterprises(self, limit: int, run_id: str | None = None) -> list[str]:
        """The enterprises with the most eligible, then kept, matches."""
        return self._read(run_id, lambda con, _: queries.top_enterprises(con, limit))

    def kept_count(self, usccs: Sequence[str], run_id: str | None = None) -> int:
        """Kept matches of these enterprises, together."""
        return self._read(run_id, lambda con, _: queries.kept_count(con, usccs))

    # -- incremental ------------------------------------------------------------------------
    def replace_pairs(self, *, uscc: Iterable[str] | None = None, policy_ids: Iterable[str] | None = None,
                      pairs: pa.Table | EncodedPairs | Iterable[EncodedPairs], counts: pa.Table | None = None,
                      codes: pa.Table | None = None, scope: incremental.ScopeOf | None = None) -> None:
        """In one transaction of the current run: drop the rows of these enterprises / policies and insert
        their new pairs; for policies, replace their counts too (incremental.py says how counts follow)."""
        with self._turns.writing() as (run_id, con):
            fields = self._fields.get(run_id) or queries.run_fields(con)
            incremental.replace_pairs(con, fields, uscc=uscc, policy_ids=policy_ids, pairs=pairs, counts=counts,
                                      codes=codes, scope=scope)

    def close(self) -> None:
        self._turns.close()

    # -- internals --------------------------------------------------------------------------
    def _read(self, run_id: str | None, query: Callable[[duckdb.DuckDBPyConnection, tuple[str, ...]], T]) -> T:
        with self._turns.reading(run_id) as (target, con):
            cur = con.cursor()
            try:
                fields = self._fields.get(target)
                if fields is None:
                    fields = self._fields[target] = queries.run_fields(cur)
                return query(cur, fields)
            finally:
                cur.close()
