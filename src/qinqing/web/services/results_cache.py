"""One enterprise's kept matches, read from the matching results store once per change of the store.

Every 我的政策 request asks the store for one enterprise's matches; the answer only changes when a run
is published or an incremental run rewrites the current run's file (in this process or another one).
Both change what a ``stat`` sees — ``CURRENT`` names another run, or the run's DuckDB file (or its
WAL) gets a new mtime/size — so the cache key includes that fingerprint and a stale entry is never
served. While a writer holds ``WRITING`` nothing is cached.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

CACHE_SIZE = 50_000  # enterprises; a Match list is a few hundred bytes


class CachedMatches:
    """``matches_for(uscc)`` of a :class:`qinqing.matching.results.ResultStore`, cached per store fingerprint."""

    def __init__(self, store: Any, size: int = CACHE_SIZE) -> None:
        self.store = store
        self.root = Path(store.root)
        self.size = size
        self._cache: OrderedDict[tuple, list] = OrderedDict()
        self._lock = threading.Lock()

    def fingerprint(self) -> tuple | None:
        """What identifies the current run's content; None when there is no run or a writer is busy."""
        try:
            run_id = (self.root / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not run_id or (self.root / "WRITING").exists():
            return None
        parts: list[object] = [run_id]
        for name in (f"{run_id}.duckdb", f"{run_id}.duckdb.wal"):
            try:
                st = os.stat(self.root / "runs" / name)
            except FileNotFoundError:
                parts.append(None)
                continue
            parts.append((st.st_mtime_ns, st.st_size))
        return tuple(parts)

    def matches_for(self, uscc: str) -> list | None:
        """The enterprise's eligible and unknown matches in the current run; None before the first run."""
        from qinqing.matching.results import StoreError

        version = self.fingerprint()
        key = (version, uscc)
        if version is not None:
            with self._lock:
                found = self._cache.get(key)
                if found is not None:
                    self._cache.move_to_end(key)
                    return found
        try:
            matches = self.store.matches_for(uscc)
        except StoreError:  # no run yet
            return None
        # Cache only if nothing changed while reading (a run published in between would mix versions).
        if version is not None and self.fingerprint() == version:
            with self._lock:
                self._cache[key] = matches
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return matches
