"""The gate every policy passes before it is saved or published: it must compile for every engine,
its amount must stay within what the engines can hold, and a dry run over sample enterprises must
give the same decisions on the embedded engine as the single-enterprise evaluator.

A policy that passes the language checks (``rules.load``) but fails here never reaches the
catalogue, so a published policy can always be matched, previewed and explained.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

import duckdb
import pyarrow as pa

from qinqing.catalogue.errors import Problem
from qinqing.rules import RuleError, compile_policy
from qinqing.rules.model import NATIONAL_REGION, Policy

DRY_RUN_ROWS = 64  # synthetic enterprises the compiled SQL is run on before a policy is admitted
DIALECTS = ("duckdb", "spark")
_SAMPLE_SEED = 20240101


def admission_problems(policy: Policy, as_of: date | None = None, source: str | None = None) -> list[Problem]:
    """Every reason ``policy`` may not enter the catalogue; empty when it may. ``source``, the
    policy's YAML text, lets an amount-range problem name its line and column."""
    day = as_of or policy.valid_from
    problems: list[Problem] = []
    compiled = None
    for dialect in DIALECTS:
        try:
            result = compile_policy(policy, dialect, day)
        except RuleError as error:
            problems.append(_problem(error, f"无法编译（{dialect}）"))
            continue
        except RecursionError:
            problems.append(Problem(f"无法编译（{dialect}）：表达式嵌套过深。"))
            continue
        if dialect == "duckdb":
            compiled = result
    if problems:  # the range analysis and the dry run read what only a compiled policy has
        return problems
    problems.extend(_amount_problems(policy, source))
    if compiled is not None and not problems:
        problems.extend(_dry_run(policy, compiled, day))
    return problems


def _amount_problems(policy: Policy, source: str | None) -> list[Problem]:
    """The amount must stay within 0 and DECIMAL(18,4) for inputs in the fields' declared ranges."""
    if policy.benefit is None:
        return []
    from qinqing.rules.bounds import check_amount_bounds

    return [_problem(error, "金额范围检查未通过") for error in check_amount_bounds(policy, source)]


def _dry_run(policy: Policy, compiled, day: date) -> list[Problem]:
    """Run each condition and the amount, as the fast path runs them (the compiled DuckDB SQL), on the
    sample rows, and hold every value to the single-enterprise evaluator's (rules.interpret, the
    closures ``rules.evaluate`` runs) row by row.

    The check is per expression, not per policy: how a policy's conditions combine into a status
    and its missing fields is the same code for every policy (held to the reference by the property
    and differential tests), so what a policy can add is an expression that fails or disagrees. A
    province's policies share most of their conditions, so each distinct expression is run once per
    sample (``_CHECKED``), which keeps a 46,000-policy load from running 46,000 queries."""
    sample = _sample(_province_of(policy.region), day)
    checks = [(c.id, c.tree, f"CAST(({c.sql}) AS BOOLEAN)", "conditions") for c in compiled.conditions]
    if policy.benefit is not None:
        checks.append(("金额", compiled.amount_tree, f"CAST(({compiled.amount_sql}) AS DECIMAL(18,4))", "benefit.expr"))
    pending = [c for c in checks if (sample.key, c[2]) not in _CHECKED]
    if not pending:
        return []
    from qinqing.rules.interpret import to_python

    try:
        with sample.lock:
            columns = sample.con.execute("SELECT " + ", ".join(sql for _, _, sql, _ in pending) + " FROM samples ORDER BY _row").fetchall()
    except duckdb.Error as error:
        with sample.lock:
            failing = _first_failing(sample, pending) or pending[0]
        return [Problem(f"试运行失败：{_what(failing[0])}在示例企业数据上执行出错（{_first_line(error)}）。",
                        path=failing[3])]
    for j, (cid, tree, sql, path) in enumerate(pending):
        try:
            fn = to_python(tree)
            expected = [fn(row) for row in sample.rows]
        except (RuleError, ArithmeticError) as error:
            return [Problem(f"试运行失败：{_what(cid)}单户评估出错（{error}）。", path=path)]
        for row, want, values in zip(sample.rows, expected, columns):
            got = values[j]
            same = _same_amount(want, got) if path == "benefit.expr" else want is got or want == got
            if not same:
                return [Problem(f"试运行失败：{_what(cid)}在企业 {row['uscc']} 上的批量结果（{got}）与单户评估"
                                f"（{want}）不一致，请联系平台维护人员。", path=path)]
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED.add((sample.key, sql))
    return []


