"""The slow, obvious evaluator: walks the checked source tree in Python. Used only by tests, to cross-check
every engine (it shares no code with compile.py's lowering)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from sqlglot import exp

from qinqing.registry.derived import derive
from qinqing.registry.schema import ALL_FIELDS, STORED_NAMES
from qinqing.registry.standards import industries, size
from qinqing.rules.check import check_expression, fields_of, kind_of
from qinqing.rules.evaluate import coerce
from qinqing.rules.model import Policy
from qinqing.rules.scope import implicit_conditions
from qinqing.rules.types import Kind

_CMP = {exp.EQ: lambda a, b: a == b, exp.NEQ: lambda a, b: a != b, exp.GT: lambda a, b: a > b,
        exp.GTE: lambda a, b: a >= b, exp.LT: lambda a, b: a < b, exp.LTE: lambda a, b: a <= b}  # fmt: skip
_ARITH = {exp.Add: lambda a, b: a + b, exp.Sub: lambda a, b: a - b, exp.Mul: lambda a, b: a * b}


def reference_outcome(policy: Policy, facts: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """status, amount, failed, missing for one enterprise, computed the slow way."""
    stored = {name: coerce(name, facts.get(name)) for name in STORED_NAMES}
    values = {**stored, **derive(stored, as_of), "as_of": as_of}
    return _outcome(policy, stored, values, as_of)


def _outcome(policy: Policy, stored: Mapping[str, Any], values: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    results, reads = [], []
    for c in [*implicit_conditions(policy), *policy.conditions]:
        tree = _checked(c.expr, "boolean")
        results.append((c.id, value(tree, values)))
        reads.append(_fields(c.expr, "boolean"))
    amount, benefit_reads = None, []
    if policy.benefit is not None:
        tree = _checked(policy.benefit.expr, "numeric")
        benefit_reads = _fields(policy.benefit.expr, "numeric")
        amount = _money(value(tree, values), policy)
    failed = [cid for cid, r in results if r is False]
    status = "ineligible" if failed else "unknown" if any(r is None for _, r in results) else "eligible"
    deps = _dependencies(as_of)
    wanted: set[str] = set()
    if status == "unknown":
        for (_, r), names in zip(results, reads):
            if r is None:
                wanted |= {d for n in names for d in _inputs(n, deps, stored)}
    if status == "eligible" and amount is None:
        wanted |= {d for n in benefit_reads for d in _inputs(n, deps, stored)}
    missing = [f.name for f in ALL_FIELDS if f.name in wanted and values.get(f.name) is None]
    return {"status": status, "amount": amount if status == "eligible" else None, "failed": failed, "missing": missing}


@lru_cache(maxsize=4096)
def _checked(text: str, want: str) -> exp.Expression:
    return check_expression(text, want, max_length=None)  # type: ignore[arg-type]


@lru_cache(maxsize=4096)
def _fields(text: str, want: str) -> list[str]:
    return fields_of(_checked(text, want))


@lru_cache(maxsize=16)
def _dependencies(as_of: date) -> dict[str, set[str]]:
    from qinqing.registry.derived import derived_sql

    return {name: {name} | {c.name for c in e.find_all(exp.Column)} for name, e in derived_sql(as_of).items()}


def _inputs(name: str, deps: dict[str, set[str]], stored: Mapping[str, Any]) -> set[str]:
    """A field and the stored fields it is computed from; for size_class only its industry row's indicators."""
    inputs = deps.get(name, {name})
    code = stored["industry_code"]
    if name == "size_class" and code is not None:
        row = size.row_for(code) if industries.normalise(code) == code else None  # placed only as stored
        inputs = {name, "industry_code", *(row.thresholds if row else ())}
    return inputs


def _money(amount: Any, policy: Policy) -> Decimal | None:
    if amount is None:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        amount = _exact(amount)
        cap = policy.benefit.cap
        if cap is not None and amount > cap:
            amount = Decimal(cap)
        digits = Decimal(1).scaleb(-policy.benefit.rounding.digits)
        return amount.quantize(digits, ROUND_HALF_UP).quantize(Decimal("0.0001"))


def _exact(x: Any) -> Decimal:
    if isinstance(x, float):
        return Decimal(repr(x)).quantize(Decimal("1e-10"), ROUND_HALF_UP)
    return Decimal(x)


