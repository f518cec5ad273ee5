"""What the fast path needs from a compiled policy: each condition's SQL and fields, the amount SQL.

The SQL comes from the rules engine (``qinqing.rules.compile_policy`` for the DuckDB dialect), so
the kernel evaluates exactly the expressions every other engine evaluates; this module only reads
them out of the compiled policy and notes which registry fields each one reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import date
from typing import Any

import sqlglot
from sqlglot import exp

from qinqing.matching.pairs import GUARDED_KEYS
from qinqing.matching.scope import Scope, scope_of

DIALECT = "duckdb"


@dataclass(frozen=True)
class ConditionPlan:
    id: str
    sql: str  # DuckDB boolean expression over the facts relation; NULL means unknown
    fields: frozenset[str]  # missing keys (pairs.MISSING_BIT) it reads: what an unknown may list


@dataclass(frozen=True)
class PolicyPlan:
    policy_id: str
    scope: Scope
    conditions: tuple[ConditionPlan, ...]
    amount_sql: str | None  # capped and rounded amount; read only where the policy is eligible
    amount_fields: frozenset[str] = frozenset()  # missing keys listed when NULL and the amount is NULL

    @property
    def id(self) -> str:
        return self.policy_id


@lru_cache(maxsize=65536)
def fields_of(sql: str) -> frozenset[str]:
    """Column names an expression reads."""
    return frozenset(c.name for c in sqlglot.parse_one(sql, read=DIALECT).find_all(exp.Column))


def plan_policy(policy: Any, as_of: date) -> PolicyPlan:
    """Read the DuckDB SQL of each condition and of the amount out of the compiled policy, with the
    missing keys of the fields each reads (``missing_keys``)."""
    from qinqing.rules.compile import compile_policy

    compiled = compile_policy(policy, DIALECT, as_of)
    conditions = tuple(ConditionPlan(c.id, c.sql, missing_keys(c.fields)) for c in compiled.conditions)
    amount_fields = missing_keys(c.name for c in compiled.amount_tree.find_all(exp.Column))
    return PolicyPlan(policy.id, scope_of(policy), conditions, compiled.amount_sql, amount_fields)


def missing_keys(names: Iterable[str]) -> frozenset[str]:
    """What a NULL may be listed as missing for, when an expression reading ``names`` is unknown: each
    field itself and, for a derived field, the stored fields it reads (rules.inputs) — always, or under
    the rules engine's guard as a guarded key ("stored@derived", see pairs.GUARDED_KEYS)."""
    from qinqing.rules.inputs import input_guard, stored_inputs

    out: set[str] = set()
    for name in names:
        out.add(name)
        for stored in stored_inputs(name):
            out.add(stored if input_guard(name, stored) is None else f"{stored}@{name}")
    return frozenset(out)


def null_sql(key: str) -> str:
    """DuckDB SQL that is TRUE when a missing key's bit is set for the row: the field is NULL (and, for
    a guarded key, the rules engine's input_guard holds; it may read the helper columns of ``helpers``)."""
    if key not in GUARDED_KEYS:
        return f'{_quote(key)} IS NULL'
    from qinqing.rules.inputs import input_guard

    derived, stored = GUARDED_KEYS[key]
    return f"({_quote(stored)} IS NULL AND {input_guard(derived, stored).sql(dialect=DIALECT)})"


def helpers(keys: Iterable[str]) -> dict[str, str]:
    """Helper columns (name → DuckDB SQL over stored fields) the null tests of ``keys`` read."""
    from qinqing.rules.inputs import SIZE_ROW, size_row_sql

    return {SIZE_ROW: size_row_sql().sql(dialect=DIALECT)} if any(k in GUARDED_KEYS for k in keys) else {}


def columns_of(keys: Iterable[str]) -> frozenset[str]:
    """The fields the null tests of ``keys`` read, helper columns replaced by what they read."""
    keys = list(keys)
    out: set[str] = set()
    for key in keys:
        out |= fields_of(null_sql(key))
    extra = helpers(keys)
    for name, sql in extra.items():
        out.discard(name)
        out |= fields_of(sql)
    return frozenset(out)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def plan_policies(policies: Iterable[Any], as_of: date) -> list[PolicyPlan]:
    """Plans of policies; a PolicyPlan given in their place is taken as it is."""
    return [p if isinstance(p, PolicyPlan) else plan_policy(p, as_of) for p in policies]


def plan_from_sql(policy_id: str, conditions: Sequence[tuple[str, str]], amount_sql: str | None,
                  scope: Scope = Scope("", None)) -> PolicyPlan:
    """A plan written directly in SQL (benchmarks' synthetic catalogues, kernel tests)."""
    return PolicyPlan(policy_id, scope, tuple(ConditionPlan(i, s, fields_of(s)) for i, s in conditions), amount_sql,
                      fields_of(amount_sql) if amount_sql else frozenset())
