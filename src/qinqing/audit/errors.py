"""Errors of the audit trail."""

from __future__ import annotations

from typing import Any


class AuditError(Exception):
    """Root of audit errors. ``message`` is shown to users, so it is Chinese."""

    status = 500
    code = "audit_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class AuditUsageError(AuditError):
    """``record`` was called wrongly (outside a transaction, an empty actor or action, …): a bug in the caller."""

    status = 500
    code = "audit_usage"


class AuditTrailMissing(AuditError):
    """The audit tables are not there (the database was not migrated)."""

    status = 503
    code = "audit_trail_missing"
