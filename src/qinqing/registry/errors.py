"""Errors of the registry piece, under one root (a ``QinqingError``); the message is Chinese, the place
names the file (and row or column when known)."""

from __future__ import annotations

from pathlib import Path

from qinqing.errors import Place, QinqingError


class RegistryError(QinqingError):
    """Root of the registry's errors."""

    code = "registry.error"
    status = 422


class ImportFileError(RegistryError):
    """A file that cannot be read as a registry at all (unreadable, no uscc column, ambiguous headers).

    ``str(error)`` is ``path：reason``; ``reason`` alone leaves out the path (a server path, on the web)."""

    code = "registry.file_unreadable"
    status = 422

    def __init__(self, path: str | Path | None, reason: str) -> None:
        super().__init__(reason, place=Place(file=str(path)) if path is not None else None)
        self.path = None if path is None else str(path)
        self.reason = reason


class GenerateRefused(RegistryError):
    """The synthetic-registry generator cannot do what was asked (an output that is neither .csv nor
    .parquet, a province without counties)."""

    code = "registry.generate_refused"
    status = 422
