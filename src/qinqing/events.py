"""Typed domain events, written to an outbox in the same transaction as the change they record.

A piece declares its events in its own ``events.py``, one frozen dataclass per event, named by a stable
``"<piece>.<snake_case>"`` type (the name is stored; never rename it)::

    from qinqing.events import Event

    class PolicyPublished(Event, type="catalogue.policy_published"):
        policy_id: str
        version: int
        published_by: str

        @property
        def subject(self) -> str:
            return f"policy:{self.policy_id}"      # what the event is about (pages find its jobs by it)

Subclassing ``Event`` with ``type=`` makes the class a frozen, keyword-only dataclass and registers the
type; that is all there is to adding an event. Fields hold JSON-able values: ``str``, ``int``, ``float``,
``bool``, ``None``, ``date``, ``datetime``, ``Decimal``, tuples and lists of those, dicts with ``str`` keys
(dates and decimals are stored as ISO text and read back as their declared type).

The piece writes the event with the change, inside the caller's transaction, so that both happen or
neither does::

    with engine.begin() as connection:
        connection.execute(update(policies)...)
        emit(connection, PolicyPublished(policy_id=p, version=3, published_by="alice"), actor="alice")

Handlers are registered with the job runner (``qinqing.jobs``: ``register_handler``, ``register_schedule``,
``register_task``); they receive each event **at least once** and must be idempotent.

API (stable):

- ``Event`` — base class; ``event.type``, ``event.payload()``, ``Event.from_payload(dict)``, ``event.subject``;
- ``emit(connection, event, *, actor=None) -> int`` — the outbox row's id;
- ``event_class(type_name)``, ``event_types()`` — the declared types;
- ``decode(type_name, payload)`` — the event an outbox row holds;
- ``read(connection, event_id)``, ``recent(connection, *, type=None, subject=None, limit=50)`` — stored events;
- ``outbox`` — the table (``events_outbox``, created by the ``jobs`` migrations branch).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Self, dataclass_transform

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.engine import Connection

metadata = MetaData()

ID = BigInteger().with_variant(Integer(), "sqlite")  # INTEGER PRIMARY KEY autoincrements on SQLite

outbox = Table(
    "events_outbox",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("type", String(128), nullable=False),
    Column("payload", Text, nullable=False),  # JSON, keys sorted
    Column("subject", String(256), nullable=True),
    Column("actor", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("dispatched_at", DateTime(timezone=True), nullable=True),  # set when the runner made its jobs
    Index("ix_events_outbox_dispatched", "dispatched_at", "id"),
    Index("ix_events_outbox_subject", "subject", "id"),
)

_TYPES: dict[str, type[Event]] = {}


@dataclass_transform(frozen_default=True, kw_only_default=True)
class Event:
    """Base of every domain event; subclass with ``type="<piece>.<name>"`` (see the module docstring)."""

    type: ClassVar[str]

    def __init_subclass__(cls, type: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if type is None:
            raise TypeError(f"{cls.__name__}: declare the event's stored name, class X(Event, type='piece.name')")
        if "." not in type or type != type.strip():
            raise TypeError(f"{cls.__name__}: an event type is '<piece>.<snake_case>', got {type!r}")
        existing = _TYPES.get(type)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {type!r} is already declared by {existing.__module__}.{existing.__qualname__}")
        cls.type = type
        dataclass(frozen=True, kw_only=True)(cls)
        _TYPES[type] = cls

    @property
    def subject(self) -> str | None:
        """What the event is about, e.g. ``"policy:zj-001"``; jobs made from it carry it. None by default."""
        return None

    def payload(self) -> dict[str, Any]:
        """The event's fields as JSON-able values."""
        return {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Self:
        """The event back from ``payload()`` (unknown keys are ignored, so an old row reads after a field is
        removed; a field added later needs a default)."""
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: _decode(v, hints[k]) for k, v in payload.items() if k in names})


@dataclass(frozen=True)
class StoredEvent:
    """An outbox row: its id, when and by whom it was written, and the event."""

    id: int
    type: str
    payload: dict[str, Any]
    subject: str | None
    actor: str | None
    created_at: datetime | None
    dispatched_at: datetime | None

    @property
    def event(self) -> Event:
        return decode(self.type, self.payload)


def emit(connection: Connection, event: Event, *, actor: str | None = None) -> int:
    """Write ``event`` to the outbox inside the caller's open transaction; returns its id.

    Nothing is sent now: the job runner dispatches the row after the transaction commits, and a rolled
    back transaction takes the event with it."""
    if not isinstance(event, Event):
        raise TypeError(f"emit takes an Event, got {event!r}")
    if not connection.in_transaction():
        raise RuntimeError("emit needs the caller's transaction (engine.begin()), so the event commits with the change")
    result = connection.execute(insert(outbox).values(
        type=event.type, payload=dumps(event.payload()), subject=event.subject, actor=actor,
        created_at=datetime.now(UTC), dispatched_at=None))
    return int(result.inserted_primary_key[0])


def event_class(type_name: str) -> type[Event]:
    """The class declared for ``type_name``; KeyError when no imported module declares it."""
    return _TYPES[type_name]


def event_types() -> dict[str, type[Event]]:
    """Every declared event type (of the modules imported so far), by name."""
    return dict(_TYPES)


def decode(type_name: str, payload: dict[str, Any]) -> Event:
    return event_class(type_name).from_payload(payload)


def read(connection: Connection, event_id: int) -> StoredEvent | None:
    row = connection.execute(select(outbox).where(outbox.c.id == event_id)).mappings().first()
    return _stored(row) if row is not None else None


def recent(connection: Connection, *, type: str | None = None, subject: str | None = None,
           limit: int = 50) -> list[StoredEvent]:
    """The latest stored events, newest first, of one type and/or subject when given."""
    query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if type is not None:
        query = query.where(outbox.c.type == type)
    if subject is not None:
        query = query.where(outbox.c.subject == subject)
    return [_stored(r) for r in connection.execute(query).mappings().all()]


def dumps(value: Any) -> str:
    """JSON text of a payload: keys sorted, non-ASCII kept, no spaces (stable for hashing)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(id=int(row["id"]), type=row["type"], payload=json.loads(row["payload"]),
                       subject=row["subject"], actor=row["actor"], created_at=_utc(row["created_at"]),
                       dispatched_at=_utc(row["dispatched_at"]))


def _utc(moment: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back naive."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    raise TypeError(f"an event field holds JSON-able values, not {type(value).__name__}")


def _decode(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        for arg in typing.get_args(hint):
            if arg is not type(None):
                return _decode(value, arg)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if hint is Decimal:
        return Decimal(value)
    if origin is tuple:
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return tuple(_decode(v, args[0] if args else Any) for v in value)
    if origin is list:
        args = typing.get_args(hint)
        return [_decode(v, args[0] if args else Any) for v in value]
    return value
