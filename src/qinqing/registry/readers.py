"""Open CSV, XLSX and Parquet exports as a header plus numbered rows.

Row numbers are those the user sees in a spreadsheet: the header is row 1, the first data
row is row 2. Readers stream; none holds the whole file in memory. A row that cannot be read as
cells is handed on as a :class:`BadRow` (rejected, the rest of the file read on); a file that cannot
be read at all, or breaks off part-way, is an ImportFileError.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qinqing.registry.errors import ImportFileError



@dataclass(frozen=True)
class BadRow:
    """A row that could not be read as cells (bytes not in the file's encoding, too long, broken CSV);
    the importer rejects it with ``reason``, which names the row, and reads on."""

    reason: str
    column: str = ""  # the column at fault, when known


Row = tuple[int, "list[Any] | BadRow"]
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

RECORD_LIMIT = 128 * 1024  # bytes of one CSV row; a longer row is rejected (and never held whole)
_CHUNK = 1 << 20


def detect_encoding(path: Path, chunk_size: int = _CHUNK) -> str:
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


def file_encoding(path: Path) -> str:
    """The encoding of the file as a whole, which every line is then decoded in strictly.

    utf-8-sig when the file is valid UTF-8; otherwise a vote of the lines with non-ASCII bytes:
    utf-8-sig when more of them are UTF-8 than not (a UTF-8 export with a few GBK lines pasted in),
    else gb18030. The lines that do not fit are rejected one by one (see :class:`_Lines`).
    """
    if detect_encoding(path) == "utf-8-sig":
        return "utf-8-sig"
    utf8 = other = 0
    with path.open("rb") as handle:
        for line in _physical_lines(handle):
            if line.isascii():
                continue
            if _is_utf8(line):
                utf8 += 1
            else:
                other += 1
    return "utf-8-sig" if utf8 > other else "gb18030"


def _physical_lines(handle) -> Iterator[bytes]:
    """The file's lines (ending at LF), a very long one in pieces of at most _CHUNK bytes."""
    while line := handle.readline(_CHUNK):
        yield line


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _looks_utf8(line: bytes) -> bool:
    """A line of a GBK file that is really UTF-8 Chinese: valid UTF-8 with a 3-byte sequence (every CJK
    character in UTF-8 has one; GBK text is almost never valid UTF-8 of that form)."""
    if line.isascii():
        return False
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(ord(c) >= 0x800 for c in text)


_BARE_CR = re.compile(rb"(?<=\r)(?!\n)")


class _Lines:
    """The lines of a CSV file, decoded one by one, for ``csv.reader``; it notes what is wrong with the
    record being read (``problem``), so that the record is rejected and the rest of the file read on.

    - A line that does not decode in the file's encoding (or, in a GB18030 file, is UTF-8) marks its
      record; the line is handed on decoded with replacement characters, so the CSV structure holds.
    - A record past RECORD_LIMIT bytes marks its record; from there its lines are not kept: each one
      is handed on as only a quote when it holds an odd number of quotes (so quoting stays in step)
      and read in pieces, so a 300 MB cell never sits in memory.
    - Lines end at LF, CRLF or a lone CR, as with ``newline=""``.
    """

    def __init__(self, handle, encoding: str, limit: int = RECORD_LIMIT):
        self.handle = handle
        self.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        self.display = "UTF-8" if self.encoding == "utf-8" else "GBK/GB18030"
        self.limit = limit
        self.physical = 0  # physical lines handed on so far
        self._pending: list[bytes] = []
        self._first = True
        self.start_record()

    def start_record(self) -> None:
        self.problem: str | None = None
        self.first_line = self.physical + 1
        self._bytes = 0
        self._over = False
        self._kept: list[str] = []  # the record's text so far (at most ``limit`` bytes)
        self.overflow: str | None = None  # that text, when the record passed the limit

    def __iter__(self):
        return self

    def _next_piece(self, size: int) -> bytes:
        """The next line, or piece of one: at most ``size`` bytes (one more for a CRLF cut in two)."""
        if self._pending:
            return self._pending.pop(0)
        line = self.handle.readline(size)
        if line.endswith(b"\r"):
            position = self.handle.tell()
            if self.handle.read(1) == b"\n":
                line += b"\n"
            else:
                self.handle.seek(position)
        if b"\r" in line:  # a lone CR ends a line too
            pieces = [piece for piece in _BARE_CR.split(line) if piece]
            line, self._pending = pieces[0], pieces[1:]
        return line

    def __next__(self) -> str:
        budget = self.limit - self._bytes
        line = self._next_piece(max(budget, 0) + 1)
        if not line:
            raise StopIteration
        self.physical += 1
        if self._over or len(line) > budget:
            return self._skip(line)
        self._bytes += len(line)
        if self._first:
            self._first = False
            if self.encoding == "utf-8" and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8):]
        if self.encoding != "utf-8" and _looks_utf8(line):
            self._mark(f"是UTF-8编码，而文件其余各行是{self.display}编码")
            text = line.decode("utf-8")
        else:
            try:
                text = line.decode(self.encoding)
            except UnicodeDecodeError:
                self._mark(f"有无法按{self.display}解码的字节（与文件其余各行的编码不同）")
                text = line.decode(self.encoding, errors="replace")
        self._kept.append(text)
        return text

    def _skip(self, line: bytes) -> str:
        """The rest of an over-long record's line, read in pieces and dropped but for its quote parity."""
        if not self._over:
            self._over = True
            self.overflow = "".join(self._kept) + line.decode(self.encoding, errors="ignore")
            self._mark(f"超过{self.limit // 1024} KiB（单元格内容过长，或引号未闭合）")
        quotes = line.count(b'"')
        while not line.endswith((b"\n", b"\r")):
            line = self._next_piece(_CHUNK)
            if not line:
                break
            quotes += line.count(b'"')
        return '"' * (quotes % 2)  # "" adds nothing to a quoted field, and ends a record that is not

    def _mark(self, reason: str) -> None:
        if self.problem is None:
            self.problem = reason

    def where(self, row: int) -> str:
        """The row as the user sees it, and its physical lines in the file when they differ."""
        last = max(self.physical, self.first_line)
        if self.first_line == row == last:
            return f"第{row}行"
        lines = f"第{self.first_line}行" if self.first_line == last else f"第{self.first_line}-{last}行"
        return f"第{row}行（文件{lines}）"


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            lines += chunk.count(b"\n")
    return lines


