"""Engines that run compiled policies over a whole registry: duckdb (embedded) and spark (cluster).

Both take the same inputs and return the same table: uscc, policy_id, status, amount, failed, missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlglot import exp

from qinqing.matching.errors import NothingToMatch
from qinqing.registry.columns import field_for_header
from qinqing.registry.errors import ImportFileError
from qinqing.registry.schema import STORED_FIELDS
from qinqing.rules.compile import Dialect, compile_policy
from qinqing.rules.model import Policy
from qinqing.rules.types import enterprise_schema, sql_type

RESULT_SCHEMA = pa.schema(
    [
        ("uscc", pa.string()),
        ("policy_id", pa.string()),
        ("status", pa.string()),
        ("amount", pa.decimal128(18, 4)),
        ("failed", pa.list_(pa.string())),
        ("missing", pa.list_(pa.string())),
    ]
)
ENTERPRISE_SCHEMA = enterprise_schema()


def typed_enterprises(raw_relation: str, present: Iterable[str]) -> exp.Select:
    """Every stored field, cast to its type; fields absent from the input are typed NULLs.

    Input columns are matched to fields by name or by the headers the importer understands
    (统一社会信用代码, 营业收入(万元), …), so a registry file as `qinqing registry generate` writes
    it as CSV (Chinese headers) reads like its Parquet twin; a field's own name wins over an alias.
    An ImportFileError when no column holds the uscc (every result row would be nameless)."""
    source: dict[str, str] = {}
    for column in present:
        name = field_for_header(column)
        if name is not None and (name not in source or column == name):
            source[name] = column
    if "uscc" not in source:
        raise ImportFileError(None, "企业数据缺少必需的列“统一社会信用代码”（也可写作“信用代码”或 uscc）")
    columns = [
        exp.cast(exp.column(source[f.name], quoted=True) if f.name in source else exp.null(),
                 sql_type(f.type)).as_(f.name)
        for f in STORED_FIELDS
    ]
    return exp.select(*columns).from_(raw_relation)


def transcoded_csv(path: Path) -> pa.Table | None:
    """None for a UTF-8 CSV (each engine reads those itself); a GBK/GB18030 one (as Chinese
    spreadsheets save it) read here, every column as text, empty cells NULL (as DuckDB reads a
    UTF-8 one). A file that is neither is an ImportFileError."""
    from qinqing.registry.readers import detect_encoding

    if detect_encoding(path) != "gb18030":
        return None
    options = pacsv.ReadOptions(encoding="gb18030")
    try:
        with pacsv.open_csv(path, read_options=options) as reader:
            names = reader.schema.names
        convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True)
        return pacsv.read_csv(path, read_options=options, convert_options=convert)
    except UnicodeDecodeError:
        raise ImportFileError(path, "企业数据文件既不是 UTF-8 也不是 GBK/GB18030 编码的 CSV 文件") from None
    except pa.ArrowInvalid as error:
        raise ImportFileError(path, f"无法按 CSV 读取企业数据文件：{str(error).strip().splitlines()[0]}") from error


def match_sql(policies: Iterable[Policy], dialect: Dialect, as_of: date, source_relation: str) -> str:
    """One query returning every (enterprise, policy) pair of ``source_relation``."""
    selects = [
        exp.select(exp.Star()).from_(compile_policy(p, dialect, as_of).select(source_relation).subquery(f"p{i}"))
        for i, p in enumerate(policies)
    ]
    if not selects:
        raise NothingToMatch()
    query: exp.Query = selects[0]
    for s in selects[1:]:
        query = exp.union(query, s, distinct=False)
    return query.sql(dialect=dialect)
