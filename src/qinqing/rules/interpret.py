"""A compiled (lowered) sqlglot tree → a Python function of one enterprise row.

``evaluate()`` runs the very tree that compile.py renders for DuckDB and Spark, not the source, so the
guards of lowering (NULL-guarded LEAST/GREATEST and CASE, DOUBLE division with NULLIF, explicit casts,
the capped and rounded DECIMAL(18,4) amount) are followed here as the engines follow them. Each node is
turned into a closure once per compiled policy; a call is then plain Python.

Values: None is SQL NULL (unknown); integers are ``int``, exact decimals ``Decimal``, DOUBLE ``float``,
dates ``datetime.date``. Logic is Kleene's; an operator with a NULL input gives NULL, except IS NULL,
AND/OR decided by a known side, COALESCE and CASE (which picks the first WHEN that is TRUE, as SQL does;
lowering has already made an unknown WHEN give NULL).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal
from typing import Any

from sqlglot import exp

from qinqing.rules.check import KIND
from qinqing.rules.errors import CompileError
from qinqing.rules.like import like_matcher
from qinqing.rules.types import Kind

Row = Mapping[str, Any]
Fn = Callable[[Row], Any]
# Wide enough that no product of two DECIMAL(18,4) values or their cast to DECIMAL(38,10) is rounded.
DECIMAL_CONTEXT = Context(prec=80, rounding=ROUND_HALF_UP)  # half away from zero, as ROUND and CAST do
_UNITS = [Decimal(1).scaleb(-places) for places in range(39)]
_EXACT = {exp.Add: DECIMAL_CONTEXT.add, exp.Sub: DECIMAL_CONTEXT.subtract, exp.Mul: DECIMAL_CONTEXT.multiply}

_COMPARE = {exp.EQ: operator.eq, exp.NEQ: operator.ne, exp.GT: operator.gt,
            exp.GTE: operator.ge, exp.LT: operator.lt, exp.LTE: operator.le}  # fmt: skip
_ARITHMETIC = {exp.Add: operator.add, exp.Sub: operator.sub, exp.Mul: operator.mul}


def to_python(node: exp.Expression) -> Fn:
    """A function computing ``node`` for a row of every stored and derived field (None = unknown)."""
    handler = _HANDLERS.get(type(node))
    if handler is None:
        raise CompileError(f"无法在 Python 中求值：{type(node).__name__}（{node.sql()[:60]}）")
    return handler(node)


def constant(node: exp.Expression) -> Any:
    """The value of a node that reads no field (a literal, a date, a cast literal)."""
    return to_python(node)({})


def to_decimal(value: Any, places: int) -> Decimal:
    """CAST(value AS DECIMAL(p, places)): a DOUBLE by its shortest decimal text, then half up, as the engines do."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    return DECIMAL_CONTEXT.quantize(Decimal(value), _UNITS[places])


def _kind(node: exp.Expression) -> Kind | None:
    return node.meta.get(KIND) if node._meta else None  # noqa: SLF001


def _const(value: Any) -> Fn:
    return lambda row: value


def _paren(node: exp.Paren) -> Fn:
    return to_python(node.this)


def _column(node: exp.Column) -> Fn:
    name = node.name
    return lambda row: row.get(name)


def _literal(node: exp.Literal) -> Fn:
    if node.is_string:
        return _const(node.this)
    text = node.this
    return _const(Decimal(text) if "." in text or _kind(node) == Kind.DECIMAL else int(text))


def _boolean(node: exp.Boolean) -> Fn:
    return _const(bool(node.this))


def _null(node: exp.Null) -> Fn:
    return _const(None)


