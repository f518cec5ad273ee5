"""Importing exports: every good row stored, every bad cell reported at its row and column."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qinqing.registry import store
from qinqing.registry.errors import ImportFileError
from qinqing.registry.importer import import_file
from qinqing.registry.readers import detect_encoding
from qinqing.registry.report import read_report
from qinqing.registry.validate import Problem

AS_OF = date(2024, 6, 30)
# Valid codes (check characters computed by hand per GB 32100 / GB 11714 and confirmed with python-stdnum).
A = "91330106MA27Q1A13M"
B = "913301061234567887"
C = "91330102708461136J"
D = "91330781MA2HXX110N"
E = "91230103556677885K"

HEADERS = ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "成立日期", "从业人员",
           "营业收入（万元）", "是否规上", "高企认定年份", "备注"]
GOOD_AND_BAD = [
    # row 2: good
    [A, "杭州甲科技有限公司", "330106", "3911", "2015/3/5", "120", "12,345.5", "是", "2022", "x"],
    # row 3: good, empty cells stay NULL
    [B, "杭州乙贸易有限公司", "330106", "F5211", "20180101", "", "", "否", "", ""],
    # row 4: bad check digit and bad employees
    ["91330102708461136K", "坏代码公司", "330102", "C3911", "2020-01-01", "-3", "10", "Y", "", ""],
    # row 5: bad date and bad boolean
    [C, "杭州丙有限公司", "330102", "C3911", "2020-02-30", "5", "1", "也许", "", ""],
    # row 6: duplicate of row 2
    [A, "杭州甲科技有限公司（重复）", "330106", "C3911", "2015-03-05", "1", "1", "是", "", ""],
    # row 7: blank row, skipped and not counted
    ["", "", "", "", "", "", "", "", "", ""],
    # row 8: unknown region, future establishment, certificate before establishment
    [D, "兰溪丁有限公司", "339999", "C3911", "2030-01-01", "5", "1", "否", "", ""],
    # row 9: good, from 黑龙江
    [E, "哈尔滨戊有限公司", "230103", "C3911", "2010-05-06", "30", "2000", "1", "2010", ""],
    # row 10: missing uscc
    ["", "无代码公司", "230103", "C3911", "2010-05-06", "30", "2000", "1", "", ""],
]
EXPECTED_PROBLEMS = [
    (4, "统一社会信用代码", "91330102708461136K", "第18位校验码"),
    (4, "从业人员", "-3", "从业人员应在0到"),
    (5, "成立日期", "2020-02-30", "不是有效的日期"),
    (5, "是否规上", "也许", "应为是/否"),
    (6, "统一社会信用代码", A, "与第2行重复"),
    (8, "行政区划代码", "339999", "339999"),
    (8, "成立日期", "2030-01-01", "晚于今天"),
    (10, "统一社会信用代码", "", "必填"),
]


def write_csv(path: Path, headers, rows, encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def assert_problems(problems: list[Problem], expected=EXPECTED_PROBLEMS):
    assert [(p.row, p.column, p.value) for p in problems] == [e[:3] for e in expected]
    for problem, (*_, reason_part) in zip(problems, expected):
        assert reason_part in problem.reason, problem


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_in_any_encoding_stores_good_rows_and_reports_bad_ones(engine, tmp_path, encoding):
    path = write_csv(tmp_path / "企业.csv", HEADERS, GOOD_AND_BAD, encoding)
    result = import_file(path, engine, report=tmp_path / "report.csv", as_of=AS_OF, batch_size=2)
    assert (result.read, result.stored, result.rejected) == (8, 3, 5)
    assert result.unknown_columns == ("备注",)
    assert_problems(result.problems)
    assert read_report(tmp_path / "report.csv") == result.problems
    assert (tmp_path / "report.csv").read_bytes().startswith(b"\xef\xbb\xbfrow,column,value,reason")
    assert store.count_enterprises(engine) == 3
    a = store.get_enterprise(engine, A)
    assert (a["industry_code"], a["established_on"], a["employees"], a["revenue"], a["is_above_scale"],
            a["high_tech_cert_year"]) == ("C3911", date(2015, 3, 5), 120, Decimal("12345.5"), True, 2022)
    b = store.get_enterprise(engine, B)
    assert (b["employees"], b["revenue"], b["high_tech_cert_year"], b["is_above_scale"]) == (None, None, None, False)
    assert store.get_enterprise(engine, E)["is_above_scale"] is True


def test_encoding_detection(tmp_path):
    text = "统一社会信用代码,企业名称\n" + "x,杭州\n"
    for encoding, expected in [("gbk", "gb18030"), ("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig")]:
        (tmp_path / "f.csv").write_bytes(text.encode(encoding))
        assert detect_encoding(tmp_path / "f.csv") == expected
    # ASCII for the first megabyte, GBK after it: still GBK
    (tmp_path / "f.csv").write_bytes(b"uscc,name\n" + b"a,b\n" * 300_000 + "c,浙江\n".encode("gbk"))
    assert detect_encoding(tmp_path / "f.csv") == "gb18030"


def test_reimport_upserts(engine, tmp_path):
    path = write_csv(tmp_path / "a.csv", ["uscc", "employees"], [[A, "10"], [B, "20"]], "utf-8")
    import_file(path, engine, as_of=AS_OF)
    path = write_csv(tmp_path / "b.csv", ["uscc", "employees"], [[A, "11"], [C, ""]], "utf-8")
    result = import_file(path, engine, as_of=AS_OF)
    assert (result.read, result.stored, result.rejected) == (2, 2, 0)
    assert [store.get_enterprise(engine, code)["employees"] for code in (A, B, C)] == [11, 20, None]


def test_xlsx_with_excel_dates_and_numbers(engine, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["统一社会信用代码", "成立日期", "从业人员", "营业收入(万元)", "行政区划代码", "是否失信"])
    sheet.append([A, datetime(2015, 3, 5), 120, 12345.5, 330106, False])
    sheet.append([B, 44260, 12.0, 1, "330106", "否"])  # 44260 is Excel's serial for 2021-03-05
    sheet.append([])
    sheet.append([C, "2021-13-01", 1.5, "abc", "330102", None])
    workbook.save(tmp_path / "企业.xlsx")
    result = import_file(tmp_path / "企业.xlsx", engine, as_of=AS_OF)
    assert (result.read, result.stored, result.rejected) == (3, 2, 1)
    assert [(p.row, p.column) for p in result.problems] == [(5, "成立日期"), (5, "从业人员"), (5, "营业收入(万元)")]
    a, b = store.get_enterprise(engine, A), store.get_enterprise(engine, B)
    assert (a["established_on"], a["employees"], a["revenue"], a["region_code"], a["is_dishonest"]) == (
        date(2015, 3, 5), 120, Decimal("12345.5"), "330106", False)
    assert (b["established_on"], b["employees"], b["is_dishonest"]) == (date(2021, 3, 5), 12, False)


def test_parquet_with_typed_columns(engine, tmp_path):
    table = pa.table({
        "uscc": [A, B, "bad"],
        "revenue": pa.array([Decimal("1.5"), None, Decimal("2")], pa.decimal128(18, 4)),
        "established_on": pa.array([date(2015, 3, 5), None, date(2015, 3, 5)]),
        "layoff_rate": [0.05, 1.5, None],
    })
    pq.write_table(table, tmp_path / "企业.parquet")
    result = import_file(tmp_path / "企业.parquet", engine, as_of=AS_OF)
    assert (result.read, result.stored, result.rejected) == (3, 1, 2)
    assert [(p.row, p.column) for p in result.problems] == [(3, "layoff_rate"), (4, "uscc")]
    assert store.get_enterprise(engine, A)["revenue"] == Decimal("1.5")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (["企业名称", "从业人员"], "缺少必需的列“统一社会信用代码”"),
        (["统一社会信用代码", "是否规上", "是否限上"], "列“是否规上”和列“是否限上”都对应字段"),
    ],
)
def test_unusable_headers_name_the_file(tmp_path, headers, message):
    path = write_csv(tmp_path / "企业名单.csv", headers, [], "utf-8")
    with pytest.raises(ImportFileError) as error:
        import_file(path, None, as_of=AS_OF)
    assert "企业名单.csv" in str(error.value) and message in str(error.value)


def test_validate_only_stores_nothing(engine, tmp_path):
    path = write_csv(tmp_path / "企业.csv", HEADERS, GOOD_AND_BAD, "gbk")
    result = import_file(path, None, report=tmp_path / "r.csv", as_of=AS_OF)
    assert (result.read, result.stored, result.rejected) == (8, 3, 5)
    assert store.count_enterprises(engine) == 0


def test_failure_after_some_batches_leaves_the_store_unchanged(engine, tmp_path):
    store.upsert_enterprises(engine, [{"uscc": A, "employees": 1}])
    path = write_csv(tmp_path / "企业.csv", ["uscc", "employees"], [[code, "99"] for code in (A, B, C, D, E)], "utf-8")

    def fail_after_two_batches(stored: int) -> None:
        if stored >= 4:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        import_file(path, engine, as_of=AS_OF, batch_size=2, after_batch=fail_after_two_batches)
    assert store.count_enterprises(engine) == 1
    assert store.get_enterprise(engine, A)["employees"] == 1


def test_killed_import_leaves_the_store_unchanged(engine, database_url, tmp_path):
    store.upsert_enterprises(engine, [{"uscc": A, "employees": 1}])
    path = write_csv(tmp_path / "企业.csv", ["uscc", "employees"], [[code, "99"] for code in (A, B, C, D, E)], "utf-8")
    script = textwrap.dedent(f"""
        import os, signal
        from datetime import date
        from qinqing.db import make_engine
        from qinqing.registry.importer import import_file

        def die(stored):
            if stored >= 4:
                os.kill(os.getpid(), signal.SIGKILL)

        import_file({str(path)!r}, make_engine({database_url!r}), as_of=date(2024, 6, 30), batch_size=2, after_batch=die)
    """)
    process = subprocess.run([sys.executable, "-c", script], env=os.environ, capture_output=True, text=True)
    assert process.returncode == -9, process.stderr
    assert store.count_enterprises(engine) == 1
    assert store.get_enterprise(engine, A)["employees"] == 1


# --- value parsers --------------------------------------------------------------------------

from hypothesis import given, strategies as st  # noqa: E402

from qinqing.registry.values import (  # noqa: E402
    ValueProblem, parse_boolean, parse_date, parse_integer, parse_money, parse_number, parse_string,
)

money_values = st.decimals(min_value=Decimal("-99999999999999.9999"), max_value=Decimal("99999999999999.9999"), places=4)


@given(money_values)
def test_money_round_trips_with_and_without_thousands_separators(value):
    assert parse_money(str(value)) == value
    assert parse_money(f"{value:,}") == value
    assert parse_money(f" {value:,f} ") == value


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_integers_read_from_text_excel_floats_and_separators(value):
    assert parse_integer(str(value)) == value
    assert parse_integer(f"{value:,}") == value
    assert parse_integer(float(value)) == value


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2999, 12, 31)))
def test_every_date_spelling_gives_the_same_date(day):
    spellings = [day.isoformat(), f"{day.year}/{day.month}/{day.day}", day.strftime("%Y%m%d"),
                 f"{day.year}年{day.month}月{day.day}日", f"{day.isoformat()} 00:00:00",
                 datetime(day.year, day.month, day.day), (day - date(1899, 12, 30)).days]
    assert {parse_date(s) for s in spellings} == {day}


@given(st.text(max_size=12))
def test_parsers_either_return_or_give_a_chinese_reason(text):
    for parse in (parse_money, parse_integer, parse_number, parse_date, parse_boolean, parse_string):
        try:
            parse(text)
        except ValueProblem as problem:
            assert problem.reason and any("\u4e00" <= ch <= "\u9fff" for ch in problem.reason)


@pytest.mark.parametrize(
    ("parse", "raw", "expected"),
    [
        (parse_boolean, "是", True), (parse_boolean, "否", False), (parse_boolean, "Y", True), (parse_boolean, "n", False),
        (parse_boolean, "TRUE", True), (parse_boolean, "false", False), (parse_boolean, 1, True), (parse_boolean, "0", False),
        (parse_boolean, "", None), (parse_boolean, None, None), (parse_money, "  ", None), (parse_money, "0", Decimal("0")),
        (parse_money, "１２，３４５.６", Decimal("12345.6")), (parse_money, 0.1, Decimal("0.1")),
        (parse_money, "1.23456", Decimal("1.2346")), (parse_number, "5%", 0.05), (parse_number, float("nan"), None),
        (parse_string, 330106.0, "330106"), (parse_string, "  杭州  ", "杭州"), (parse_date, "2021.3.5", date(2021, 3, 5)),
    ],
)
def test_parser_examples(parse, raw, expected):
    assert parse(raw) == expected and type(parse(raw)) is type(expected)


@pytest.mark.parametrize(
    ("parse", "raw"),
    [(parse_boolean, "也许"), (parse_boolean, 2), (parse_money, "1,23"), (parse_money, "12万"), (parse_money, "1e20"),
     (parse_integer, "1.5"), (parse_date, "2021-02-29"), (parse_date, "2021-3"), (parse_date, 3.5), (parse_number, "abc%")],
)
def test_parser_rejections(parse, raw):
    with pytest.raises(ValueProblem):
        parse(raw)


# --- row checks ---------------------------------------------------------------------------

from qinqing.registry.columns import field_for_header, map_headers  # noqa: E402
from qinqing.registry.validate import RowValidator  # noqa: E402


@pytest.mark.parametrize(
    ("header", "field"),
    [("统一社会信用代码", "uscc"), (" 信用代码 ", "uscc"), ("USCC", "uscc"), ("营业收入（万元）", "revenue"),
     ("营业收入(万元)", "revenue"), ("从业人员（人）", "employees"), ("上年 研发费用（万元）", "rd_expense_prev"),
     ("revenue_prev", "revenue_prev"), ("备注", None), ("", None)],
)
def test_headers_map_to_fields(header, field):
    assert field_for_header(header) == field


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"成立日期": "2015-01-01", "高企认定年份": "2014"}, [("高企认定年份", "早于成立年份（2015年")]),
        ({"成立日期": "2015-01-01", "高企认定年份": "2015"}, []),
        ({"高企认定年份": "1899"}, [("高企认定年份", "应在1900年到2024年之间")]),
        ({"高企认定年份": "2025"}, [("高企认定年份", "应在1900年到2024年之间")]),
        ({"裁员率": "120%"}, [("裁员率", "应在0到1之间")]),
        ({"营业收入": "-1"}, [("营业收入", "不能为负数")]),
        ({"智能制造等级": "灯塔工厂"}, [("智能制造等级", "应为未来工厂、智能工厂、数字化车间之一")]),
        ({"行业代码": "Z9999"}, [("行业代码", "Z9999")]),
        ({"统一社会信用代码": A.lower()}, []),
    ],
)
def test_row_checks(cells, expected):
    headers = ["统一社会信用代码", *[h for h in cells if h != "统一社会信用代码"]]
    values = [cells.get("统一社会信用代码", A), *[cells[h] for h in headers[1:]]]
    validator = RowValidator(map_headers("t.csv", headers), AS_OF)
    record, problems = validator.validate(2, values)
    assert [(p.column, part in p.reason) for p, (_, part) in zip(problems, expected)] == [(c, True) for c, _ in expected]
    assert len(problems) == len(expected)
    if not expected:
        assert record["uscc"] == A


# --- the command line -----------------------------------------------------------------------

from typer.testing import CliRunner  # noqa: E402

from qinqing.cli import app  # noqa: E402


def test_cli_generate_import_validate_show(tmp_path, database_url):
    runner = CliRunner()
    data = tmp_path / "r.csv"
    assert runner.invoke(app, ["registry", "generate", "--n", "300", "--seed", "2", "--out", str(data)]).exit_code == 0
    result = runner.invoke(app, ["registry", "import", str(data), "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "读取 300 行，入库 300 行，拒绝 0 行" in result.output
    bad = write_csv(tmp_path / "bad.csv", HEADERS, GOOD_AND_BAD, "gbk")
    result = runner.invoke(app, ["registry", "validate", str(bad), "--report", str(tmp_path / "rep.csv")])
    assert result.exit_code == 1 and "读取 8 行，通过校验 3 行，拒绝 5 行" in result.output
    assert len(read_report(tmp_path / "rep.csv")) == len(EXPECTED_PROBLEMS)
    code = list(csv.reader(data.open(encoding="utf-8-sig")))[1][0]
    result = runner.invoke(app, ["registry", "show", code, "--as-of", "2025-01-01", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert code in result.output and "企业规模（派生）" in result.output and "成立年限" in result.output
    missing = runner.invoke(app, ["registry", "show", A, "--database-url", database_url])
    assert missing.exit_code == 1 and "未找到" in missing.output


def test_cli_names_the_file_without_uscc_column(tmp_path):
    path = write_csv(tmp_path / "名单.csv", ["企业名称"], [["杭州甲"]], "utf-8")
    result = CliRunner().invoke(app, ["registry", "validate", str(path)])
    assert result.exit_code == 2 and "名单.csv" in result.output and "统一社会信用代码" in result.output
