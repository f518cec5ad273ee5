"""Errors of the audit trail, under ``AuditError`` (a ``QinqingError``)."""

from __future__ import annotations

from qinqing.errors import QinqingError


class AuditError(QinqingError):
    """Root of audit errors."""

    code = "audit.error"
    status = 500
    default_message = "审计记录操作失败。"


class AuditUsageError(Exception):
    """``record`` was called wrongly (outside a transaction, an empty or overlong field). A bug in the
    caller, so not a ``QinqingError`` (the web answers 500 with an error id); raised before anything is
    written, so the caller's change rolls back with it."""


class AuditTrailMissing(AuditError):
    """The audit tables are not there (the database was not migrated)."""

    code = "audit.trail_missing"
    status = 503
    default_message = "审计记录暂时无法写入，请稍后再试。"
