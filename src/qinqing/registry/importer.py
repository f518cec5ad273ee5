"""Import an enterprise export (CSV, XLSX, Parquet) into the store, reporting every bad row.

Stages: readers.open_table → columns.map_headers → validate.RowValidator per row → duplicate check
→ store.upsert_enterprises in batches, all inside ONE transaction, so an import that fails or is
killed part-way leaves the store exactly as it was.

A uscc that appears again later in the same file is rejected at its later row (the first one is
kept), because two different rows for one enterprise in one export are a data error that a person
should resolve, not something to settle silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from qinqing.registry.columns import map_headers
from qinqing.registry.readers import open_table
from qinqing.registry.report import write_report
from qinqing.registry.store import UPSERT_BATCH, upsert_enterprises
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
) -> ImportResult:
    """Validate every row of ``path`` and store the good ones (with ``engine=None``: validate only).

    ``after_batch`` is called with the number of rows stored so far after each batch is written
    (inside the transaction). The report, when asked for, is written even if no row is bad.
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
        rows = _good_records(table.rows, RowValidator(column_map, as_of), result, progress)
        if engine is None:
            for _ in rows:
                result.stored += 1
        else:
            with engine.begin() as connection:
                while batch := _take(rows, batch_size):
                    upsert_enterprises(connection, batch, batch_size=batch_size)
                    result.stored += len(batch)
                    if after_batch is not None:
                        after_batch(result.stored)
    if report is not None:
        write_report(report, result.problems)
    return result


def _good_records(rows, validator: RowValidator, result: ImportResult, progress: Progress):
    first_row_of: dict[str, int] = {}
    pending = 0
    for number, values in rows:
        result.read += 1
        pending += 1
        if pending == 1_000:
            progress.advance(pending)
            pending = 0
        record, problems = validator.validate(number, values)
        code = record.get("uscc")
        if not problems and code in first_row_of:
            problems = [Problem(number, validator.header_of["uscc"], code,
                                f"统一社会信用代码与第{first_row_of[code]}行重复（保留第{first_row_of[code]}行，本行未导入）")]
        if problems:
            result.rejected += 1
            result.problems.extend(problems)
            continue
        first_row_of[code] = number
        yield record
    progress.advance(pending)


def _take(iterator, size: int) -> list[dict[str, Any]]:
    batch = []
    for item in iterator:
        batch.append(item)
        if len(batch) == size:
            break
    return batch
