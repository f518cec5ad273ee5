"""Transactions that retry, and idempotent commands (draft-ietf-httpapi-idempotency-key-header).

``command(engine, scope=…, key=…, payload=…, fn=…)`` runs ``fn(connection)`` in one transaction and
stores its answer under (scope, key) in that same transaction: a replay of the key with the same payload
returns the stored status and body — a domain error's too — without running anything; the same key
with another payload is 422 (IdempotencyKeyReused); a retry while the first is still running is 409
(IdempotencyInFlight, detected on PostgreSQL with a transaction-scoped advisory lock on the key). The
scope is the caller and the route, so two callers never share a key. Keys are kept at least
``KEY_TTL`` (24 h, as the draft and Stripe advise); ``prune`` removes older ones.

A command killed mid-way (``kill -9``, a dropped connection) leaves nothing: its effects and its key
commit together or not at all. Serialization failures and deadlocks (SQLSTATE 40001, 40P01) are retried
with back-off (PostgreSQL docs §13.6 "Serialization Failure Handling").
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from qinqing.errors import QinqingError
from qinqing.workflow.errors import (
    IdempotencyInFlight,
    IdempotencyKeyMissing,
    IdempotencyKeyReused,
    InvalidInput,
)
from qinqing.workflow.tables import idempotency

KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
RETRYABLE = frozenset({"40001", "40P01"})
MAX_ATTEMPTS = 12

T = TypeVar("T")


def retrying(engine: Engine, fn: Callable[[Connection], T], attempts: int = MAX_ATTEMPTS) -> T:
    """``fn(connection)`` in a transaction, run again on a serialization failure or a deadlock."""
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                return fn(conn)
        except DBAPIError as error:
            if sqlstate(error) not in RETRYABLE or attempt == attempts - 1:
                raise
            time.sleep(min(0.5, 0.005 * 2 ** attempt) * random.random())
    raise AssertionError("unreachable")


def sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


@dataclass(frozen=True)
class CommandResult:
    status: int
    body: dict[str, Any]
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.status < 400


def fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def command(engine: Engine, *, scope: str, key: str | None, payload: Any,
            fn: Callable[[Connection], dict[str, Any]], success: int = 200) -> CommandResult:
    """Run the money-moving command ``fn`` at most once per (scope, key) — see the module docstring."""
    if not key:
        raise IdempotencyKeyMissing()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"Idempotency-Key 须为不超过 {MAX_KEY_LENGTH} 个可打印字符。")
    print_ = fingerprint(payload)

    def attempt(conn: Connection) -> CommandResult:
        if conn.dialect.name == "postgresql":
            got = conn.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:scope), hashtext(:key))"),
                               {"scope": scope, "key": key}).scalar()
            if not got:
                raise IdempotencyInFlight(key=key)
        stored = conn.execute(select(idempotency).where(idempotency.c.scope == scope, idempotency.c.key == key)
                              ).mappings().first()
        if stored is not None:
            if stored["fingerprint"] != print_:
                raise IdempotencyKeyReused(key=key)
            return CommandResult(stored["status"], json.loads(stored["body"]), replayed=True)
        savepoint = conn.begin_nested()
        try:
            body = fn(conn)
            savepoint.commit()
            status = success
        except QinqingError as error:
            savepoint.rollback()
            status, body = error.status, {"error": error.to_dict()}
        now = datetime.now(UTC)
        conn.execute(insert(idempotency).values(scope=scope, key=key, fingerprint=print_, status=status,
                                                body=json.dumps(body, ensure_ascii=False, default=str),
                                                created_at=now, expires_at=now + KEY_TTL))
        return CommandResult(status, body)

    return retrying(engine, attempt)


def prune(engine: Engine, now: datetime | None = None) -> int:
    """Delete the keys past their time to live; returns how many."""
    with engine.begin() as conn:
        result = conn.execute(delete(idempotency).where(idempotency.c.expires_at < (now or datetime.now(UTC))))
        return int(result.rowcount or 0)