def _what(condition_id: str) -> str:
    return "金额公式" if condition_id == "金额" else f"条件 {condition_id} "


def _first_failing(sample: "_Sample", pending: list) -> tuple | None:
    """The first expression that fails on its own (to name it when the combined query failed)."""
    for check in pending:
        try:
            sample.con.execute(f"SELECT {check[2]} FROM samples").fetchall()
        except duckdb.Error:
            return check
    return None


@dataclass(frozen=True)
class _Sample:
    key: tuple[str | None, date]
    con: duckdb.DuckDBPyConnection  # holds `samples`: the stored fields and the derived ones as of the day
    rows: list[dict]  # the same rows as the interpreter reads them (enterprise_values)
    lock: threading.Lock  # one DuckDB connection, shared by the web server's threads


@lru_cache(maxsize=32)
def _sample(province: str | None, day: date) -> _Sample:
    from qinqing.registry.derived import derived_sql
    from qinqing.rules.evaluate import enterprise_values

    table = sample_enterprises(province)
    con = duckdb.connect()
    # _row: the rows' order in ``rows`` (a parallel CREATE TABLE AS need not keep the input's order)
    con.register("_stored", table.append_column("_row", pa.array(range(table.num_rows), pa.int32())))
    derived = ", ".join(f'{e.sql(dialect="duckdb")} AS "{name}"' for name, e in derived_sql(day).items())
    con.execute(f"CREATE TABLE samples AS SELECT *, {derived} FROM _stored")
    con.unregister("_stored")
    rows = []
    for facts in table.to_pylist():
        row = enterprise_values({k: v for k, v in facts.items() if v is not None}, day)
        row["uscc"] = facts["uscc"]
        rows.append(row)
    return _Sample((province, day), con, rows, threading.Lock())


_CHECKED: set[tuple[tuple[str | None, date], str]] = set()  # (sample, expression SQL) that passed
_CHECKED_MAX = 200_000


def _same_amount(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Decimal(a) == Decimal(b)


@lru_cache(maxsize=64)
def sample_enterprises(province: str | None) -> pa.Table:
    """Synthetic enterprises (the project's generator, fixed seed) mostly in ``province``, plus one
    row that has nothing but its identity, so every condition also meets unknown inputs."""
    from qinqing.registry.errors import GenerateRefused
    from qinqing.registry.generator import Plan, draw_chunk

    try:
        batch = draw_chunk(Plan(_SAMPLE_SEED, province, date(2024, 12, 31)), 0, 0, DRY_RUN_ROWS)
    except GenerateRefused:  # a province the generator has no counties for: draw from the whole country
        batch = draw_chunk(Plan(_SAMPLE_SEED, None, date(2024, 12, 31)), 0, 0, DRY_RUN_ROWS)
    table = pa.Table.from_batches([batch])
    bare = {name: [None] for name in table.column_names}
    bare["uscc"] = ["91350000000000000X"]  # never a real code: the dry run only reads it back
    bare["name"] = ["（仅有名称的示例企业）"]
    return pa.concat_tables([table, pa.table(bare, schema=table.schema)])


def _province_of(region: str) -> str | None:
    if not region or region in (NATIONAL_REGION, "000000"):
        return None
    return region[:2] + "0000"


def _problem(error: RuleError, what: str) -> Problem:
    span = error.span
    message = f"{what}：{error.message}"
    if span is None:
        return Problem(message)
    return Problem(message, span.line, span.col, span.key or None)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
