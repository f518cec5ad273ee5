"""Matching's domain events."""

from __future__ import annotations

from datetime import date, datetime

from qinqing.events import Event


class RunPublished(Event, type="matching.run_published"):
    """A run of the results store became current: a full run, or an incremental re-match of some
    policies or enterprises. Written after the store's swap (the store is files, not the database)."""

    run_id: str
    kind: str  # full | policy | enterprise
    as_of: date
    policies: tuple[str, ...] = ()  # re-matched policies (kind policy)
    enterprises: tuple[str, ...] = ()  # re-matched USCCs (kind enterprise)
    pairs: int | None = None
    catalogue_read_at: datetime | None = None  # a full run: when it read the published catalogue (UTC)

    @property
    def subject(self) -> str:
        return f"run:{self.run_id}"