@contextmanager
def _open_csv(path: Path) -> Iterator[RawTable]:
    encoding = file_encoding(path)
    limit = min(RECORD_LIMIT, csv.field_size_limit())  # no field can then pass csv's own limit
    with path.open("rb") as handle:
        first_line = handle.readline(limit)
        delimiter = "\t" if first_line.count(b"\t") > first_line.count(b",") else ","
        handle.seek(0)
        lines = _Lines(handle, encoding, limit)
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            headers = next(reader)
        except StopIteration:
            raise ImportFileError(path, "文件是空的，没有表头") from None
        except csv.Error as error:
            raise ImportFileError(path, f"第1行（表头）CSV格式错误：{error}") from None
        if lines.problem:
            raise ImportFileError(path, f"{lines.where(1)}（表头）{lines.problem}")
        rows = _csv_rows(reader, lines, headers, delimiter)
        yield RawTable(headers, rows, max(_count_lines(path) - 1, 0), encoding)


def _overflowing_column(prefix: str, headers: list[str], delimiter: str) -> str:
    """The header of the column a too-long record broke off in (its last cell before the limit)."""
    try:
        cells = next(csv.reader([prefix], delimiter=delimiter), [])
    except csv.Error:
        return ""
    index = len(cells) - 1
    return str(headers[index]).strip() if 0 <= index < len(headers) else ""


def _csv_rows(reader, lines: _Lines, headers: list[str], delimiter: str) -> Iterator[Row]:
    number = 1
    while True:
        lines.start_record()
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # the reader starts afresh at the next line
            number += 1
            yield number, BadRow(f"{lines.where(number)}CSV格式错误：{error}，本行未导入")
            continue
        number += 1
        if lines.problem:
            column = "" if lines.overflow is None else _overflowing_column(lines.overflow, headers, delimiter)
            at = f"列“{column}”" if column else ""
            yield number, BadRow(f"{lines.where(number)}{at}{lines.problem}，本行未导入", column)
        elif any(v.strip() for v in values):
            yield number, values


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
        declared = sheet.max_row
        # The <dimension> a sheet declares is often stale (written before rows were added, or just
        # "A1"), and read-only iteration stops there: forget it, and read every row the sheet holds.
        sheet.reset_dimensions()
        rows = _xlsx_rows(path, sheet.iter_rows(values_only=True))
        header_row = next(rows, None)
        headers = list(header_row[1]) if header_row and header_row[0] == 1 else []
        if not headers or all(h is None for h in headers):
            raise ImportFileError(path, f"工作表“{sheet.title}”是空的，没有表头")
        yield RawTable(headers, rows, (declared - 1) if declared and declared > 1 else None)
    finally:
        workbook.close()


def _xlsx_rows(path: Path, rows) -> Iterator[Row]:
    """(row number, values) of every row that is not blank, from row 1 (the header); a sheet that breaks
    off (a damaged file) is an ImportFileError naming the row, never a traceback."""
    number = 0
    try:
        for number, values in enumerate(rows, start=1):
            if number == 1 or any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
                yield number, list(values)
    except ImportFileError:
        raise
    except Exception as error:  # zipfile, zlib and XML parsers each raise their own kinds
        detail = f"{type(error).__name__}: {error}"
        raise ImportFileError(path, f"第{number + 1}行附近无法读取，文件已损坏：{detail}") from None


# --- Parquet -----------------------------------------------------------------------------------

@contextmanager
def _open_parquet(path: Path) -> Iterator[RawTable]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:
        raise ImportFileError(path, f"无法作为Parquet文件打开：{error}") from None
    try:
        names = list(parquet.schema_arrow.names)
        yield RawTable(names, _parquet_rows(path, parquet), parquet.metadata.num_rows)
    finally:
        parquet.close()


def _parquet_rows(path: Path, parquet) -> Iterator[Row]:
    number = 1
    batches = parquet.iter_batches(batch_size=10_000)
    while True:
        try:
            batch = next(batches, None)
        except Exception as error:  # a damaged row group
            raise ImportFileError(path, f"第{number + 1}行附近无法读取，文件已损坏：{error}") from None
        if batch is None:
            return
        columns = [column.to_pylist() for column in batch.columns]
        for values in zip(*columns):
            number += 1
            yield number, list(values)
