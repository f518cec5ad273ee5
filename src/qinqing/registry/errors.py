"""Errors of the registry piece, under one root."""

from __future__ import annotations


class RegistryError(Exception):
    """Root of the registry's errors; the message is Chinese and names the place."""


class ImportFileError(RegistryError):
    """A file that cannot be imported at all (unreadable, no uscc column, ambiguous headers)."""

    def __init__(self, path, reason: str):
        super().__init__(f"{path}：{reason}")
        self.path = str(path)
        self.reason = reason
