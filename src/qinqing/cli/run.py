"""`qinqing run …`, `qinqing preview`, `qinqing lists …`: province-scale matching into the results store."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the top-level app."""
