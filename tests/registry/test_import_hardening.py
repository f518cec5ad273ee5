"""Issue 12, registry imports: rows an XLSX does not declare, rows in another encoding, cells too long or
holding NUL, and files that break off part-way. Each bad row is rejected with a Chinese reason naming
it; the good rows are kept; a damaged file is an ImportFileError with nothing stored."""

from __future__ import annotations

import csv
import re
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from qinqing.registry import store
from qinqing.registry.errors import ImportFileError, RegistryError
from qinqing.registry.importer import import_file
from qinqing.registry.readers import RECORD_LIMIT
from qinqing.registry.report import read_report
from qinqing.registry.schema import field

AS_OF = date(2024, 6, 30)
# Valid codes, as in test_importer.py.
A = "91330106MA27Q1A13M"
B = "913301061234567887"
C = "91330102708461136J"
D = "91330781MA2HXX110N"
E = "91230103556677885K"
CODES = (A, B, C, D, E)


# --- XLSX with a stale <dimension> ---------------------------------------------------------------

def _set_dimension(path: Path, ref: str | None) -> None:
    """Rewrite the <dimension ref> of the first sheet inside the zip (None: remove the element)."""
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            if info.filename == "xl/worksheets/sheet1.xml":
                new = b"" if ref is None else f'<dimension ref="{ref}"/>'.encode()
                data, count = re.subn(rb"<dimension ref=\"[^\"]*\"\s*/>", new, data)
                assert count == 1
            target.writestr(info, data)


def _xlsx(path: Path, rows: list[list]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["统一社会信用代码", "企业名称", "从业人员"])
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


TWENTY = [[code, f"企业{i}", i] for i, code in enumerate(CODES * 4)]  # 5 distinct codes, 4 times: 15 duplicates


@pytest.mark.parametrize("ref", ["A1:AM11", "A1", "A1:C21", None])
def test_xlsx_with_a_stale_dimension_reads_every_row(engine, tmp_path, ref):
    """Issue 12 HIGH: read-only openpyxl stopped at the declared <dimension>: a 20-row sheet declaring
    A1:AM11 gave 10 rows, one declaring A1 none (and "拒绝 0 行")."""
    path = _xlsx(tmp_path / "企业.xlsx", TWENTY)
    _set_dimension(path, ref)
    result = import_file(path, engine, as_of=AS_OF)
    assert (result.read, result.stored, result.rejected) == (20, 5, 15)
    assert [p.row for p in result.problems] == list(range(7, 22))
    assert store.count_enterprises(engine) == 5
    assert store.get_enterprise(engine, A)["name"] == "企业0" and store.get_enterprise(engine, E)["employees"] == 4


def test_xlsx_with_a_stale_dimension_keeps_columns_beyond_it(engine, tmp_path):
    path = _xlsx(tmp_path / "企业.xlsx", [[A, "甲", 7], [B, "乙", 8]])
    _set_dimension(path, "A1:A2")  # declares one column: 企业名称 and 从业人员 would be lost
    result = import_file(path, engine, as_of=AS_OF)
    assert (result.read, result.stored) == (2, 2)
    assert (store.get_enterprise(engine, B)["name"], store.get_enterprise(engine, B)["employees"]) == ("乙", 8)


# --- damaged files -------------------------------------------------------------------------------

