"""Where a store keeps its runs, how one is published, and which old ones are pruned.

Layout of ``root``::

    CURRENT                the id of the current run (one line)
    PREVIOUS               the id of the run published before it (push lists compare the two)
    PUBLISHED              every run id in the order it was published, one a line (appended)
    WRITING                present while a process changes the current run (incremental runs)
    runs/<run_id>.duckdb   one run (schema.py); ``<run_id>.partial.duckdb`` while it is written

A run is published by atomically replacing ``CURRENT`` (``os.replace``); a run killed half-way leaves
only an unpublished partial file behind, and the previous run stays current and queryable.

**Pruning rule.** After each publish (and on ``ResultStore.prune``) run files are deleted except the
current run, the ``keep`` runs published just before it (``QINQING_RESULTS_KEEP``, at least 1, since
push lists read the previous run), and any run file that a process has open (this process's
connections are counted; another process's read-only connection holds a lock that is probed). The
counts of every run stay in the run history (history.py) after its file is gone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections import Counter
from pathlib import Path

import duckdb

LIVE_WRITERS: set[Path] = set()  # partial files written by this process
OPEN_RUNS: Counter[Path] = Counter()  # run files this process has a connection to (any ResultStore)


class Layout:
    """The files under one store's root."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.writing_flag = self.root / "WRITING"

    def run_path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.duckdb"

    def partial_path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.partial.duckdb"

    def current(self) -> str | None:
        return self.read_pointer("CURRENT")

    def previous(self) -> str | None:
        return self.read_pointer("PREVIOUS")

    def published(self) -> list[str]:
        """Run ids in publish order, the current one last (a store from before PUBLISHED: its two pointers)."""
        try:
            lines = (self.root / "PUBLISHED").read_text(encoding="utf-8").split()
        except FileNotFoundError:
            lines = [r for r in (self.previous(), self.current()) if r]
        seen: dict[str, None] = {}
        for run_id in lines:
            seen.pop(run_id, None)
            seen[run_id] = None
        order = list(seen)
        current = self.current()
        if current and (not order or order[-1] != current):
            order = [r for r in order if r != current] + [current]
        return order

    def publish(self, run_id: str) -> None:
        """Make ``run_id`` (its file in place) the current run; the current one becomes the previous."""
        previous = self.current()
        log = self.root / "PUBLISHED"
        earlier = [] if log.exists() else self.published()  # a store from before the log: seed it
        with open(log, "a", encoding="utf-8") as fh:  # one short O_APPEND write
            fh.write("".join(f"{r}\n" for r in [*earlier, run_id]))
            fh.flush()
            os.fsync(fh.fileno())
        if previous:
            self.write_pointer("PREVIOUS", previous)
        self.write_pointer("CURRENT", run_id)

    def prune(self, keep: int, in_use: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
        """Delete the run files the pruning rule (module docstring) does not keep; the ids deleted."""
        if keep < 1:
            raise ValueError("keep must be at least 1: push lists read the previous run")
        order = self.published()
        kept = set(order[-(keep + 1):]) | set(in_use)
        kept |= {p.stem for p, n in OPEN_RUNS.items() if n > 0 and p.parent == self.runs_dir}
        for pointer in (self.current(), self.previous()):
            if pointer:
                kept.add(pointer)
        removed = []
        for path in sorted(self.runs_dir.glob("*.duckdb")):
            if path.name.endswith(".partial.duckdb") or path.stem in kept:
                continue
            if _delete_unless_open(path):
                removed.append(path.stem)
                path.with_name(path.name + ".wal").unlink(missing_ok=True)
                shutil.rmtree(self.runs_dir / f"{path.stem}.tmp", ignore_errors=True)
        return removed

    def fingerprint(self) -> tuple | None:
        """What identifies the current run's content: the run id and its file's (and WAL's) mtime and size.

        Publishing names another run; an incremental run rewrites the file (or its WAL), in this process
        or another. None when there is no run or a writer is busy (nothing should be cached then)."""
        run_id = self.current()
        if run_id is None or self.writing_flag.exists():
            return None
        parts: list[object] = [run_id]
        for path in (self.run_path(run_id), self.run_path(run_id).with_name(f"{run_id}.duckdb.wal")):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                parts.append(None)
                continue
            parts.append((st.st_mtime_ns, st.st_size))
        return tuple(parts)

    def sweep_partials(self) -> None:
        """Remove files of runs that died before publishing; a live writer's file is locked."""
        for p in self.runs_dir.glob("*.partial.duckdb"):
            if p in LIVE_WRITERS:
                continue
            try:
                duckdb.connect(str(p)).close()
            except duckdb.Error:
                continue  # locked: still being written by another process
            p.unlink(missing_ok=True)
            p.with_name(p.name + ".wal").unlink(missing_ok=True)

    def read_pointer(self, name: str) -> str | None:
        try:
            text = (self.root / name).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def write_pointer(self, name: str, value: str) -> None:
        tmp = self.root / f".{name}.{uuid.uuid4().hex[:8]}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(value + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / name)


def _delete_unless_open(path: Path) -> bool:
    """Delete a run file unless another process holds DuckDB's lock on it (a reader or a writer).

    DuckDB locks a database file with fcntl (shared for read-only connections); an exclusive probe
    that fails means someone has it open. This process's own connections are excluded before (a
    probe would not see them, and closing the probe's descriptor would drop their locks)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)
