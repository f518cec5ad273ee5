"""Errors of matching (runs, engines, lists), under one root (a ``QinqingError``). The results store's
errors have their own root, ``matching.results.StoreError``; a registry file the engines cannot read is
the registry's ``ImportFileError``."""

from __future__ import annotations

from qinqing.errors import QinqingError


class MatchingError(QinqingError):
    """Root of matching's errors."""

    code = "matching.error"
    status = 422


class UnknownEngine(MatchingError):
    """An engine name that is not one of ``matching.run.ENGINES``."""

    code = "matching.unknown_engine"
    status = 422


class NothingToMatch(MatchingError):
    """A match asked for with no policy."""

    code = "matching.no_policies"
    status = 422
    default_message = "没有要匹配的政策。"


class UnsupportedExport(MatchingError):
    """A list exported to a file that is neither .xlsx nor .csv."""

    code = "matching.unsupported_export"
    status = 422