def _cast(node: exp.Cast) -> Fn:
    to: exp.DataType = node.to
    inner = to_python(node.this)
    if to.is_type(exp.DataType.Type.DATE):
        if isinstance(node.this, exp.Literal) and node.this.is_string:
            return _const(date.fromisoformat(node.this.this))
        return inner
    if to.is_type(exp.DataType.Type.DOUBLE):
        return lambda row: None if (v := inner(row)) is None else float(v)
    if to.is_type(exp.DataType.Type.DECIMAL):
        params = to.expressions
        places = int(params[1].this.this) if len(params) > 1 else 0
        return lambda row: None if (v := inner(row)) is None else to_decimal(v, places)
    if to.is_type(exp.DataType.Type.INT, exp.DataType.Type.BIGINT):
        return lambda row: None if (v := inner(row)) is None else int(to_decimal(v, 0))
    raise CompileError(f"无法在 Python 中求值的类型转换：{to.sql()}")


def _not(node: exp.Not) -> Fn:
    inner = to_python(node.this)
    return lambda row: None if (v := inner(row)) is None else not v


def _and(node: exp.And) -> Fn:
    left, right = to_python(node.this), to_python(node.expression)

    def f(row: Row) -> bool | None:
        a = left(row)
        if a is False:
            return False
        b = right(row)
        if b is False:
            return False
        return None if a is None or b is None else True

    return f


def _or(node: exp.Or) -> Fn:
    left, right = to_python(node.this), to_python(node.expression)

    def f(row: Row) -> bool | None:
        a = left(row)
        if a is True:
            return True
        b = right(row)
        if b is True:
            return True
        return None if a is None or b is None else False

    return f


def _binary(op: Callable[[Any, Any], Any], left: Fn, right: Fn) -> Fn:
    def f(row: Row) -> Any:
        a = left(row)
        if a is None:
            return None
        b = right(row)
        return None if b is None else op(a, b)

    return f


def _compare(node: exp.Expression) -> Fn:
    return _binary(_COMPARE[type(node)], to_python(node.this), to_python(node.expression))


def _arithmetic(node: exp.Expression) -> Fn:
    op = _ARITHMETIC[type(node)]
    if _kind(node) == Kind.NUMBER:  # DOUBLE arithmetic: an exact operand is converted, as SQL does
        return _binary(lambda a, b: op(float(a), float(b)), to_python(node.this), to_python(node.expression))
    exact = _EXACT[type(node)]

    def f(a: Any, b: Any) -> Any:
        # ints stay ints; with a Decimal operand the wide context keeps every digit
        return exact(Decimal(a), Decimal(b)) if isinstance(a, Decimal) or isinstance(b, Decimal) else op(a, b)

    return _binary(f, to_python(node.this), to_python(node.expression))


def _div(node: exp.Div) -> Fn:
    # Lowered: both sides DOUBLE and the divisor wrapped in NULLIF(…, 0); the zero test stays for safety.
    return _binary(lambda a, b: None if b == 0 else float(a) / float(b), to_python(node.this), to_python(node.expression))


def _neg(node: exp.Neg) -> Fn:
    inner = to_python(node.this)
    return lambda row: None if (v := inner(row)) is None else DECIMAL_CONTEXT.minus(v) if isinstance(v, Decimal) else -v


def _in(node: exp.In) -> Fn:
    subject = to_python(node.this)
    items = [to_python(e) for e in node.expressions]

    def f(row: Row) -> bool | None:
        v = subject(row)
        if v is None:
            return None
        unknown = False
        for item in items:
            w = item(row)
            if w is None:
                unknown = True
            elif v == w:
                return True
        return None if unknown else False

    return f


def _between(node: exp.Between) -> Fn:
    subject, low, high = to_python(node.this), to_python(node.args["low"]), to_python(node.args["high"])

    def f(row: Row) -> bool | None:
        v, lo, hi = subject(row), low(row), high(row)
        above = None if v is None or lo is None else v >= lo
        below = None if v is None or hi is None else v <= hi
        if above is False or below is False:
            return False
        return None if above is None or below is None else True

    return f


def _is(node: exp.Is) -> Fn:
    if not isinstance(node.expression, exp.Null):
        raise CompileError(f"无法在 Python 中求值：{node.sql()[:60]}")
    inner = to_python(node.this)
    return lambda row: inner(row) is None


