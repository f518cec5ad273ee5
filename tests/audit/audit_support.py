"""Helpers for the audit tests: appending rows, and tampering with the trail as a database owner would."""

from __future__ import annotations

from sqlalchemy import text

from qinqing import audit


def append_rows(engine, count: int, *, object_id: str = "p1") -> list[audit.AuditEntry]:
    entries = []
    for number in range(count):
        with engine.begin() as connection:
            entries.append(audit.record(
                connection, actor="officer:wang", action="policy.save", object_type="policy",
                object_id=object_id, after={"version": number + 1}, reason=f"第 {number + 1} 次"))
    return entries


def tamper(engine, *statements: str, **params) -> None:
    """Run ``statements`` with the append-only triggers out of the way, as the tables' owner could."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            connection.execute(text("ALTER TABLE audit_head DISABLE TRIGGER USER"))
            for statement in statements:
                connection.execute(text(statement), params)
            connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
            connection.execute(text("ALTER TABLE audit_head ENABLE TRIGGER USER"))
            return
        saved = dict(connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name IN ('audit_log', 'audit_head')")).all())
        for name in saved:
            connection.execute(text(f"DROP TRIGGER {name}"))
        for statement in statements:
            connection.execute(text(statement), params)
        for sql in saved.values():
            connection.execute(text(sql))
