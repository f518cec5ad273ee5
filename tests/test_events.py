"""The events outbox: typed events, written in the caller's transaction, read back as their type."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from qinqing import events
from qinqing.catalogue.events import PolicyPublished, PolicyWithdrawn
from qinqing.events import Event, decode, emit, event_class, recent


class Sample(Event, type="tests.sample"):
    name: str
    day: date | None = None
    amount: Decimal = Decimal("0")
    when: datetime | None = None
    codes: tuple[str, ...] = ()
    extra: dict | None = None


def test_payload_round_trips_through_json() -> None:
    event = Sample(name="甲", day=date(2025, 6, 30), amount=Decimal("12.50"), codes=("a", "b"), extra={"k": [1]})
    payload = event.payload()
    assert payload == {"name": "甲", "day": "2025-06-30", "amount": "12.50", "when": None, "codes": ["a", "b"],
                       "extra": {"k": [1]}}
    assert decode("tests.sample", payload) == event
    assert event.type == "tests.sample" and event_class("tests.sample") is Sample


def test_events_are_frozen_and_keyword_only() -> None:
    event = PolicyPublished(policy_id="p", version=2, published_by="alice")
    with pytest.raises(AttributeError):
        event.version = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        PolicyPublished("p", 2, "alice")  # type: ignore[misc]
    assert event.subject == "policy:p"


def test_a_type_is_declared_once_and_named_piece_dot_name() -> None:
    with pytest.raises(TypeError, match="already declared"):
        class Other(Event, type="catalogue.policy_published"):
            x: int
    with pytest.raises(TypeError, match="piece"):
        class Bad(Event, type="nodot"):
            x: int
    with pytest.raises(TypeError, match="stored name"):
        class Untyped(Event):
            x: int


def test_emit_commits_with_the_change_and_rolls_back_with_it(engine) -> None:
    with engine.begin() as connection:
        first = emit(connection, PolicyPublished(policy_id="p", version=1, published_by="alice"), actor="alice")
    with pytest.raises(RuntimeError, match="boom"), engine.begin() as connection:
        emit(connection, PolicyWithdrawn(policy_id="p", version=1, withdrawn_by="bob"))
        raise RuntimeError("boom")
    with engine.connect() as connection:
        stored = recent(connection)
        assert [e.id for e in stored] == [first]
        assert stored[0].event == PolicyPublished(policy_id="p", version=1, published_by="alice")
        assert stored[0].actor == "alice" and stored[0].subject == "policy:p" and stored[0].dispatched_at is None
        assert stored[0].created_at.tzinfo is not None
        assert events.read(connection, first) == stored[0]
        assert recent(connection, subject="policy:other") == []


def test_emit_needs_a_transaction(engine) -> None:
    with engine.connect() as connection, pytest.raises(RuntimeError, match="transaction"):
        connection.commit()  # autobegin off: no transaction is open now
        emit(connection, Sample(name="x"))


def test_the_migrated_tables_match_the_declared_ones(engine) -> None:
    from qinqing.jobs import tables  # noqa: F401  (declares jobs and jobs_schedules on the same metadata)

    inspector = sa.inspect(engine)
    for table in events.metadata.sorted_tables:
        reflected = {c["name"] for c in inspector.get_columns(table.name)}
        assert reflected == {c.name for c in table.columns}, table.name
