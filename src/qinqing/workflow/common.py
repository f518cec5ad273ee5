"""The clock and the JSON form shared by the workflow's modules."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any


def now() -> datetime:
    return datetime.now(UTC)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def jsonable(value: Any) -> Any:
    """Dates as ISO text, tuples as lists, recursively."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