def _case(node: exp.Case) -> Fn:
    if node.this is not None:
        raise CompileError("CASE x WHEN … is not part of the compiled language")
    branches = [(to_python(b.this), to_python(b.args["true"])) for b in node.args["ifs"]]
    default = to_python(node.args["default"]) if node.args.get("default") is not None else _const(None)

    def f(row: Row) -> Any:
        for when, then in branches:
            if when(row) is True:
                return then(row)
        return default(row)

    return f


def _like(node: exp.Like) -> Fn:
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise CompileError("LIKE needs a string literal pattern")
    matches = like_matcher(pattern.this)  # no backtracking: a regex of .* per % was exponential in the % count
    inner = to_python(node.this)
    return lambda row: None if (v := inner(row)) is None else matches(v)


def _starts_with(node: exp.StartsWith) -> Fn:
    return _binary(str.startswith, to_python(node.this), to_python(node.expression))


def _extreme(node: exp.Expression) -> Fn:
    # The engines' own LEAST/GREATEST skip NULLs; lowering has wrapped them in the any-NULL guard.
    pick = min if isinstance(node, exp.Least) else max
    args = [to_python(a) for a in [node.this, *node.expressions]]

    def f(row: Row) -> Any:
        values = [v for a in args if (v := a(row)) is not None]
        return pick(values) if values else None

    return f


def _coalesce(node: exp.Coalesce) -> Fn:
    args = [to_python(a) for a in [node.this, *node.expressions]]

    def f(row: Row) -> Any:
        for a in args:
            v = a(row)
            if v is not None:
                return v
        return None

    return f


def _abs(node: exp.Abs) -> Fn:
    inner = to_python(node.this)
    return lambda row: None if (v := inner(row)) is None else DECIMAL_CONTEXT.abs(v) if isinstance(v, Decimal) else abs(v)


def _round(node: exp.Round) -> Fn:
    digits = node.args.get("decimals")
    places = int(constant(digits)) if digits is not None else 0
    inner = to_python(node.this)

    def f(row: Row) -> Any:
        v = inner(row)
        if v is None or isinstance(v, int):
            return v
        return to_decimal(v, places)  # half away from zero, on the exact value

    return f


def _integral(rounding: str, floor: Callable[[float], int]) -> Callable[[exp.Expression], Fn]:
    def build(node: exp.Expression) -> Fn:
        inner = to_python(node.this)

        def f(row: Row) -> Any:
            v = inner(row)
            if v is None or isinstance(v, int):
                return v
            if isinstance(v, float):
                return float(floor(v))
            return v.to_integral_value(rounding=rounding)

        return f

    return build


def _year(node: exp.Year) -> Fn:
    inner = to_python(node.this)
    return lambda row: None if (v := inner(row)) is None else v.year


def _nullif(node: exp.Nullif) -> Fn:
    value, other = to_python(node.this), to_python(node.expression)

    def f(row: Row) -> Any:
        v = value(row)
        if v is None:
            return None
        w = other(row)
        return None if w is not None and v == w else v

    return f


_HANDLERS: dict[type[exp.Expression], Callable[[Any], Fn]] = {
    exp.Paren: _paren, exp.Column: _column, exp.Literal: _literal, exp.Boolean: _boolean, exp.Null: _null,
    exp.Cast: _cast, exp.Not: _not, exp.And: _and, exp.Or: _or,
    **{t: _compare for t in _COMPARE}, **{t: _arithmetic for t in _ARITHMETIC},
    exp.Div: _div, exp.Neg: _neg, exp.In: _in, exp.Between: _between, exp.Is: _is, exp.Case: _case,
    exp.Like: _like, exp.StartsWith: _starts_with, exp.Least: _extreme, exp.Greatest: _extreme,
    exp.Coalesce: _coalesce, exp.Abs: _abs, exp.Round: _round, exp.Year: _year, exp.Nullif: _nullif,
    exp.Floor: _integral(ROUND_FLOOR, math.floor), exp.Ceil: _integral(ROUND_CEILING, math.ceil),
}  # fmt: skip
