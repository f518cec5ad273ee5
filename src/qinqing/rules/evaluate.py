"""One enterprise against one policy, with a per-condition trace for the portal.

It interprets the very trees the registry engines run (compile.py's lowered conditions and amount,
turned into Python closures by interpret.py), so what an enterprise is told can never differ from the
matching results; tests/matching/test_differential.py holds it to DuckDB on random registries. A
compiled policy is cached per (policy, as_of): a call is then plain Python, without SQL planning.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlglot import exp

from qinqing.registry.derived import derive
from qinqing.registry.schema import ALL_FIELDS, FIELDS_BY_NAME, STORED_NAMES, FieldType
from qinqing.rules.compile import CompiledPolicy, compile_policy
from qinqing.rules.errors import InputError
from qinqing.rules.inputs import stored_inputs, used_inputs
from qinqing.rules.interpret import Fn, to_python
from qinqing.rules.model import Policy

Status = Literal["eligible", "ineligible", "unknown"]
_MONEY_PLACES = Decimal("0.0001")  # DECIMAL(18,4) 万元, as the engines store money


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
    program = _program(policy, as_of)
    row = enterprise_values(facts, as_of, program.stored, program.derived)
    results = [fn(row) for fn in program.conditions]
    failed = [c.id for c, r in zip(program.compiled.conditions, results) if r is False]
    status: Status = "ineligible" if failed else "unknown" if None in results else "eligible"
    amount = program.amount(row) if status == "eligible" and program.amount is not None else None
    wanted: set[str] = set()
    if status == "unknown":
        for c, r in zip(program.compiled.conditions, results):
            if r is None:
                wanted |= _reads(c.fields, row)
    if status == "eligible" and amount is None and program.amount is not None:
        wanted |= _reads(program.amount_fields, row)
    missing = [name for name in _FIELD_ORDER if name in wanted and row.get(name) is None]
    trace = [
        ConditionTrace(c.id, c.clause, expr, r, {f: row.get(f) for f in c.fields})
        for c, expr, r in zip(program.compiled.conditions, program.sources, results)
    ]
    return Outcome(status, amount, failed, missing, trace)


def enterprise_values(
    facts: Mapping[str, Any], as_of: date, needed: tuple[str, ...] | None = None, derived: bool = True
) -> dict[str, Any]:
    """The stored fields of ``facts`` coerced to their types (absent = None), and the derived fields as of ``as_of``.

    ``needed`` limits coercion to the stored fields a policy reads (others stay None); every key is still
    checked. Raises InputError naming unknown or derived keys, or a value of the wrong type."""
    unknown = [k for k in facts if k not in _STORED]
    if unknown:
        derived_keys = [k for k in unknown if k in FIELDS_BY_NAME]
        hint = f"（{', '.join(derived_keys)} 是派生字段，由其他字段计算得出，请提供其来源字段）" if derived_keys else ""
        raise InputError(f"未知或不可直接提供的企业字段：{', '.join(unknown)}{hint}", unknown[0] if len(unknown) == 1 else None)
    row = dict.fromkeys(STORED_NAMES)
    for name in facts if needed is None else needed:
        row[name] = coerce(name, facts.get(name))
    if derived:
        row.update(derive(row, as_of))
    return row


_FIELD_ORDER = tuple(f.name for f in ALL_FIELDS)
_STORED = frozenset(STORED_NAMES)


def _reads(fields: tuple[str, ...], row: Mapping[str, Any]) -> set[str]:
    """The fields read, with the stored inputs each derived one reads for this enterprise."""
    out = set(fields)
    for name in fields:
        out |= used_inputs(name, row)
    return out


@dataclass(frozen=True)
class _Program:
    compiled: CompiledPolicy
    conditions: tuple[Fn, ...]
    sources: tuple[str, ...]  # each condition's expression as the author wrote it
    amount: Fn | None
    amount_fields: tuple[str, ...]
    stored: tuple[str, ...]  # the stored fields read, directly or through a derived field
    derived: bool  # whether any derived field is read


class _Cache:
    """Programs by policy object (a dict lookup per call) and, on a miss, by content.

    Policies are immutable; the object key holds the policy itself, so its id() cannot be reused while
    cached. Two equal policies loaded separately share one program through the content key."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.by_object: OrderedDict[tuple[int, date], tuple[Policy, _Program]] = OrderedDict()
        self.by_content: OrderedDict[tuple[str, str, date], _Program] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, policy: Policy, as_of: date) -> _Program:
        key = (id(policy), as_of)
        hit = self.by_object.get(key)
        if hit is not None and hit[0] is policy:
            return hit[1]
        content = (policy.id, hashlib.sha256(policy.model_dump_json().encode()).hexdigest(), as_of)
        with self.lock:
            program = self.by_content.get(content)
        if program is None:
            program = _build(policy, as_of)
        with self.lock:
            self.by_content[content] = program
            self.by_object[key] = (policy, program)
            for table in (self.by_content, self.by_object):
                while len(table) > self.size:
                    table.popitem(last=False)
        return program


_CACHE = _Cache()


def _program(policy: Policy, as_of: date) -> _Program:
    return _CACHE.get(policy, as_of)


def _build(policy: Policy, as_of: date) -> _Program:
    from qinqing.rules.scope import implicit_conditions

    compiled = compile_policy(policy, "duckdb", as_of)
    sources = {c.id: c.expr for c in [*implicit_conditions(policy), *policy.conditions]}
    amount_fields = tuple(n for n in _FIELD_ORDER if any(c.name == n for c in compiled.amount_tree.find_all(exp.Column)))
    read = {f for c in compiled.conditions for f in c.fields} | set(amount_fields)
    return _Program(
        compiled=compiled,
        conditions=tuple(to_python(c.tree) for c in compiled.conditions),
        sources=tuple(sources[c.id] for c in compiled.conditions),
        amount=to_python(compiled.amount_tree) if policy.benefit is not None else None,
        amount_fields=amount_fields,
        stored=tuple(n for n in STORED_NAMES if n in read or any(n in stored_inputs(f) for f in read)),
        derived=any(FIELDS_BY_NAME[f].derived for f in read),
    )


_ALREADY = {FieldType.MONEY: Decimal, FieldType.INTEGER: int, FieldType.NUMBER: float, FieldType.BOOLEAN: bool,
            FieldType.DATE: date, FieldType.STRING: str}  # fmt: skip


def _exact_money(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -4


def coerce(name: str, value: Any) -> Any:
    """A fact as the Python value its field's type expects (e.g. 50 → Decimal('50') for money)."""
    if value is None:
        return None
    kind = FIELDS_BY_NAME[name].type
    if type(value) is _ALREADY.get(kind) and (kind != FieldType.MONEY or _exact_money(value)):
        return value  # the common case: a registry row is typed already
    try:
        if kind == FieldType.MONEY:
            amount = Decimal(str(value))
            if not amount.is_finite() or amount.quantize(_MONEY_PLACES) != amount:
                raise InputError(f"字段 {name} 的金额“{value}”无效：金额以万元计，最多 4 位小数（1 元）", name)
            return amount
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
    except (ArithmeticError, ValueError, TypeError):  # the conversions' own, and the two raised above
        raise InputError(f"字段 {name} 的取值“{value}”不是{kind.value}类型", name) from None
