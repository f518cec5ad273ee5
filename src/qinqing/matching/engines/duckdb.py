"""The embedded engine: compiled policies over a registry in DuckDB (in memory, one query)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from qinqing.matching.engines import RESULT_SCHEMA, match_sql, transcoded_csv, typed_enterprises
from qinqing.registry.errors import ImportFileError
from qinqing.rules.model import Policy


def match(policies: Iterable[Policy], enterprises: pa.Table | str | Path, as_of: date) -> pa.Table:
    """Every (enterprise, policy) pair: uscc, policy_id, status, amount, failed, missing."""
    policies = list(policies)
    con = duckdb.connect()
    try:
        load_enterprises(con, enterprises)
        if not policies:
            return RESULT_SCHEMA.empty_table()
        table = con.sql(match_sql(policies, "duckdb", as_of, "enterprises")).to_arrow_table()
        return table.cast(RESULT_SCHEMA)
    finally:
        con.close()


def load_enterprises(con: duckdb.DuckDBPyConnection, enterprises: pa.Table | str | Path) -> None:
    """Create the typed view ``enterprises`` from an Arrow table or a CSV/Parquet file."""
    if isinstance(enterprises, pa.Table):
        raw = con.from_arrow(enterprises)
    else:
        path = str(enterprises)
        suffix = Path(path).suffix.lower()
        if suffix == ".parquet":
            raw = con.read_parquet(path)
        elif suffix == ".csv":
            raw = _read_csv(con, Path(path))
        else:
            raise ImportFileError(path, "企业数据文件应为 .csv 或 .parquet")
    raw.create_view("raw_enterprises")
    con.execute(f"CREATE TEMP VIEW enterprises AS {typed_enterprises('raw_enterprises', raw.columns).sql(dialect='duckdb')}")


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    """Every column as text (the schema types them); UTF-8 read by DuckDB, a GBK/GB18030 export (as
    Chinese spreadsheets save it) transcoded by Arrow. A file that is not CSV is an ImportFileError."""
    try:
        transcoded = transcoded_csv(path)
        if transcoded is not None:
            return con.from_arrow(transcoded)
        return con.read_csv(str(path), all_varchar=True, header=True)
    except duckdb.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ImportFileError(path, f"无法按 CSV 读取企业数据文件：{reason}") from error
