"""The hash chain: canonical serialisation of a row, state hashes, and appending under the head lock.

Canonical serialisation (version 1)
-----------------------------------
A row's hash is the lowercase hex SHA-256 of the UTF-8 bytes of the JSON array

    ["qinqing-audit/1", seq, recorded_at, actor, action, object_type, object_id,
     before_hash, after_hash, reason, prev_hash]

written with no whitespace (``separators=(",", ":")``) and without ASCII escaping
(``ensure_ascii=False``), where ``seq`` is a JSON integer, ``recorded_at`` is the UTC time as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional digits), absent hashes and reasons are
``null``, and every other field is a JSON string. ``prev_hash`` is the previous row's hash, or 64
zeros (``GENESIS_HASH``) for row 1. So a row's hash covers its content, its position and, through
``prev_hash``, every row before it.

A state hash (``before_hash``, ``after_hash``) is the SHA-256 of the canonical JSON of the state:
keys sorted, no whitespace, no ASCII escaping; dates and datetimes as ISO 8601 (datetimes in UTC,
as above), ``Decimal`` as its string, tuples and sets as arrays (sets sorted), bytes as hex.
A state of ``None`` has no hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from qinqing.audit.errors import AuditTrailMissing, AuditUsageError
from qinqing.audit.tables import audit_head, audit_log

FORMAT = "qinqing-audit/1"
GENESIS_HASH = "0" * 64
_HEAD_UPDATE = update(audit_head).where(audit_head.c.id == 1)


@dataclass(frozen=True)
class AuditEntry:
    """One row of the trail."""

    seq: int
    recorded_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before_hash: str | None
    after_hash: str | None
    reason: str | None
    prev_hash: str
    row_hash: str


def utc_text(moment: datetime) -> str:
    """``moment`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (a naive datetime is taken to be UTC,
    as SQLite returns them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_row(
    *, seq: int, recorded_at: datetime, actor: str, action: str, object_type: str, object_id: str,
    before_hash: str | None, after_hash: str | None, reason: str | None, prev_hash: str,
) -> bytes:
    """The bytes a row's hash is taken over (see the module docstring)."""
    fields = [FORMAT, seq, utc_text(recorded_at), actor, action, object_type, object_id,
              before_hash, after_hash, reason, prev_hash]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def row_hash(**fields: Any) -> str:
    """The hash of a row with these fields (``canonical_row``'s keywords)."""
    return hashlib.sha256(canonical_row(**fields)).hexdigest()


def entry_hash(entry: AuditEntry) -> str:
    """The hash ``entry`` should carry, recomputed from its content."""
    return row_hash(
        seq=entry.seq, recorded_at=entry.recorded_at, actor=entry.actor, action=entry.action,
        object_type=entry.object_type, object_id=entry.object_id, before_hash=entry.before_hash,
        after_hash=entry.after_hash, reason=entry.reason, prev_hash=entry.prev_hash,
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=lambda item: json.dumps(item, sort_keys=True, default=_json_default))
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "_asdict"):
        return value._asdict()
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    raise TypeError(f"audit state values must be JSON-like, not {type(value).__name__}")


def canonical_state(state: Any) -> bytes:
    """The canonical JSON bytes of a state (see the module docstring)."""
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                      default=_json_default).encode("utf-8")


def state_hash(state: Any) -> str | None:
    """SHA-256 of the canonical JSON of ``state``; None for None."""
    if state is None:
        return None
    return hashlib.sha256(canonical_state(state)).hexdigest()


def append(
    connection: Connection, *, actor: str, action: str, object_type: str, object_id: str | int,
    before: Any = None, after: Any = None, reason: str | None = None,
) -> AuditEntry:
    """Append one row inside ``connection``'s open transaction (see ``qinqing.audit.record``)."""
    if not connection.in_transaction():
        raise AuditUsageError("record() must be called inside the caller's transaction (engine.begin())")
    for name, value in (("actor", actor), ("action", action), ("object_type", object_type)):
        if not isinstance(value, str) or not value.strip():
            raise AuditUsageError(f"record() needs a non-empty {name}")
    object_id = str(object_id)
    if not object_id or len(object_id) > 256 or len(action) > 64 or len(object_type) > 64:
        raise AuditUsageError(f"record(): empty or overlong action {action!r}, object_type {object_type!r} "
                              f"or object_id {object_id[:80]!r} (at most 64, 64 and 256 characters)")
    try:
        # The lock: a write to the one head row. PostgreSQL holds a row lock on it until the caller's
        # transaction ends (a second appender waits here, then reads the new head); SQLite takes the
        # database's write lock, waiting out the busy timeout, so the head read next is current.
        locked = connection.execute(_HEAD_UPDATE.values(seq=audit_head.c.seq))
    except DBAPIError as error:
        if _missing_table(error):
            raise AuditTrailMissing("审计表不存在：数据库尚未迁移。") from error
        raise
    if locked.rowcount != 1:
        raise AuditTrailMissing("审计链的链头缺失：数据库未迁移，或链头被删除。")
    head_seq, head_hash = connection.execute(select(audit_head.c.seq, audit_head.c.row_hash)
                                             .where(audit_head.c.id == 1)).one()
    fields = {
        "seq": int(head_seq) + 1,
        "recorded_at": datetime.now(UTC),
        "actor": actor[:128],
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "before_hash": state_hash(before),
        "after_hash": state_hash(after),
        "reason": reason or None,
        "prev_hash": head_hash,
    }
    digest = row_hash(**fields)
    connection.execute(insert(audit_log).values(**fields, row_hash=digest))
    connection.execute(_HEAD_UPDATE.values(seq=fields["seq"], row_hash=digest))
    return AuditEntry(**fields, row_hash=digest)


def _missing_table(error: DBAPIError) -> bool:
    text = str(error.orig).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def entry_from_row(row: Any) -> AuditEntry:
    values = dict(row._mapping if hasattr(row, "_mapping") else row)
    return AuditEntry(**{name: values[name] for name in AuditEntry.__dataclass_fields__})
