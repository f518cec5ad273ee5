"""Reading the cited data files shipped beside the standards modules."""

from __future__ import annotations

import csv
import io
from importlib import resources


def read_csv(filename: str) -> list[dict[str, str]]:
    """Rows of ``data/<filename>``; lines starting with ``#`` hold the source citation and are skipped."""
    lines = [line for line in read_text(filename).splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def read_text(filename: str) -> str:
    """The text of ``data/<filename>``."""
    return (
        resources.files("qinqing.registry.standards").joinpath("data", filename).read_text(encoding="utf-8")
    )
