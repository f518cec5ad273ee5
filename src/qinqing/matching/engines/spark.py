"""The distributed engine: the same compiled SQL, rendered for Spark, over a registry on a cluster.

Local mode (``local[2]``) by default; set QINQING_SPARK_MASTER (settings.spark_master) to a cluster URL,
e.g. spark://host:7077, to run on a cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from qinqing.matching.engines import RESULT_SCHEMA, match_sql, transcoded_csv, typed_enterprises
from qinqing.registry.errors import ImportFileError
from qinqing.rules.model import Policy

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def session(master: str | None = None) -> SparkSession:
    """The process's SparkSession (created once): small shuffles, no UI, UTC dates."""
    from pyspark.sql import SparkSession

    from qinqing.settings import get_settings

    return (
        SparkSession.builder.master(master or get_settings().spark_master)
        .appName("qinqing-matching")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def match(
    policies: Iterable[Policy], enterprises: pa.Table | str | Path, as_of: date, spark: SparkSession | None = None
) -> pa.Table:
    """Every (enterprise, policy) pair: uscc, policy_id, status, amount, failed, missing."""
    policies = list(policies)
    spark = spark or session()
    raw = _raw(spark, enterprises)
    suffix = uuid.uuid4().hex[:8]
    raw_name, typed_name = f"raw_enterprises_{suffix}", f"enterprises_{suffix}"
    raw.createOrReplaceTempView(raw_name)
    spark.sql(typed_enterprises(raw_name, raw.columns).sql(dialect="spark")).createOrReplaceTempView(typed_name)
    try:
        if not policies:
            return RESULT_SCHEMA.empty_table()
        return spark.sql(match_sql(policies, "spark", as_of, typed_name)).toArrow().cast(RESULT_SCHEMA)
    finally:
        spark.catalog.dropTempView(typed_name)
        spark.catalog.dropTempView(raw_name)


def _raw(spark: SparkSession, enterprises: pa.Table | str | Path) -> DataFrame:
    if isinstance(enterprises, pa.Table):
        return spark.createDataFrame(enterprises)
    path = str(enterprises)
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return spark.read.parquet(path)
    if suffix == ".csv":
        transcoded = transcoded_csv(Path(path))  # Spark's CSV reader knows no GBK
        if transcoded is not None:
            return spark.createDataFrame(transcoded)
        return spark.read.option("header", True).option("encoding", "UTF-8").csv(path)
    raise ImportFileError(path, "企业数据文件应为 .csv 或 .parquet")
