"""What the fast path needs from a compiled policy: each condition's SQL and fields, the amount SQL.

The SQL comes from the rules engine (``qinqing.rules.compile_policy`` for the DuckDB dialect), so
the kernel evaluates exactly the expressions every other engine evaluates; this module only reads
them out of the compiled policy and notes which registry fields each one reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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

    @property
    def id(self) -> str:
        return self.policy_id


def fields_of(sql: str) -> frozenset[str]:
    """Column names an expression reads."""
    return frozenset(c.name for c in sqlglot.parse_one(sql, read=DIALECT).find_all(exp.Column))


def plan_policy(policy: Any, as_of: date) -> PolicyPlan:
    from qinqing.rules import compile_policy

    compiled = compile_policy(policy, DIALECT, as_of)
    conditions = tuple(
        ConditionPlan(c.id, c.sql, frozenset(getattr(c, "fields", None) or fields_of(c.sql)))
        for c in compiled.conditions
    )
    return PolicyPlan(policy.id, scope_of(policy), conditions, compiled.amount_sql)


def plan_policies(policies: Iterable[Any], as_of: date) -> list[PolicyPlan]:
    """Plans of policies; a PolicyPlan given in their place is taken as it is."""
    return [p if isinstance(p, PolicyPlan) else plan_policy(p, as_of) for p in policies]


def plan_from_sql(policy_id: str, conditions: Sequence[tuple[str, str]], amount_sql: str | None,
                  scope: Scope = Scope("", None)) -> PolicyPlan:
    """A plan written directly in SQL (benchmarks' synthetic catalogues, kernel tests)."""
    return PolicyPlan(policy_id, scope, tuple(ConditionPlan(i, s, fields_of(s)) for i, s in conditions), amount_sql)
