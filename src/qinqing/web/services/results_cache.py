"""One enterprise's kept matches, read from the matching results store once per change of the store.

Every 我的政策 request asks the store for one enterprise's matches; the answer only changes when a run
is published or an incremental run rewrites the current run's file (in this process or another one).
The store's ``fingerprint()`` changes with both, so the cache key includes it and a stale entry is never
served; while a writer is busy the fingerprint is None and nothing is cached.

Only ``NoRun`` (nothing published yet) reads as "no matches from the store" (the caller then evaluates
directly); a busy store (``StoreBusy``) or a missing run file propagates, so the web answers 503.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from qinqing.matching.results import NoRun

CACHE_SIZE = 50_000  # enterprises; a Match list is a few hundred bytes


class CachedMatches:
    """``matches_for(uscc)`` of a :class:`qinqing.matching.results.ResultStore`, cached per store fingerprint."""

    def __init__(self, store: Any, size: int = CACHE_SIZE) -> None:
        self.store = store
        self.size = size
        self._cache: OrderedDict[tuple, list] = OrderedDict()
        self._lock = threading.Lock()

    def fingerprint(self) -> tuple | None:
        """What identifies the current run's content; None when there is no run or a writer is busy."""
        return self.store.fingerprint()

    def matches_for(self, uscc: str) -> list | None:
        """The enterprise's eligible and unknown matches in the current run; None before the first run."""
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
        except NoRun:
            return None
        # Cache only if nothing changed while reading (a run published in between would mix versions).
        if version is not None and self.fingerprint() == version:
            with self._lock:
                self._cache[key] = matches
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return matches