def _damage(path: Path, how: str) -> None:
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info)) for info in source.infolist()]
    if how == "truncated xml":  # the sheet's XML ends in the middle of a row
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
            for info, data in items:
                if info.filename == "xl/worksheets/sheet1.xml":
                    data = data[: len(data) // 2]
                target.writestr(info, data)
        return
    # "flipped bytes": the sheet stored uncompressed, its bytes in the middle overwritten (CRC fails)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:
        for info, data in items:
            info.compress_type = zipfile.ZIP_STORED
            target.writestr(info, data)
    raw = bytearray(path.read_bytes())
    start = raw.index(b"<sheetData>")
    middle = start + (raw.index(b"</sheetData>") - start) // 2
    raw[middle:middle + 40] = b"\xff" * 40
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("how", ["truncated xml", "flipped bytes"])
def test_xlsx_damaged_in_the_middle_is_a_clean_error_with_nothing_stored(engine, tmp_path, how):
    """Issue 12 LOW: a corruption in the middle of an XLSX sheet ended in an uncaught traceback."""
    store.upsert_enterprises(engine, [{"uscc": A, "employees": 1}])
    rows = [[code, f"企业{i}", i] for i, code in enumerate(_many_codes(3000))]
    path = _xlsx(tmp_path / "坏.xlsx", rows)
    _damage(path, how)
    with pytest.raises(ImportFileError) as error:
        import_file(path, engine, as_of=AS_OF, batch_size=100)
    assert isinstance(error.value, RegistryError)
    assert "坏.xlsx" in str(error.value) and "行附近无法读取，文件已损坏" in str(error.value)
    assert store.count_enterprises(engine) == 1 and store.get_enterprise(engine, A)["employees"] == 1


def test_cli_reports_a_damaged_xlsx_without_a_traceback(tmp_path):
    from qinqing.cli import app

    path = _xlsx(tmp_path / "坏.xlsx", [[code, "x", 1] for code in _many_codes(3000)])
    _damage(path, "truncated xml")
    result = CliRunner().invoke(app, ["registry", "validate", str(path)])
    assert result.exit_code == 2 and "文件已损坏" in result.output and "Traceback" not in result.output


def test_parquet_damaged_in_the_middle_is_a_clean_error(engine, tmp_path):
    path = tmp_path / "坏.parquet"
    codes = _many_codes(3000)
    pq.write_table(pa.table({"uscc": codes, "name": [f"企业{i}" for i in range(3000)]}), path, row_group_size=500)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2:len(raw) // 2 + 64] = b"\x00" * 64
    path.write_bytes(bytes(raw))
    with pytest.raises(ImportFileError) as error:
        import_file(path, engine, as_of=AS_OF, batch_size=100)
    assert "坏.parquet" in str(error.value)
    assert store.count_enterprises(engine) == 0


# --- encodings -----------------------------------------------------------------------------------

ROWS = [[A, "杭州甲科技有限公司"], [B, "杭州乙贸易有限公司"], [C, "杭州丙有限公司"], [D, "兰溪丁有限公司"]]


def _mixed(path: Path, encoding: str, odd_row: int, odd_encoding: str) -> Path:
    """A CSV in ``encoding`` whose data row ``odd_row`` (spreadsheet numbering) is in ``odd_encoding``."""
    lines = ["统一社会信用代码,企业名称\r\n".encode(encoding)]  # utf-8-sig: the BOM once, at the start
    row_encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    for number, (code, name) in enumerate(ROWS, start=2):
        lines.append(f"{code},{name}\r\n".encode(odd_encoding if number == odd_row else row_encoding))
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize(("encoding", "odd_encoding", "odd_row", "reason"), [
    ("gbk", "utf-8", 3, "是UTF-8编码，而文件其余各行是GBK/GB18030编码"),
    ("gbk", "utf-8", 5, "是UTF-8编码"),
    ("utf-8", "gbk", 3, "有无法按UTF-8解码的字节"),
    ("utf-8", "gbk", 4, "有无法按UTF-8解码的字节"),
    ("utf-8-sig", "gbk", 2, "有无法按UTF-8解码的字节"),
])
def test_a_row_in_another_encoding_is_rejected_at_its_row(engine, tmp_path, encoding, odd_encoding, odd_row, reason):
    """Issue 12 LOW: a GBK file with one UTF-8 row stored mojibake; a UTF-8 file with one GBK row was
    refused whole, naming the wrong line. Now the file's encoding is kept and that row alone is rejected."""
    path = _mixed(tmp_path / "企业.csv", encoding, odd_row, odd_encoding)
    result = import_file(path, engine, as_of=AS_OF)
    assert (result.read, result.stored, result.rejected) == (4, 3, 1)
    (problem,) = result.problems
    assert problem.row == odd_row and problem.reason.startswith(f"第{odd_row}行") and reason in problem.reason
    for number, (code, name) in enumerate(ROWS, start=2):
        stored = store.get_enterprise(engine, code)
        assert (stored is None) if number == odd_row else (stored["name"] == name)


def test_a_bad_row_after_a_multi_line_cell_names_the_row_and_the_file_line(engine, tmp_path):
    body = ('统一社会信用代码,企业名称,备注\n'
            f'{A},杭州甲,"两行\n的备注"\n').encode("utf-8") + f"{B},杭州乙,x\n".encode("gbk") + f"{C},杭州丙,\n".encode()
    (tmp_path / "企业.csv").write_bytes(body)
    result = import_file(tmp_path / "企业.csv", engine, as_of=AS_OF)
    assert (result.read, result.stored, result.rejected) == (3, 2, 1)
    assert result.problems[0].row == 3 and result.problems[0].reason.startswith("第3行（文件第4行）")


def test_a_header_that_does_not_decode_names_row_one(tmp_path):
    (tmp_path / "企业.csv").write_bytes("统一社会信用代码,企业名称\n".encode("gbk") + "a,杭州\n".encode() * 3)
    with pytest.raises(ImportFileError, match="第1行（表头）有无法按UTF-8解码的字节"):
        import_file(tmp_path / "企业.csv", None, as_of=AS_OF)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_line_ending_still_reads(engine, tmp_path, newline):
    text = newline.join(["uscc,name", f"{A},甲", f'{B},"乙{newline}公司"', f"{C},丙"]) + newline
    (tmp_path / "企业.csv").write_bytes(text.encode("gbk"))
    result = import_file(tmp_path / "企业.csv", engine, as_of=AS_OF)
    assert (result.read, result.stored, result.rejected) == (3, 3, 0)
    assert store.get_enterprise(engine, B)["name"] == f"乙{newline}公司"


# --- length limits and NUL -----------------------------------------------------------------------

def _csv(path: Path, headers, rows, encoding="utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(("name", "stored", "reason"), [
    ("甲" * 200, True, None),
    ("  " + "甲" * 200 + "  ", True, None),  # surrounding spaces are trimmed before counting
    ("甲" * 201, False, "企业名称最长200个字符，实为201个字符"),
    ("甲" * 40_000, False, "企业名称最长200个字符，实为40000个字符"),  # 120,000 bytes: under the row limit
    ("杭州\x00甲", False, "含有空字符（NUL"),
])
def test_name_length_limit_and_nul(engine, tmp_path, name, stored, reason):
    """Issue 12 LOW: 100,000-character names and NUL bytes were stored."""
    path = _csv(tmp_path / "企业.csv", ["统一社会信用代码", "企业名称"], [[A, "好"], [B, name], [C, "丙"]])
    result = import_file(path, engine, report=tmp_path / "r.csv", as_of=AS_OF)
    assert result.stored == (3 if stored else 2) and store.get_enterprise(engine, C)["name"] == "丙"
    if stored:
        assert store.get_enterprise(engine, B)["name"] == name.strip()
        return
    (problem,) = result.problems
    assert (problem.row, problem.column) == (3, "企业名称") and reason in problem.reason
    assert len(problem.value) <= 120 and "\x00" not in problem.value  # quoted short, NUL spelt out
    assert read_report(tmp_path / "r.csv") == result.problems


