"""Import an enterprise export (CSV, XLSX, Parquet) into the store, reporting every bad row.

Stages: readers.open_table → columns.map_headers → chunks of rows, each converted column by column
(fastpath.convert_column; a row with any doubtful cell goes through validate.RowValidator, which
decides and explains) → duplicate check → store.write_rows in batches, all inside ONE transaction,
so an import that fails or is killed part-way leaves the store exactly as it was.

A uscc that appears again later in the same file is rejected at its later row (the first one is
kept), because two different rows for one enterprise in one export are a data error that a person
should resolve, not something to settle silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from qinqing import audit
from qinqing.registry.columns import ColumnMap, map_headers
from qinqing.registry.fastpath import convert_column, suspect_rows
from qinqing.registry.readers import BadRow, open_table
from qinqing.registry.report import write_report
from qinqing.registry.store import UPSERT_BATCH, write_rows
from qinqing.registry.validate import Problem, RowValidator
from qinqing.settings import get_settings

log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    path: str
    read: int = 0  # data rows (blank rows are skipped and not counted)
    stored: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: tuple[str, ...] = ()
    encoding: str | None = None


@dataclass
class Progress:
    """Callbacks for a progress display; ``advance`` gets the number of rows just read."""

    start: Callable[[int | None], None] = lambda total: None
    advance: Callable[[int], None] = lambda rows: None


def import_file(
    path: str | Path,
    engine: Engine | None,
    *,
    report: str | Path | None = None,
    as_of: date | None = None,
    batch_size: int = UPSERT_BATCH,
    progress: Progress | None = None,
    after_batch: Callable[[int], None] | None = None,
    actor: str = "system:registry-import",
) -> ImportResult:
    """Validate every row of ``path`` and store the good ones (with ``engine=None``: validate only).

    ``after_batch`` is called with the number of rows stored so far after each batch is written
    (inside the transaction). The report, when asked for, is written even if no row is bad. A stored
    import is one ``registry.import`` row of the audit trail (``actor``; the file and the counts), in
    the import's transaction.
    """
    as_of = as_of or get_settings().today()
    progress = progress or Progress()
    result = ImportResult(str(path))
    with open_table(path) as table:
        column_map = map_headers(path, table.headers)
        result.unknown_columns = column_map.unknown
        result.encoding = table.encoding
        if column_map.unknown:
            log.warning("%s: ignoring columns that name no field: %s", path, "、".join(column_map.unknown))
        progress.start(table.estimated_rows)
        names = tuple(column.field.name for column in column_map.columns)
        rows = _good_rows(table.rows, column_map, RowValidator(column_map, as_of), as_of, result, progress,
                          batch_size)
        if engine is None:
            for batch in rows:
                result.stored += len(batch)
        else:
            with engine.begin() as connection:
                for batch in rows:
                    write_rows(connection, names, batch)
                    result.stored += len(batch)
                    if after_batch is not None:
                        after_batch(result.stored)
                audit.record(connection, actor=actor, action="registry.import", object_type="registry",
                             object_id="enterprises", after={"file": Path(path).name, "read": result.read,
                                                             "stored": result.stored, "rejected": result.rejected})
    if report is not None:
        write_report(report, result.problems)
    return result


def _good_rows(rows, column_map: ColumnMap, validator: RowValidator, as_of: date, result: ImportResult,
               progress: Progress, batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of good rows as tuples in column order; bad rows go to ``result``."""
    first_row_of: dict[str, int] = {}
    uscc_at = [column.field.name for column in column_map.columns].index("uscc")
    while chunk := list(islice(rows, batch_size)):
        result.read += len(chunk)
        good: list[tuple[Any, ...]] = []
        readable = [row for row in chunk if not isinstance(row[1], BadRow)]
        checked = _checked(readable, column_map, validator, as_of) if readable else iter(())
        for number, values in chunk:
            if isinstance(values, BadRow):  # a row the reader could not split into cells
                result.rejected += 1
                result.problems.append(Problem(number, values.column, "", values.reason))
                continue
            _, record, problems = next(checked)
            code = record[uscc_at] if record is not None else None
            if not problems and code in first_row_of:
                problems = [Problem(number, validator.header_of["uscc"], code,
                                    f"统一社会信用代码与第{first_row_of[code]}行重复（保留第{first_row_of[code]}行，本行未导入）")]
            if problems:
                result.rejected += 1
                result.problems.extend(problems)
                continue
            first_row_of[code] = number
            good.append(record)
        progress.advance(len(chunk))
        if good:
            yield good


def _checked(chunk: list[tuple[int, list[Any]]], column_map: ColumnMap, validator: RowValidator, as_of: date):
    """(row number, values as a tuple in column order or None, problems) for each row of ``chunk``."""
    width = max(c.index for c in column_map.columns) + 1
    if all(len(values) >= width for _, values in chunk):
        table = list(zip(*(values for _, values in chunk)))
        cells = [table[c.index] for c in column_map.columns]
    else:  # short rows (a CSV line with fewer cells): the missing cells are empty
        cells = [[values[c.index] if c.index < len(values) else None for _, values in chunk]
                 for c in column_map.columns]
    converted = [convert_column(column, column_cells, as_of) for column, column_cells in zip(column_map.columns, cells)]
    suspect = suspect_rows(list(column_map.columns), converted, len(chunk))
    names = [column.field.name for column in column_map.columns]
    for i, values in enumerate(zip(*converted)):
        number = chunk[i][0]
        if not suspect[i]:
            yield number, values, []
            continue
        record, problems = validator.validate(number, chunk[i][1])
        yield number, (tuple(record.get(name) for name in names) if not problems else None), problems
