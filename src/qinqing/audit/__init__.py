"""The audit trail: an append-only, hash-chained record of every state-changing action.

Recording (the stable API every piece uses)
-------------------------------------------
Call ``record`` inside the transaction that makes the change, on the same SQLAlchemy connection,
so the row is written if and only if the change is committed::

    from qinqing import audit

    with engine.begin() as connection:
        connection.execute(update(applications).where(...).values(state="approved"))
        audit.record(
            connection,
            actor="officer:wang",             # who: a username, or "system:<job>" for jobs and loaders
            action="application.approve",     # what: "<noun>.<verb>", dotted, at most 64 characters
            object_type="application",        # the object's kind, at most 64 characters
            object_id=application_id,         # its id (str or int), at most 256 characters
            before={"state": "submitted"},    # optional: the state before, any JSON-like value
            after={"state": "approved"},      # optional: the state after
            reason="材料齐全",                 # optional: the reason given, free text
        )

``before`` and ``after`` are not stored, only their SHA-256 over a canonical JSON (``state_hash``),
so pass what identifies the state (a version, the fields that changed, a content hash), never
secrets. ``record`` returns the ``AuditEntry`` it appended and raises ``AuditUsageError`` when
called outside a transaction or with an empty actor, action, object type or id.

Appends are serialised by a lock on the one-row ``audit_head`` table, held until the caller's
transaction ends: record last in the transaction, just before it commits, so the lock is short.
A piece with actions of its own gives them Chinese labels with ``register_labels``.

Reading and verifying
---------------------
``trail(bind, object_type, object_id)`` lists an object's rows; ``verify(bind)`` walks the chain and
reports edited, deleted, inserted or reordered rows; ``head(bind)`` is the (seq, hash) to export.
``qinqing audit verify`` and ``qinqing audit show OBJECT_TYPE OBJECT_ID`` are the commands. The
canonical serialisation is documented in ``qinqing.audit.chain``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from qinqing.audit.chain import GENESIS_HASH, AuditEntry, append, state_hash
from qinqing.audit.errors import AuditError, AuditTrailMissing, AuditUsageError
from qinqing.audit.labels import action_label, object_type_label, register_labels
from qinqing.audit.trail import head, trail
from qinqing.audit.verify import Problem, Verification, verify


def record(
    connection: Connection,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append one row to the trail inside ``connection``'s open transaction (see the module docstring)."""
    return append(connection, actor=actor, action=action, object_type=object_type, object_id=object_id,
                  before=before, after=after, reason=reason)


__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditError",
    "AuditTrailMissing",
    "AuditUsageError",
    "Problem",
    "Verification",
    "action_label",
    "head",
    "object_type_label",
    "record",
    "register_labels",
    "state_hash",
    "trail",
    "verify",
]
