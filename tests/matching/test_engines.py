"""The engines' inputs and outputs: files, missing columns, the result schema."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from qinqing.matching.engines import RESULT_SCHEMA
from qinqing.matching.engines import duckdb as duckdb_engine
from qinqing.registry.errors import ImportFileError
from qinqing.rules import load_policy

ROOT = Path(__file__).resolve().parents[2]
HLJ = load_policy(ROOT / "policies/heilongjiang/hlj-2021-new-above-scale-industrial.yaml")
AS_OF = date(2021, 12, 1)
ROWS = {
    "uscc": ["A", "B", "C"],
    "region_code": ["230102", "330106", None],
    "industry_code": ["C3911", "C3911", "C3911"],
    "legal_person": [True, True, True],
    "is_above_scale": [True, True, True],
    "above_scale_since": [2021, 2021, 2021],
    "is_dishonest": [False, False, False],
    "in_abnormal_list": [False, False, False],
    "in_safety_blacklist": [False, False, None],
}
EXPECTED = [
    ("A", "eligible", Decimal("50.0000"), [], []),
    ("B", "ineligible", None, ["region"], []),
    ("C", "unknown", None, [], ["region_code", "in_safety_blacklist"]),
]


def _summary(table: pa.Table):
    return sorted((r["uscc"], r["status"], r["amount"], r["failed"], r["missing"]) for r in table.to_pylist())


def test_arrow_input_with_absent_columns_gives_the_result_schema():
    table = duckdb_engine.match([HLJ], pa.table(ROWS), AS_OF)
    assert table.schema == RESULT_SCHEMA
    assert _summary(table) == EXPECTED


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_file_input(tmp_path, suffix):
    path = tmp_path / f"enterprises{suffix}"
    table = pa.table(ROWS)
    if suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    assert _summary(duckdb_engine.match([HLJ], path, AS_OF)) == EXPECTED


def test_csv_with_chinese_headers_as_a_spreadsheet_exports_it(tmp_path):
    """Headers as `registry generate` writes them (统一社会信用代码, …), behind a BOM, some with units."""
    from qinqing.registry.schema import field

    path = tmp_path / "enterprises.csv"
    headers = {name: field(name).label_zh for name in ROWS}
    headers["above_scale_since"] += "（年）"  # full-width unit suffix, as hand-made sheets have it
    pacsv.write_csv(pa.table({headers[k]: v for k, v in ROWS.items()}), path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert _summary(duckdb_engine.match([HLJ], path, AS_OF)) == EXPECTED


def test_gbk_csv_as_chinese_spreadsheets_save_it(tmp_path):
    from qinqing.registry.schema import field

    utf8 = tmp_path / "utf8.csv"
    pacsv.write_csv(pa.table({field(k).label_zh: v for k, v in ROWS.items()}), utf8)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(utf8.read_text(encoding="utf-8").encode("gbk"))
    assert _summary(duckdb_engine.match([HLJ], gbk, AS_OF)) == EXPECTED


@pytest.mark.parametrize("content, message", [
    (bytes(range(128, 256)) * 3, "既不是 UTF-8 也不是 GBK/GB18030 编码的 CSV 文件"),
    ("名称,地址\n甲,乙\n".encode(), "缺少必需的列“统一社会信用代码”"),
])  # fmt: skip
def test_a_file_that_is_no_registry_is_a_chinese_error(tmp_path, content, message):
    path = tmp_path / "enterprises.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        duckdb_engine.match([HLJ], path, AS_OF)


def test_a_fields_own_name_wins_over_its_chinese_alias(tmp_path):
    from qinqing.registry.schema import field

    rows = dict(ROWS)
    rows[field("region_code").label_zh] = ["330106", "330106", "330106"]  # would make A ineligible, C known
    path = tmp_path / "enterprises.csv"
    pacsv.write_csv(pa.table(rows), path)
    assert _summary(duckdb_engine.match([HLJ], path, AS_OF)) == EXPECTED


@pytest.mark.spark
def test_spark_engine_same_result():
    from qinqing.matching.engines import spark as spark_engine

    table = spark_engine.match([HLJ], pa.table(ROWS), AS_OF, spark=spark_engine.session())
    assert table.schema == RESULT_SCHEMA
    assert _summary(table) == EXPECTED


@pytest.mark.spark
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_spark_reads_csv_with_chinese_headers_in_either_encoding(tmp_path, encoding):
    """Spark's own CSV reader knows no GBK: such a file is transcoded first; headers map as for DuckDB."""
    from qinqing.matching.engines import spark as spark_engine
    from qinqing.registry.schema import field

    utf8 = tmp_path / "utf8.csv"
    pacsv.write_csv(pa.table({field(k).label_zh: v for k, v in ROWS.items()}), utf8)
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(utf8.read_text(encoding="utf-8").encode(encoding))
    assert _summary(spark_engine.match([HLJ], path, AS_OF, spark=spark_engine.session())) == EXPECTED
