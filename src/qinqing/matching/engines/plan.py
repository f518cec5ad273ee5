"""What the fast path needs from a compiled policy: each condition's SQL and fields, the amount SQL.

The SQL comes from the rules engine (``qinqing.rules.compile_policy`` for the DuckDB dialect), so
the kernel evaluates exactly the expressions every other engine evaluates; this module only reads
them out of the compiled policy and notes which registry fields each one reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
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
    valid_from: date | None = None  # the validity window, so that runs select plans as they select policies
    valid_to: date | None = None
    reads_as_of: bool = False  # the SQL holds the reference date (the policy reads ``as_of``)
    version: int | None = None  # the catalogue version it was compiled from, when it came from the catalogue

    @property
    def id(self) -> str:
        return self.policy_id

    @property
    def digest(self) -> str:
        """sha256 of the plan's canonical JSON (what a run records as the plan it matched with)."""
        return plan_digest(self)


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
    return PolicyPlan(policy.id, scope_of(policy), conditions, compiled.amount_sql, amount_fields,
                      getattr(policy, "valid_from", None), getattr(policy, "valid_to", None), reads_as_of(policy))


def reads_as_of(policy: Any) -> bool:
    """Whether any of the policy's expressions reads the built-in ``as_of`` (its plan then holds the date)."""
    from qinqing.rules.check import AS_OF
    from qinqing.rules.compile import typed

    texts = [(c.expr, "boolean") for c in policy.conditions]
    if policy.benefit is not None:
        texts.append((policy.benefit.expr, "numeric"))
    return any(c.name == AS_OF for text, want in texts for c in typed(text, want).find_all(exp.Column))


# -- stored plans -------------------------------------------------------------------------------------
PLAN_FORMAT = 1  # the JSON layout below


def plan_to_json(plan: PolicyPlan) -> str:
    """The plan as canonical JSON (sorted keys, no version: the row it is stored in has it)."""
    return json.dumps({
        "format": PLAN_FORMAT,
        "policy_id": plan.policy_id,
        "scope": [plan.scope.region_prefix, list(plan.scope.industries) if plan.scope.industries is not None else None],
        "conditions": [[c.id, c.sql, sorted(c.fields)] for c in plan.conditions],
        "amount_sql": plan.amount_sql,
        "amount_fields": sorted(plan.amount_fields),
        "valid_from": plan.valid_from.isoformat() if plan.valid_from else None,
        "valid_to": plan.valid_to.isoformat() if plan.valid_to else None,
        "reads_as_of": plan.reads_as_of,
    }, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def plan_from_json(text: str, version: int | None = None) -> PolicyPlan:
    data = json.loads(text)
    if data.get("format") != PLAN_FORMAT:
        raise ValueError(f"stored plan format {data.get('format')!r}, this code reads {PLAN_FORMAT}")
    region, industries = data["scope"]
    return PolicyPlan(
        data["policy_id"], Scope(region, tuple(industries) if industries is not None else None),
        tuple(ConditionPlan(i, sql, frozenset(fields)) for i, sql, fields in data["conditions"]),
        data["amount_sql"], frozenset(data["amount_fields"]),
        date.fromisoformat(data["valid_from"]) if data["valid_from"] else None,
        date.fromisoformat(data["valid_to"]) if data["valid_to"] else None,
        bool(data["reads_as_of"]), version)


def plan_digest(plan: PolicyPlan) -> str:
    """sha256 of the plan's canonical JSON: what a run records as the plan it matched with."""
    return hashlib.sha256(plan_to_json(plan).encode("utf-8")).hexdigest()


# The modules whose code decides what a plan holds: a change to any of them is a new compiler, and
# plans stored by the old one are compiled again (never read as if the new code had made them).
_COMPILER_MODULES = ("qinqing.rules.check", "qinqing.rules.compile", "qinqing.rules.safety", "qinqing.rules.types",
                     "qinqing.rules.inputs", "qinqing.rules.scope", "qinqing.rules.like", "qinqing.rules.parse",
                     "qinqing.registry.schema", "qinqing.registry.derived", "qinqing.matching.pairs",
                     "qinqing.matching.scope", __name__)


@lru_cache(maxsize=1)
def compiler_version() -> str:
    """A hash of the source of every module that shapes a plan, and of sqlglot's version."""
    import importlib
    import inspect

    h = hashlib.sha256(f"plan-format {PLAN_FORMAT}; sqlglot {sqlglot.__version__}".encode())
    for name in _COMPILER_MODULES:
        h.update(inspect.getsource(importlib.import_module(name)).encode("utf-8"))
    return h.hexdigest()[:32]


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