def value(node: exp.Expression, row: Mapping[str, Any]) -> Any:  # noqa: C901 - one branch per construct
    """The value of a checked expression for ``row`` (None = unknown)."""
    kind = kind_of(node) if node._meta and "kind" in node.meta else None  # noqa: SLF001
    if isinstance(node, exp.Paren):
        return value(node.this, row)
    if isinstance(node, exp.Column):
        return row.get(node.name)
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else (int(node.this) if kind == Kind.INTEGER else Decimal(node.this))
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Cast):
        return date.fromisoformat(node.this.this)
    if isinstance(node, exp.Not):
        v = value(node.this, row)
        return None if v is None else not v
    if isinstance(node, exp.And):
        a, b = value(node.this, row), value(node.expression, row)
        return False if a is False or b is False else None if a is None or b is None else True
    if isinstance(node, exp.Or):
        a, b = value(node.this, row), value(node.expression, row)
        return True if a is True or b is True else None if a is None or b is None else False
    if type(node) in _CMP:
        return _compare(_CMP[type(node)], node.this, node.expression, row)
    if isinstance(node, exp.Between):
        low = _compare(_CMP[exp.GTE], node.this, node.args["low"], row)
        high = _compare(_CMP[exp.LTE], node.this, node.args["high"], row)
        return False if low is False or high is False else None if low is None or high is None else True
    if isinstance(node, exp.In):
        hits = [_compare(_CMP[exp.EQ], node.this, item, row) for item in node.expressions]
        return True if True in hits else None if None in hits else False
    if isinstance(node, exp.Is):
        return value(node.this, row) is None
    if type(node) in _ARITH:
        a, b = _numbers(kind, value(node.this, row), value(node.expression, row))
        return None if a is None or b is None else _ARITH[type(node)](a, b)
    if isinstance(node, exp.Div):
        a, b = value(node.this, row), value(node.expression, row)
        return None if a is None or b is None or b == 0 else float(a) / float(b)
    if isinstance(node, exp.Neg):
        v = value(node.this, row)
        return None if v is None else -v
    if isinstance(node, exp.Case):
        for branch in node.args["ifs"]:
            c = value(branch.this, row)
            if c is None:
                return None
            if c:
                return _numbers(kind, value(branch.args["true"], row))[0]
        return _numbers(kind, value(node.args["default"], row))[0]
    if isinstance(node, exp.Like):
        s = value(node.this, row)
        return None if s is None else _like(s, node.expression.this)
    if isinstance(node, exp.StartsWith):
        s, p = value(node.this, row), value(node.expression, row)
        return None if s is None or p is None else s.startswith(p)
    if isinstance(node, (exp.Least, exp.Greatest)):
        args = _numbers(kind, *[value(a, row) for a in [node.this, *node.expressions]])
        return None if None in args else (min if isinstance(node, exp.Least) else max)(args)
    if isinstance(node, exp.Coalesce):
        args = _numbers(kind, *[value(a, row) for a in [node.this, *node.expressions]])
        return next((a for a in args if a is not None), None)
    if isinstance(node, exp.Abs):
        v = value(node.this, row)
        return None if v is None else abs(v)
    if isinstance(node, exp.Round):
        v = value(node.this, row)
        digits = int(node.args["decimals"].this) if node.args.get("decimals") else 0
        if v is None or isinstance(v, int):
            return v
        return _exact(v).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    if isinstance(node, (exp.Floor, exp.Ceil)):
        v = value(node.this, row)
        if v is None or isinstance(v, int):
            return v
        return _exact(v).to_integral_value(ROUND_FLOOR if isinstance(node, exp.Floor) else ROUND_CEILING)
    if isinstance(node, exp.Year):
        d = value(node.this, row)
        return None if d is None else d.year
    raise NotImplementedError(type(node).__name__)


def _compare(op, left: exp.Expression, right: exp.Expression, row: Mapping[str, Any]) -> bool | None:
    a, b = value(left, row), value(right, row)
    if a is None or b is None:
        return None
    if isinstance(a, float) or isinstance(b, float):
        a, b = float(a), float(b)  # engines compare DOUBLE with DECIMAL as DOUBLE
    return op(a, b)


def _like(text: str, pattern: str) -> bool:
    """LIKE by simulating the pattern as an automaton: the set of pattern positions reachable after each
    character (len(text) × len(pattern) steps; rules.like does it another way, without the set)."""

    def closure(states: set[int]) -> set[int]:
        out = set(states)
        for i in sorted(states):
            j = i
            while j < len(pattern) and pattern[j] == "%":
                j += 1
                out.add(j)
        return out

    states = closure({0})
    for ch in text:
        step = set()
        for i in states:
            if i < len(pattern):
                if pattern[i] == "%":
                    step.add(i)
                elif pattern[i] == "_" or pattern[i] == ch:
                    step.add(i + 1)
        states = closure(step)
        if not states:
            return False
    return len(pattern) in states


def _numbers(kind: Kind | None, *values: Any) -> list[Any]:
    if kind == Kind.NUMBER:
        return [None if v is None else float(v) for v in values]
    return list(values)
