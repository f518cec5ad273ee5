"""An expression can only ever read the enterprise's own fields: a hostile corpus and a fuzzer."""

from __future__ import annotations

from datetime import date

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qinqing.rules.compile import compile_policy, lower
from qinqing.rules.check import check_expression
from qinqing.rules.errors import ExpressionError
from qinqing.rules.safety import unsafe_parts
from rules_helpers import make_policy

HOSTILE = [
    "read_csv('/etc/passwd') IS NOT NULL",
    "read_parquet('s3://bucket/x.parquet') IS NULL",
    "glob('/etc/*') IS NULL",
    "read_text('/etc/shadow') = 'x'",
    "(SELECT count(*) FROM enterprises) > 0",
    "revenue > (SELECT max(revenue) FROM enterprises)",
    "EXISTS (SELECT 1)",
    "revenue IN (SELECT revenue FROM other)",
    "revenue > 0; DROP TABLE enterprises",
    "revenue > 0; PRAGMA database_list",
    "revenue > 0 -- ' OR TRUE",
    "revenue > 0 /* hidden */ OR TRUE",
    "COPY enterprises TO '/tmp/x.csv'",
    "ATTACH '/tmp/x.db' AS x",
    "INSTALL httpfs",
    "SET threads = 1",
    "PRAGMA version",
    "enterprises.revenue > 0",
    "other.secret = 'x'",
    "\"revenue\" > 0",
    "getenv('HOME') = 'x'",
    "current_setting('threads') = '1'",
    "CAST(revenue AS VARCHAR) = 'x'",
    "revenue::VARCHAR = 'x'",
    "name = 'a\\' OR 1=1'",
    "random() > 0.5",
    "now() > DATE '2020-01-01'",
    "query('SELECT 1') IS NULL",
    "sql_auto_complete('x') IS NULL",
    "system('ls') IS NULL",
    "load_extension('x') IS NULL",
    "revenue > $1",
    "revenue > ?",
    "name = 'x' || (SELECT 'y')",
    "LAMBDA x : x",
    "[1, 2] = [1, 2]",
    "struct_pack(a := 1) IS NULL",
    "revenue > 0 UNION SELECT 1",
    "'" + "a" * 300 + "' = name",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_expression_is_rejected(text):
    with pytest.raises(ExpressionError) as failure:
        check_expression(text, "boolean")
    assert failure.value.issues and all(i.message for i in failure.value.issues)


def _assert_compiled_safe(tree) -> None:
    lowered = lower(tree)
    assert unsafe_parts(lowered) == []
    for dialect in ("duckdb", "spark"):
        sql = lowered.sql(dialect=dialect)
        reparsed = sqlglot.parse(sql, read=dialect)
        assert len(reparsed) == 1, sql
        assert unsafe_parts(reparsed[0]) == [], sql


TOKENS = [
    "revenue", "employees", "is_dishonest", "name", "size_class", "rd_intensity", "established_on", "foo",
    "read_csv", "SELECT", "FROM", "enterprises", "(", ")", ",", ";", "'", "'x'", "'/etc/passwd'", "\"", "--",
    "/*", "*/", "1", "0.5", "-", "+", "*", "/", "=", "<>", ">=", "<", "AND", "OR", "NOT", "IN", "IS", "NULL",
    "BETWEEN", "LIKE", "CASE", "WHEN", "THEN", "ELSE", "END", "LEAST", "GREATEST", "COALESCE", "ROUND", "ABS",
    "YEAR", "STARTS_WITH", "DATE", "'2021-01-01'", "CAST", "AS", "VARCHAR", "::", "TRUE", "FALSE", "$1", "?",
    "[", "]", "{", "}", ".", "\\", "PRAGMA", "ATTACH", "COPY", "UNION", "EXISTS", "glob", "getenv",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14).map(" ".join) | st.text(max_size=40))
def test_fuzzed_text_is_rejected_or_compiles_to_safe_sql(text):
    for want in ("boolean", "numeric"):
        try:
            tree = check_expression(text, want)
        except ExpressionError:
            continue
        _assert_compiled_safe(tree)


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_whole_policy_select_reads_only_the_source_relation(dialect):
    policy = make_policy(
        {"a": "LEAST(revenue, 5) > 1 AND name LIKE 'x%'", "b": "CASE WHEN employees > 1 THEN TRUE ELSE FALSE END"},
        {"expr": "revenue / 2", "cap": 10},
    )
    sql = compile_policy(policy, dialect, date(2023, 1, 1)).select_sql("enterprises")
    tree = sqlglot.parse_one(sql, read=dialect)
    tables = {t.name for t in tree.find_all(sqlglot.exp.Table)}
    assert tables <= {"enterprises", "e", "c", "s"}