@pytest.mark.parametrize(("header", "value", "reason"), [
    ("营业收入", "1" * 65, "营业收入最长64个字符，实为65个字符"),
    ("成立日期", "2020-01-01\x00", "含有空字符"),
    ("行政区划代码", "3" * 33, "行政区划代码最长32个字符"),
    ("统一社会信用代码", A + " " * 10 + "x" * 50, "统一社会信用代码最长64个字符"),
])
def test_every_field_has_a_limit(engine, tmp_path, header, value, reason):
    headers = ["统一社会信用代码", header] if header != "统一社会信用代码" else ["统一社会信用代码"]
    row = [B, value] if header != "统一社会信用代码" else [value]
    good = [A, ""] if header != "统一社会信用代码" else [A]
    result = import_file(_csv(tmp_path / "企业.csv", headers, [good, row]), engine, as_of=AS_OF)
    assert (result.stored, result.rejected) == (1, 1)
    assert result.problems[0].row == 3 and reason in result.problems[0].reason


def test_limits_are_declared_with_the_fields():
    assert (field("name").length_limit, field("uscc").length_limit, field("revenue").length_limit) == (200, 64, 64)


def test_limits_hold_in_xlsx_and_parquet(engine, tmp_path):
    path = _xlsx(tmp_path / "企业.xlsx", [[A, "甲" * 201, 1], [B, "乙", 2]])
    result = import_file(path, engine, as_of=AS_OF)
    assert (result.stored, [(p.row, p.column) for p in result.problems]) == (1, [(2, "企业名称")])
    pq.write_table(pa.table({"uscc": [C, D], "name": ["丙\x00", "丁" * 200]}), tmp_path / "企业.parquet")
    result = import_file(tmp_path / "企业.parquet", engine, as_of=AS_OF)
    assert (result.stored, [(p.row, p.column) for p in result.problems]) == (1, [(2, "name")])


