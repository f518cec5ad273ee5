"""Open CSV, XLSX and Parquet exports as a header plus numbered rows.

Row numbers are those the user sees in a spreadsheet: the header is row 1, the first data
row is row 2. Readers stream; none holds the whole file in memory.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qinqing.registry.errors import ImportFileError

Row = tuple[int, list[Any]]
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUPPORTED = sorted(CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES)


@dataclass
class RawTable:
    headers: list[Any]
    rows: Iterator[Row]
    estimated_rows: int | None  # for progress bars only
    encoding: str | None = None  # of a text file


@contextmanager
def open_table(path: str | Path) -> Iterator[RawTable]:
    """The header and the numbered data rows of ``path``, chosen by its suffix."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(path, "文件不存在")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        opener = _open_csv
    elif suffix in EXCEL_SUFFIXES:
        opener = _open_xlsx
    elif suffix in PARQUET_SUFFIXES:
        opener = _open_parquet
    else:
        raise ImportFileError(path, f"不支持的文件类型“{path.suffix}”，支持：{'、'.join(SUPPORTED)}")
    with opener(path) as table:
        yield table


# --- CSV ---------------------------------------------------------------------------------------

def detect_encoding(path: Path, chunk_size: int = 1 << 20) -> str:
    """utf-8-sig when the file is valid UTF-8 (with or without BOM), else gb18030 (a superset of GBK).

    The whole file is checked, because a GBK file can look like UTF-8 for its first megabytes
    when they are all ASCII.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(chunk_size):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


@contextmanager
def _open_csv(path: Path) -> Iterator[RawTable]:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        try:
            first_line = handle.readline()
        except UnicodeDecodeError:
            raise ImportFileError(path, f"第1行有无法按{encoding}解码的字符") from None
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            headers = next(reader)
        except StopIteration:
            raise ImportFileError(path, "文件是空的，没有表头") from None
        yield RawTable(headers, _csv_rows(path, reader, encoding), max(_count_lines(path) - 1, 0), encoding)


def _csv_rows(path: Path, reader, encoding: str) -> Iterator[Row]:
    number = 1
    try:
        for values in reader:
            number += 1
            if any(v.strip() for v in values):
                yield number, values
    except UnicodeDecodeError:
        raise ImportFileError(path, f"第{number + 1}行附近有无法按{encoding}解码的字符") from None
    except csv.Error as error:
        raise ImportFileError(path, f"第{number + 1}行CSV格式错误：{error}") from None


# --- XLSX --------------------------------------------------------------------------------------

@contextmanager
def _open_xlsx(path: Path) -> Iterator[RawTable]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(path, f"无法作为Excel文件打开：{error}") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        headers = list(next(rows, None) or [])
        if not headers:
            raise ImportFileError(path, f"工作表“{sheet.title}”是空的，没有表头")
        estimated = (sheet.max_row - 1) if sheet.max_row else None
        yield RawTable(headers, _xlsx_rows(rows), estimated)
    finally:
        workbook.close()


def _xlsx_rows(rows) -> Iterator[Row]:
    for number, values in enumerate(rows, start=2):
        if any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
            yield number, list(values)


# --- Parquet -----------------------------------------------------------------------------------

@contextmanager
def _open_parquet(path: Path) -> Iterator[RawTable]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:
        raise ImportFileError(path, f"无法作为Parquet文件打开：{error}") from None
    try:
        yield RawTable(list(parquet.schema_arrow.names), _parquet_rows(parquet), parquet.metadata.num_rows)
    finally:
        parquet.close()


def _parquet_rows(parquet) -> Iterator[Row]:
    number = 1
    for batch in parquet.iter_batches(batch_size=10_000):
        columns = [column.to_pylist() for column in batch.columns]
        for values in zip(*columns):
            number += 1
            yield number, list(values)
