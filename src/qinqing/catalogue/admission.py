"""The gate every policy passes before it is saved or published: it must compile for every engine,
its amount must stay within what the engines can hold, and a dry run over sample enterprises must
give the same decisions on the embedded engine as the single-enterprise evaluator.

A policy that passes the language checks (``rules.load``) but fails here never reaches the
catalogue, so a published policy can always be matched, previewed and explained.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

import duckdb
import pyarrow as pa

from qinqing.catalogue.errors import Problem
from qinqing.rules import RuleError, compile_policy, evaluate
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
    """Run the compiled SQL on sample rows; it must run, and agree with ``rules.evaluate`` row by row."""
    samples = sample_enterprises(_province_of(policy.region))
    con = duckdb.connect()
    try:
        con.register("samples", samples)
        try:
            rows = con.execute(compiled.select_sql("samples")).fetchall()
        except duckdb.Error as error:
            return [Problem(f"试运行失败：在示例企业数据上执行出错（{_first_line(error)}）。", path="benefit.expr")]
    finally:
        con.close()
    facts_by_uscc = {row["uscc"]: row for row in samples.to_pylist()}
    for uscc, _policy_id, status, amount, *_rest in rows:
        facts = {k: v for k, v in facts_by_uscc[uscc].items() if v is not None}
        try:
            outcome = evaluate(policy, facts, day)
        except (RuleError, ArithmeticError) as error:
            return [Problem(f"试运行失败：单户评估出错（{error}）。")]
        expected = outcome.amount if outcome.status == "eligible" else None
        if outcome.status != status or not _same_amount(expected, amount):
            return [Problem(f"试运行失败：企业 {uscc} 的批量结果（{status}，{amount}）与单户评估"
                            f"（{outcome.status}，{expected}）不一致，请联系平台维护人员。")]
    return []


def _same_amount(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Decimal(a) == Decimal(b)


@lru_cache(maxsize=64)
def sample_enterprises(province: str | None) -> pa.Table:
    """Synthetic enterprises (the project's generator, fixed seed) mostly in ``province``, plus one
    row that has nothing but its identity, so every condition also meets unknown inputs."""
    from qinqing.registry.generator import Plan, draw_chunk

    try:
        batch = draw_chunk(Plan(_SAMPLE_SEED, province, date(2024, 12, 31)), 0, 0, DRY_RUN_ROWS)
    except ValueError:  # a province the generator has no counties for: draw from the whole country
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