@pytest.mark.parametrize(("column", "huge"), [
    ("备注", "长" * 200_000),  # an ignored column
    ("备注", "长\n" * 100_000),  # quoted, over many lines: the quoting stays in step after it
    ("企业名称", "甲" * 100_000),  # the 100,000-character name of the finding
])
def test_a_cell_over_the_csv_limit_rejects_its_row_not_the_file(engine, tmp_path, column, huge):
    """Issue 12 LOW: one cell over 128 KiB (csv.field_size_limit) aborted the whole file."""
    rows = [[A, "甲", ""], [B, "乙", huge], [C, "丙", '引号"在中间'], [D, "丁", ""]]
    if column == "企业名称":
        rows[1] = [B, huge, ""]
    path = _csv(tmp_path / "企业.csv", ["统一社会信用代码", "企业名称", "备注"], rows)
    result = import_file(path, engine, as_of=AS_OF)
    assert (result.read, result.stored, result.rejected) == (4, 3, 1)
    (problem,) = result.problems
    assert (problem.row, problem.column) == (3, column)
    assert problem.reason.startswith("第3行") and f"列“{column}”超过{RECORD_LIMIT // 1024} KiB" in problem.reason
    assert [store.get_enterprise(engine, code)["name"] for code in (A, C, D)] == ["甲", "丙", "丁"]
    assert store.get_enterprise(engine, B) is None


def test_a_huge_cell_is_not_held_in_memory(tmp_path):
    """Issue 12 LOW: a 300 MB cell peaked at 733 MB. A 64 MB cell now costs about one read buffer."""
    path = tmp_path / "企业.csv"
    with path.open("wb") as handle:
        handle.write(f"uscc,name\n{A},甲\n{B},".encode())
        for _ in range(64):
            handle.write(b"x" * (1 << 20))
        handle.write(f"\n{C},丙\n".encode())
    tracemalloc.start()
    try:
        result = import_file(path, None, as_of=AS_OF)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.read, result.stored, result.rejected) == (3, 2, 1)
    assert peak < 8 * (1 << 20), f"peak {peak / (1 << 20):.1f} MiB"


def test_import_report_neutralises_formula_cells_from_the_file(tmp_path):
    """Issue 12 MEDIUM, end to end: a bad cell written as a formula reaches the report as text."""
    path = _csv(tmp_path / "企业.csv", ["统一社会信用代码", "从业人员"], [[A, "=1+1"], [B, "-3"]])
    import_file(path, None, report=tmp_path / "r.csv", as_of=AS_OF)
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        values = [row[2] for row in csv.reader(handle)][1:]
    assert values == ["'=1+1", "-3"]


def _many_codes(n: int) -> list[str]:
    """n distinct valid USCCs of 330106 (check characters computed by uscc.make)."""
    from qinqing.registry.standards import uscc

    return [uscc.make("9", "1", "330106", f"{i:08d}") for i in range(n)]


def test_cli_lists_problems_whose_cells_look_like_markup(tmp_path):
    """Found with issue 12: a cell such as "[/red]" crashed `qinqing registry validate` (rich MarkupError)."""
    from qinqing.cli import app

    path = _csv(tmp_path / "企业.csv", ["uscc", "employees", "[/x]"], [[A, "[/red]", ""]])
    result = CliRunner().invoke(app, ["registry", "validate", str(path)])
    assert result.exit_code == 1, result.output
    assert "值“[/red]”" in result.output and "[/x]" in result.output
