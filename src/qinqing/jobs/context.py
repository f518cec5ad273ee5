"""What a running job is handed: the database, the settings, shared resources, and a way to report progress."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from qinqing.settings import Settings


@dataclass
class JobContext:
    """One attempt at one job.

    ``resources`` are what the host process shares with its jobs (e.g. ``"results_dir"``, the matching
    results store's directory); ``attempt`` counts from 1, so a handler can tell a retry; ``scheduled_for``
    is the slot of a scheduled job, ``emitted_at`` the time an event job's event was written. ``progress(done, total, message)`` stores progress for the pages
    (throttled; the last call always lands when the job ends)."""

    job_id: int
    name: str
    attempt: int
    engine: Engine
    settings: Settings
    resources: Mapping[str, Any] = field(default_factory=dict)
    subject: str | None = None
    scheduled_for: datetime | None = None
    emitted_at: datetime | None = None  # when the event of an event job was written (UTC)
    _report: Callable[[int, int | None, str | None], None] | None = None

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        if self._report is not None:
            self._report(int(done), None if total is None else int(total), message)
