"""The problem report of an import: one line per bad cell, a CSV that Excel opens as Chinese."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from qinqing.registry.spreadsheet import safe_row
from qinqing.registry.validate import Problem

REPORT_COLUMNS = ("row", "column", "value", "reason")


def write_report(path: str | Path, problems: Iterable[Problem]) -> int:
    """Write ``problems`` to ``path`` (UTF-8 with BOM, so Excel detects the encoding); returns the count.

    Values and headers come from the imported file, so formula-like text is written with a leading
    apostrophe (registry.spreadsheet.safe_cell); read_report gives the cells as written."""
    count = 0
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for problem in problems:
            writer.writerow(safe_row((problem.row, problem.column, problem.value, problem.reason)))
            count += 1
    return count


def read_report(path: str | Path) -> list[Problem]:
    """The problems of a report written by :func:`write_report`."""
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        return [Problem(int(r["row"]), r["column"], r["value"], r["reason"]) for r in csv.DictReader(handle)]
