"""Reading the trail: the rows of one object, the head."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from qinqing.audit.chain import GENESIS_HASH, AuditEntry, entry_from_row
from qinqing.audit.tables import audit_head, audit_log

HEAD_QUERY = select(audit_head.c.seq, audit_head.c.row_hash).where(audit_head.c.id == 1)


def trail(bind: Engine | Connection, object_type: str, object_id: str | int, *,
          limit: int | None = None) -> list[AuditEntry]:
    """The rows recorded for one object, oldest first (the newest ``limit`` when given)."""
    query = (select(audit_log)
             .where(audit_log.c.object_type == object_type, audit_log.c.object_id == str(object_id))
             .order_by(audit_log.c.seq.desc()))
    if limit is not None:
        query = query.limit(limit)
    with _connection(bind) as connection:
        rows = connection.execute(query).all()
    return [entry_from_row(row) for row in reversed(rows)]


def head(bind: Engine | Connection) -> tuple[int, str]:
    """(seq, hash) of the last row as the head table holds it; (0, GENESIS_HASH) for an empty trail."""
    with _connection(bind) as connection:
        row = connection.execute(HEAD_QUERY).first()
    return (int(row[0]), row[1]) if row else (0, GENESIS_HASH)


class _Borrowed:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def __enter__(self) -> Connection:
        return self.connection

    def __exit__(self, *exc) -> None:
        return None


def _connection(bind: Engine | Connection):
    return _Borrowed(bind) if isinstance(bind, Connection) else bind.connect()
