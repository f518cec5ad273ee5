"""One enterprise against one policy, with a per-condition trace for the portal.

It runs the very SQL the registry engines run (the DuckDB rendering, on a one-row table), so what
an enterprise is told can never differ from the matching results.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

import duckdb
import pyarrow as pa

from qinqing.registry.schema import FIELDS_BY_NAME, STORED_NAMES, FieldType
from qinqing.rules.compile import compile_policy
from qinqing.rules.model import Policy
from qinqing.rules.types import enterprise_schema

Status = Literal["eligible", "ineligible", "unknown"]
_local = threading.local()


@dataclass(frozen=True)
class ConditionTrace:
    id: str
    clause: str
    expr: str
    result: bool | None  # True 符合, False 不符合, None 未知
    values: dict[str, Any] = field(default_factory=dict)  # the fields it read, as seen (derived included)


@dataclass(frozen=True)
class Outcome:
    status: Status
    amount: Decimal | None
    failed: list[str]
    missing: list[str]
    trace: list[ConditionTrace]


def evaluate(policy: Policy, facts: Mapping[str, Any], as_of: date) -> Outcome:
    """The outcome for one enterprise whose stored fields are ``facts`` (absent = missing)."""
    row = enterprise_row(facts)
    compiled, sql = _compiled(policy, as_of)
    con = _connection()
    con.register("one_enterprise", row)
    try:
        result = con.sql(sql).to_arrow_table().to_pylist()[0]
    finally:
        con.unregister("one_enterprise")
    trace = [
        ConditionTrace(c.id, c.clause, _source_expr(policy, c.id, c.tree), result[c.column], {f: result[f] for f in c.fields})
        for c in compiled.conditions
    ]
    return Outcome(result["status"], result["amount"], list(result["failed"]), list(result["missing"]), trace)


@lru_cache(maxsize=1024)
def _compiled(policy: Policy, as_of: date):
    compiled = compile_policy(policy, "duckdb", as_of)
    read = sorted({f for c in compiled.conditions for f in c.fields}, key=list(FIELDS_BY_NAME).index)
    return compiled, compiled.select_sql("one_enterprise", extra_columns=tuple(read))


def enterprise_row(facts: Mapping[str, Any]) -> pa.Table:
    """A one-row Arrow table of every stored field; raises ValueError naming unknown or derived keys."""
    unknown = [k for k in facts if k not in STORED_NAMES]
    if unknown:
        derived = [k for k in unknown if k in FIELDS_BY_NAME]
        hint = f"（{', '.join(derived)} 是派生字段，由其他字段计算得出，请提供其来源字段）" if derived else ""
        raise ValueError(f"未知或不可直接提供的企业字段：{', '.join(unknown)}{hint}")
    schema = enterprise_schema()
    arrays = [pa.array([coerce(name, facts.get(name))], schema.field(name).type) for name in schema.names]
    return pa.Table.from_arrays(arrays, schema=schema)


def coerce(name: str, value: Any) -> Any:
    """A fact as the Python value its field's type expects (e.g. 50 → Decimal('50') for money)."""
    if value is None:
        return None
    kind = FIELDS_BY_NAME[name].type
    try:
        if kind == FieldType.MONEY:
            return Decimal(str(value))
        if kind == FieldType.INTEGER:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind == FieldType.NUMBER:
            return float(value)
        if kind == FieldType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
        if kind == FieldType.DATE:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        return str(value)
    except (ValueError, ArithmeticError):
        raise ValueError(f"字段 {name} 的取值“{value}”不是{kind.value}类型") from None


def _source_expr(policy: Policy, condition_id: str, tree) -> str:
    for c in policy.conditions:
        if c.id == condition_id:
            return c.expr
    from qinqing.rules.scope import implicit_conditions

    return next(c.expr for c in implicit_conditions(policy) if c.id == condition_id)


def _connection() -> duckdb.DuckDBPyConnection:
    con = getattr(_local, "con", None)
    if con is None:
        con = _local.con = duckdb.connect()
    return con
