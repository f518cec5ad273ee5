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

from qinqing.matching.scope import Scope, scope_of

DIALECT = "duckdb"


@dataclass(frozen=True)
class ConditionPlan:
    id: str
    sql: str  # DuckDB boolean expression over the facts relation; NULL means unknown
    fields: frozenset[str]  # the fields it reads (their NULLs are the "missing" of an unknown)


@dataclass(frozen=True)
class PolicyPlan:
    policy_id: str
    scope: Scope
    conditions: tuple[ConditionPlan, ...]
    amount_sql: str | None  # capped and rounded amount; read only where the policy is eligible
    amount_fields: frozenset[str] = frozenset()  # listed as missing when NULL and the amount is NULL

    @property
    def id(self) -> str:
        return self.policy_id


@lru_cache(maxsize=65536)
def fields_of(sql: str) -> frozenset[str]:
    """Column names an expression reads."""
    return frozenset(c.name for c in sqlglot.parse_one(sql, read=DIALECT).find_all(exp.Column))


def plan_policy(policy: Any, as_of: date) -> PolicyPlan:
    """Read the DuckDB SQL of each condition and of the amount out of the compiled policy.

    A derived field's "missing" closure includes the stored fields it is computed from, as in
    rules.compile._missing."""
    from qinqing.rules.compile import compile_policy

    compiled = compile_policy(policy, DIALECT, as_of)

    def closure(names: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        for name in names:
            out.add(name)
            if name in compiled.derived:
                out |= {c.name for c in compiled.derived[name].find_all(exp.Column)}
        return frozenset(out)

    conditions = tuple(ConditionPlan(c.id, c.sql, closure(c.fields)) for c in compiled.conditions)
    amount_fields = closure(c.name for c in compiled.amount_tree.find_all(exp.Column))
    return PolicyPlan(policy.id, scope_of(policy), conditions, compiled.amount_sql, amount_fields)


def plan_policies(policies: Iterable[Any], as_of: date) -> list[PolicyPlan]:
    """Plans of policies; a PolicyPlan given in their place is taken as it is."""
    return [p if isinstance(p, PolicyPlan) else plan_policy(p, as_of) for p in policies]


def plan_from_sql(policy_id: str, conditions: Sequence[tuple[str, str]], amount_sql: str | None,
                  scope: Scope = Scope("", None)) -> PolicyPlan:
    """A plan written directly in SQL (benchmarks' synthetic catalogues, kernel tests)."""
    return PolicyPlan(policy_id, scope, tuple(ConditionPlan(i, s, fields_of(s)) for i, s in conditions), amount_sql,
                      fields_of(amount_sql) if amount_sql else frozenset())
