"""The registry's domain events."""

from __future__ import annotations

from qinqing.events import Event


class EnterpriseChanged(Event, type="registry.enterprise_changed"):
    """Enterprise profiles were added or changed (an import, an edit); their matches are to be redone.
    One event per change set, naming every USCC it touched."""

    usccs: tuple[str, ...]
    source: str  # import | edit | …

    @property
    def subject(self) -> str | None:
        return f"enterprise:{self.usccs[0]}" if len(self.usccs) == 1 else None
