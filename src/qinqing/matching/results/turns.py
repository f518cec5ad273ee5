"""Readers and writers of different processes taking turns on a run file.

The web application and a CLI incremental run share the current run's file: a reader keeps a
read-only connection while it is busy and drops it after ``IDLE_SECONDS``, or at once when it sees
``WRITING``; a writer announces itself with ``WRITING`` (O_EXCL, with its pid; a dead writer's flag
is taken over), waits for the readers to let go, changes the file in one transaction and leaves.
Within a process one lock serialises both. Waiting longer than ``WAIT_SECONDS`` is ``StoreBusy``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from qinqing.matching.results.errors import NoRun, RunNotFound, StoreBusy
from qinqing.matching.results.layout import OPEN_RUNS, Layout

IDLE_SECONDS = 0.5  # a reader lets go of the file after this long without a query
WAIT_SECONDS = 60.0  # how long a reader or writer waits for the other before giving up


class Turns:
    """One store's reader connection (kept while busy) and its writer's turn."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_run: str | None = None
        self._last_used = 0.0
        self._timer: threading.Timer | None = None

    @property
    def open_run(self) -> str | None:
        """The run this store has a reader connection to, if any."""
        return self._con_run

    @contextmanager
    def reading(self, run_id: str | None) -> Iterator[tuple[str, duckdb.DuckDBPyConnection]]:
        """(run id, read-only connection) of the given run, or of the current one."""
        with self.lock:
            target = run_id or self.layout.current()
            if target is None:
                raise NoRun()
            if self._con is not None and (self._con_run != target or self.layout.writing_flag.exists()):
                self.close()
            if self._con is None:
                self._wait_for_writer()
                self._con = self._open(self.layout.run_path(target), read_only=True)
                self._con_run = target
                OPEN_RUNS[self.layout.run_path(target)] += 1
            try:
                yield target, self._con
            finally:
                self._last_used = time.monotonic()
                self._schedule_idle_close()

    @contextmanager
    def writing(self) -> Iterator[tuple[str, duckdb.DuckDBPyConnection]]:
        """(run id, read-write connection) of the current run, once every reader (of every process) has let go."""
        with self.lock:
            target = self.layout.current()
            if target is None:
                raise NoRun()
            self._take_flag()
            try:
                self.close()
                path = self.layout.run_path(target)
                con = self._open(path, read_only=False)
                OPEN_RUNS[path] += 1
                try:
                    yield target, con
                finally:
                    con.close()
                    OPEN_RUNS[path] -= 1
            finally:
                self.layout.writing_flag.unlink(missing_ok=True)

    def close(self) -> None:
        with self.lock:
            if self._con is not None:
                self._con.close()
                OPEN_RUNS[self.layout.run_path(self._con_run or "")] -= 1
                self._con, self._con_run = None, None

    def _open(self, path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        if not path.exists():
            raise RunNotFound(f"匹配批次 {path.stem} 的结果文件不存在：{path}", run_id=path.stem)
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                return duckdb.connect(str(path), read_only=read_only)
            except duckdb.IOException as exc:  # the other side still holds the file lock
                if not path.exists():
                    raise RunNotFound(f"匹配批次 {path.stem} 的结果文件不存在：{path}", run_id=path.stem) from exc
                if time.monotonic() > deadline:
                    raise StoreBusy(f"结果库正被另一个进程占用，等待 {WAIT_SECONDS:.0f} 秒后仍未释放：{path}（{exc}）") from exc
                time.sleep(0.01)

    def _take_flag(self) -> None:
        flag = self.layout.writing_flag
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

    def _wait_for_writer(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        flag = self.layout.writing_flag
        while flag.exists() and not _stale(flag):
            if time.monotonic() > deadline:
                raise StoreBusy(f"结果库正在更新，等待 {WAIT_SECONDS:.0f} 秒后仍未完成：{self.layout.root}")
            time.sleep(0.005)

    def _schedule_idle_close(self) -> None:
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Timer(IDLE_SECONDS, self._close_if_idle)
            self._timer.daemon = True
            self._timer.start()

    def _close_if_idle(self) -> None:
        with self.lock:
            self._timer = None
            if time.monotonic() - self._last_used >= IDLE_SECONDS * 0.9:
                self.close()
            else:
                self._schedule_idle_close()


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
