"""The range of a policy's amount, proved by interval arithmetic over its checked expression tree.

For every enterprise whose fields lie in their declared ranges (registry.schema.VALUE_RANGES),
``amount_range`` encloses the amount the engines compute: [low, high] in 万元, after the cap and the
rounding, with outward rounding everywhere (DOUBLE steps are widened by more than their rounding error).
``check_amount_bounds`` refuses a policy whose amount can be negative for an eligible enterprise or can
overflow for any enterprise (docs/policy-format.md, "金额范围检查").

Two analyses, because the engines compute the amount on every row before the eligibility test:
- over *all* enterprises (the declared box): overflow of DECIMAL(18,4), of each intermediate type the
  engine picks (DuckDB's DECIMAL widths, INT32/INT64) and of compile.py's casts to DECIMAL(38,10);
- over *eligible* enterprises: the box narrowed by the policy's conditions, and linear relations they
  imply (``a - b >= c``, ``growth >= g`` ⇒ ``a - (1+g)·b >= 0``); a negative low bound is refused here.

Sound, not exact: a division whose divisor may be 0 is bounded by the divisor's smallest non-zero step
(1 for integers, 10^-scale for exact decimals; x/0 is NULL) and unbounded for a DOUBLE divisor; CASE
is the hull of its branches (WHEN conditions do not narrow them); anything unknown is unbounded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal
from pathlib import Path

from sqlglot import exp

from qinqing.registry.derived import _RATIOS
from qinqing.registry.schema import FIELDS_BY_NAME, VALUE_RANGES, YEAR_RANGE
from qinqing.rules.check import AS_OF, KIND, check_expression
from qinqing.rules.errors import AmountRangeError, Span
from qinqing.rules.model import Policy
from qinqing.rules.parse import node_span
from qinqing.rules.types import Kind

INF = Decimal("Infinity")
MONEY_MAX = Decimal("99999999999999.9999")  # DECIMAL(18,4), the amount column
EXACT_LIMIT = Decimal(10) ** 28  # DECIMAL(38,10): compile.py casts a DOUBLE to it before ROUND/FLOOR/CEIL and the cap
INT_LIMIT = {32: Decimal(2**31 - 1), 64: Decimal(2**63 - 1)}
_DOWN = Context(prec=60, rounding=ROUND_FLOOR)
_UP = Context(prec=60, rounding=ROUND_CEILING)
_REL = Decimal("1e-15")  # > 2**-53, the relative error of one IEEE double operation or conversion
_TINY = Decimal("1e-300")  # subnormal noise
_WILD = Decimal("1e300")  # a DOUBLE beyond this may become ±inf, then NaN
_SLACK = Decimal("1e-12")  # relative slack of a relation read from a DOUBLE comparison


@dataclass(frozen=True)
class Interval:
    """The closed range [low, high]; the ends may be ±Infinity."""

    low: Decimal
    high: Decimal

    def __contains__(self, value: object) -> bool:
        v = Decimal(value) if isinstance(value, (int, float)) else value
        return isinstance(v, Decimal) and self.low <= v <= self.high

    def hull(self, other: Interval) -> Interval:
        return Interval(min(self.low, other.low), max(self.high, other.high))

    def meet(self, other: Interval) -> Interval:
        low, high = max(self.low, other.low), min(self.high, other.high)
        return Interval(low, high) if low <= high else self  # empty: keep the wider, still sound

    @property
    def magnitude(self) -> Decimal:
        return max(abs(self.low), abs(self.high))


UNBOUNDED = Interval(-INF, INF)
Affine = dict[str, Decimal]  # field name -> coefficient; "" is the constant term
_CONST = ""


@dataclass(frozen=True)
class Issue:
    """An overflow or a negative amount, at character offsets [start, end) of the amount expression."""

    message: str
    start: int
    end: int


@dataclass(frozen=True)
class _Val:
    iv: Interval
    kind: Kind
    affine: Affine | None = None  # exact kinds only
    width: int = 0  # DuckDB DECIMAL(width, scale) of an exact value
    scale: int = 0
    bits: int = 64  # integer width of an INTEGER value
    wild: bool = False  # a DOUBLE that may be inf or NaN


# --- interval arithmetic with outward rounding ----------------------------------------------------
def _mul(a: Decimal, b: Decimal, ctx: Context) -> Decimal:
    return Decimal(0) if a == 0 or b == 0 else ctx.multiply(a, b)


def _times(x: Interval, y: Interval) -> Interval:
    pairs = [(a, b) for a in (x.low, x.high) for b in (y.low, y.high)]
    return Interval(min(_mul(a, b, _DOWN) for a, b in pairs), max(_mul(a, b, _UP) for a, b in pairs))


def _plus(x: Interval, y: Interval) -> Interval:
    return Interval(_DOWN.add(x.low, y.low), _UP.add(x.high, y.high))


def _minus(x: Interval, y: Interval) -> Interval:
    return Interval(_DOWN.subtract(x.low, y.high), _UP.subtract(x.high, y.low))


def _inverse(y: Interval) -> Interval:
    """1/y for y not containing 0."""
    return Interval(_DOWN.divide(1, y.high) if y.high != 0 else -INF, _UP.divide(1, y.low) if y.low != 0 else INF)


def _widen(iv: Interval) -> Interval:
    """Room for the rounding of one DOUBLE operation or conversion: fl(z) lies within z·(1 ± 2**-53), and fl is
    monotone, so each end moves by its own relative error (plus subnormal noise)."""

    def pad(v: Decimal) -> Decimal:
        return Decimal(0) if v.is_infinite() else _UP.add(_UP.multiply(abs(v), _REL), _TINY)

    return Interval(_DOWN.subtract(iv.low, pad(iv.low)), _UP.add(iv.high, pad(iv.high)))


def _point(value: Decimal) -> Interval:
    return Interval(value, value)


def _round(iv: Interval, places: int, mode: str = ROUND_HALF_UP) -> Interval:
    unit = Decimal(1).scaleb(-places)

    def one(v: Decimal) -> Decimal:
        return v if v.is_infinite() else v.quantize(unit, rounding=mode, context=Context(prec=80))

    return Interval(one(iv.low), one(iv.high))


# --- the box, and relations between fields ----------------------------------------------------------
@dataclass(frozen=True)
class Relation:
    """sum(coefficient · field) + constant lies in ``within``, for every enterprise considered."""

    form: tuple[tuple[str, Decimal], ...]
    within: Interval

    @property
    def affine(self) -> Affine:
        return dict(self.form)


def declared_box() -> dict[str, Interval]:
    """Every numeric field's declared range (registry.schema.VALUE_RANGES)."""
    return {name: Interval(low, high) for name, (low, high) in VALUE_RANGES.items()}


def _box_range(form: Affine, box: Mapping[str, Interval]) -> Interval:
    total = _point(form.get(_CONST, Decimal(0)))
    for name, c in form.items():
        if name != _CONST and c != 0:
            total = _plus(total, _times(_point(c), box.get(name, UNBOUNDED)))
    return total


def _combine(a: Affine, b: Affine, factor: Decimal = Decimal(1)) -> Affine:
    out = dict(a)
    for name, c in b.items():
        out[name] = out.get(name, Decimal(0)) + c * factor
    return {n: c for n, c in out.items() if c != 0 or n == _CONST}


def _bound(form: Affine, box: Mapping[str, Interval], relations: tuple[Relation, ...]) -> Interval:
    """An enclosure of an affine form: the box, sharpened by each relation (L = λK + (L - λK), any λ)."""
    best = _box_range(form, box)
    for rel in relations:
        k = rel.affine
        for name, c in form.items():
            d = k.get(name)
            if name == _CONST or not d:
                continue
            lam = c / d
            rest = _box_range(_combine(form, k, -lam), box)
            best = best.meet(_plus(_times(_point(lam), rel.within), rest))
    return best


def _vars(form: Affine) -> list[str]:
    return [n for n, c in form.items() if n != _CONST and c != 0]


# --- the evaluator ----------------------------------------------------------------------------------
class _Analysis:
    def __init__(self, box: Mapping[str, Interval], relations: tuple[Relation, ...] = (), check: bool = True):
        self.box = box
        self.relations = relations
        self.check = check  # report intermediate overflows
        self.issues: list[Issue] = []

    def issue(self, node: exp.Expression, message: str) -> None:
        start, end = node_span(node)
        if not any(i.start == start and i.end == end for i in self.issues):
            self.issues.append(Issue(message, start, end))

    def value(self, node: exp.Expression) -> _Val:
        out = self._value(node)
        return self._limits(node, out)

    def _limits(self, node: exp.Expression, v: _Val) -> _Val:
        if v.kind == Kind.NUMBER:
            if v.wild or v.iv.magnitude > _WILD:
                return _Val(UNBOUNDED, Kind.NUMBER, wild=True)
            return v
        if v.affine is not None:
            v = _Val(v.iv.meet(_bound(v.affine, self.box, self.relations)), v.kind, v.affine, v.width, v.scale, v.bits)
        if self.check and not isinstance(node, (exp.Column, exp.Literal, exp.Paren)):
            if v.kind == Kind.INTEGER and v.iv.magnitude > INT_LIMIT[v.bits]:
                self.issue(node, f"整数运算可能溢出 INT{v.bits}（{_shown(v.iv)}）：{node.sql()}")
            elif v.kind == Kind.DECIMAL and v.iv.magnitude >= Decimal(10) ** (v.width - v.scale):
                self.issue(node, f"中间结果可能超出 DECIMAL({v.width},{v.scale}) 的范围（{_shown(v.iv)}）：{node.sql()}")
        return v

    def _value(self, node: exp.Expression) -> _Val:  # noqa: C901 - one branch per construct
        kind = node.meta.get(KIND) if node._meta else None  # noqa: SLF001
        if isinstance(node, exp.Paren):
            return self.value(node.this)
        if isinstance(node, exp.Literal):
            return _literal(node, kind)
        if isinstance(node, exp.Column):
            return self._column(node, kind)
        if isinstance(node, exp.Neg):
            v = self.value(node.this)
            iv = Interval(-v.iv.high, -v.iv.low)
            affine = None if v.affine is None else {n: -c for n, c in v.affine.items()}
            return _Val(iv, v.kind, affine, v.width, v.scale, v.bits, v.wild)
        if isinstance(node, exp.Abs):
            v = self.value(node.this)
            low = Decimal(0) if v.iv.low <= 0 <= v.iv.high else min(abs(v.iv.low), abs(v.iv.high))
            return _Val(Interval(low, v.iv.magnitude), v.kind, None, v.width, v.scale, v.bits, v.wild)
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
            return self._arithmetic(node, kind)
        if isinstance(node, exp.Div):
            return self._div(node)
        if isinstance(node, (exp.Least, exp.Greatest, exp.Coalesce, exp.Case)):
            return self._choice(node, kind)
        if isinstance(node, exp.Round):
            digits = node.args.get("decimals")
            return self._integral(node, int(digits.this) if digits is not None else 0, ROUND_HALF_UP)
        if isinstance(node, (exp.Floor, exp.Ceil)):
            return self._integral(node, 0, ROUND_FLOOR if isinstance(node, exp.Floor) else ROUND_CEILING)
        if isinstance(node, exp.Year):
            return self._year(node.this)
        return _Val(UNBOUNDED, kind or Kind.NUMBER, wild=kind == Kind.NUMBER)  # not numeric: never an amount

    def _column(self, node: exp.Column, kind: Kind | None) -> _Val:
        name = node.name
        iv = self.box.get(name, UNBOUNDED)
        if kind == Kind.NUMBER:
            return _Val(iv, kind)
        field = FIELDS_BY_NAME.get(name)
        if kind == Kind.DECIMAL:
            return _Val(iv, kind, {name: Decimal(1)}, 18, 4)
        bits = 32 if field is not None and field.derived else 64  # age_years is computed as INT
        return _Val(iv, Kind.INTEGER, {name: Decimal(1)}, 10 if bits == 32 else 19, 0, bits)

    def _arithmetic(self, node: exp.Expression, kind: Kind | None) -> _Val:
        a, b = self.value(node.this), self.value(node.expression)
        op = {exp.Add: _plus, exp.Sub: _minus, exp.Mul: _times}[type(node)]
        if kind == Kind.NUMBER:
            if a.wild or b.wild:
                return _Val(UNBOUNDED, Kind.NUMBER, wild=True)
            x, y = (v.iv if v.kind == Kind.NUMBER else _widen(v.iv) for v in (a, b))
            return _Val(_widen(op(x, y)), Kind.NUMBER)
        iv = op(a.iv, b.iv)
        affine = _affine(node, a.affine, b.affine)
        if kind == Kind.INTEGER:
            return _Val(iv, kind, affine, 19, 0, max(a.bits, b.bits))
        width, scale = _decimal_type(node, a, b)
        return _Val(iv, Kind.DECIMAL, affine, width, scale)

    def _div(self, node: exp.Div) -> _Val:
        a, b = self.value(node.this), self.value(node.expression)
        if a.wild or b.wild:
            return _Val(UNBOUNDED, Kind.NUMBER, wild=True)
        x = a.iv if a.kind == Kind.NUMBER else _widen(a.iv)
        y = b.iv if b.kind == Kind.NUMBER else _widen(b.iv)
        step = _step(b)  # the smallest non-zero |divisor|; x / 0 is NULL
        pieces = []
        if y.low < 0:
            pieces.append(Interval(y.low, min(y.high, -step)))
        if y.high > 0:
            pieces.append(Interval(max(y.low, step), y.high))
        pieces = [p for p in pieces if p.low <= p.high]
        if not pieces:
            return _Val(_point(Decimal(0)), Kind.NUMBER)  # always NULL; any range is sound
        if any(p.low == 0 or p.high == 0 for p in pieces) and x != _point(Decimal(0)):
            return _Val(UNBOUNDED, Kind.NUMBER, wild=True)
        iv = None
        for p in pieces:
            q = _times(x, _inverse(p))
            iv = q if iv is None else iv.hull(q)
        return _Val(_widen(iv), Kind.NUMBER)

    def _choice(self, node: exp.Expression, kind: Kind | None) -> _Val:
        if isinstance(node, exp.Case):
            for branch in node.args["ifs"]:
                self.walk(branch.this)  # intermediate overflows in a WHEN are errors too
            args = [b.args["true"] for b in node.args["ifs"]] + [node.args["default"]]
        else:
            args = [node.this, *node.expressions]
        values = [self.value(a) for a in args]
        if kind == Kind.NUMBER:
            if any(v.wild for v in values):
                return _Val(UNBOUNDED, Kind.NUMBER, wild=True)
            ivs = [v.iv if v.kind == Kind.NUMBER else _widen(v.iv) for v in values]
        else:
            ivs = [v.iv for v in values]
        if isinstance(node, exp.Least):
            iv = Interval(min(i.low for i in ivs), min(i.high for i in ivs))
        elif isinstance(node, exp.Greatest):
            iv = Interval(max(i.low for i in ivs), max(i.high for i in ivs))
        else:
            iv = ivs[0]
            for i in ivs[1:]:
                iv = iv.hull(i)
        if kind == Kind.NUMBER:
            return _Val(iv, kind)
        if kind == Kind.INTEGER:
            return _Val(iv, kind, None, 19, 0, max(v.bits for v in values))
        width, scale = _unified(values)
        return _Val(iv, Kind.DECIMAL, None, width, scale)

    def _integral(self, node: exp.Expression, places: int, mode: str) -> _Val:
        v = self.value(node.this)
        if v.kind == Kind.INTEGER:
            return v
        if v.kind == Kind.NUMBER:
            v = self.to_exact(node.this, v)
        iv = _round(v.iv, places, mode)
        scale = 0 if mode != ROUND_HALF_UP else min(v.scale, places)
        return _Val(iv, Kind.DECIMAL, None, v.width, scale)

    def to_exact(self, node: exp.Expression, v: _Val) -> _Val:
        """compile.py's CAST(x AS DECIMAL(38, 10)) of a DOUBLE."""
        if self.check and (v.wild or v.iv.magnitude >= EXACT_LIMIT):
            self.issue(node, f"数值转换为 DECIMAL(38,10) 时可能溢出（{_shown(v.iv)}）：{node.sql()}")
        if v.wild:
            return _Val(UNBOUNDED, Kind.DECIMAL, None, 38, 10)
        iv = _round(_widen(v.iv), 10, ROUND_HALF_UP)
        return _Val(iv, Kind.DECIMAL, None, 38, 10)

    def _year(self, node: exp.Expression) -> _Val:
        if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
            year = Decimal(node.this.this[:4])
            return _Val(_point(year), Kind.INTEGER, {_CONST: year}, 10, 0, 32)
        low = 1 if isinstance(node, exp.Column) and node.name == AS_OF else YEAR_RANGE[0]
        return _Val(Interval(Decimal(low), Decimal(YEAR_RANGE[1])), Kind.INTEGER, None, 10, 0, 32)

    def walk(self, node: exp.Expression) -> None:
        """Check the numeric parts of a condition (inside a CASE) for overflow."""
        for child in _children(node):
            kind = child.meta.get(KIND) if child._meta else None  # noqa: SLF001
            if kind is not None and kind.numeric:
                self.value(child)
            else:
                self.walk(child)


def _children(node: exp.Expression) -> Iterator[exp.Expression]:
    for value in node.args.values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, exp.Expression):
                yield v


def _literal(node: exp.Literal, kind: Kind | None) -> _Val:
    value = Decimal(node.this)
    if kind == Kind.INTEGER:
        bits = 32 if abs(value) <= INT_LIMIT[32] else 64
        return _Val(_point(value), kind, {_CONST: value}, 10 if bits == 32 else 19, 0, bits)
    whole, _, fraction = node.this.partition(".")
    scale = len(fraction)
    return _Val(_point(value), Kind.DECIMAL, {_CONST: value}, max(len(whole.lstrip("+-")), 1) + scale, scale)


def _affine(node: exp.Expression, a: Affine | None, b: Affine | None) -> Affine | None:
    if a is None or b is None:
        return None
    if isinstance(node, exp.Add):
        return _combine(a, b)
    if isinstance(node, exp.Sub):
        return _combine(a, b, Decimal(-1))
    if not _vars(a):
        return {n: c * a.get(_CONST, Decimal(0)) for n, c in b.items()}
    if not _vars(b):
        return {n: c * b.get(_CONST, Decimal(0)) for n, c in a.items()}
    return None


def _as_decimal(v: _Val) -> tuple[int, int]:
    if v.kind == Kind.INTEGER:
        return (10, 0) if v.bits == 32 else (19, 0)
    return v.width, v.scale


def _decimal_type(node: exp.Expression, a: _Val, b: _Val) -> tuple[int, int]:
    """DuckDB's result type of exact + - *: the width it checks the value against."""
    (w1, s1), (w2, s2) = _as_decimal(a), _as_decimal(b)
    if isinstance(node, exp.Mul):
        width, scale = w1 + w2, s1 + s2
        if scale > 38:
            return 0, scale  # DuckDB refuses to bind it: every value "overflows"
        if width > 18 and max(w1, w2) <= 18 and scale < 18:
            return 18, scale  # both fit 64 bits: DuckDB multiplies in 64 bits and checks
        return min(width, 38), scale
    scale = max(s1, s2)
    return min(max(w1 - s1, w2 - s2) + scale + 1, 38), scale


def _unified(values: list[_Val]) -> tuple[int, int]:
    types = [_as_decimal(v) for v in values]
    scale = max(s for _, s in types)
    return min(max(w - s for w, s in types) + scale, 38), scale


def _step(v: _Val) -> Decimal:
    if v.kind == Kind.INTEGER:
        return Decimal(1)
    if v.kind == Kind.DECIMAL:
        return Decimal(1).scaleb(-v.scale)
    return Decimal(0)


def _shown(iv: Interval) -> str:
    return f"取值范围 {_number(iv.low)} 至 {_number(iv.high)}"


def _number(value: Decimal) -> str:
    if value.is_infinite():
        return "无下限" if value < 0 else "无上限"
    if abs(value) >= Decimal("1e20"):
        return f"{value:.4E}"
    text = format(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP, context=Context(prec=80)), ",f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- what the conditions tell about eligible enterprises --------------------------------------------
_FLIP = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ}


def eligible_box(policy: Policy) -> tuple[dict[str, Interval], tuple[Relation, ...]]:
    """The declared box narrowed by the policy's conditions, and the relations between fields they imply."""
    box = declared_box()
    relations: list[Relation] = []
    probe = _Analysis(box, check=False)
    for condition in policy.conditions:
        tree = check_expression(condition.expr, "boolean")
        for part in _conjuncts(tree):
            for left, op, right in _comparisons(part):
                relations.extend(_relations(probe, left, op, right))
    for rel in relations:  # a relation on one field narrows its range; the others stay relations
        names = _vars(rel.affine)
        if len(names) == 1:
            box[names[0]] = box[names[0]].meet(_solve(rel, names[0]))
    return box, tuple(r for r in relations if len(_vars(r.affine)) > 1)


def _conjuncts(node: exp.Expression) -> Iterator[exp.Expression]:
    if isinstance(node, exp.Paren):
        yield from _conjuncts(node.this)
    elif isinstance(node, exp.And):
        yield from _conjuncts(node.this)
        yield from _conjuncts(node.expression)
    else:
        yield node


def _comparisons(node: exp.Expression) -> list[tuple[exp.Expression, type, exp.Expression]]:
    if isinstance(node, exp.Between):
        return [(node.this, exp.GTE, node.args["low"]), (node.this, exp.LTE, node.args["high"])]
    if type(node) in _FLIP:
        return [(node.this, type(node), node.expression)]
    return []


def _within(op: type, at: Decimal = Decimal(0)) -> Interval:
    if op in (exp.GT, exp.GTE):
        return Interval(at, INF)
    if op in (exp.LT, exp.LTE):
        return Interval(-INF, at)
    return _point(at)


def _relations(probe: _Analysis, left: exp.Expression, op: type, right: exp.Expression) -> list[Relation]:
    kinds = [n.meta.get(KIND) for n in (left, right)]
    if not all(k is not None and k.numeric for k in kinds):
        return []
    a, b = probe.value(left), probe.value(right)
    if a.affine is not None and b.affine is not None:  # exact on both sides: compared exactly
        form = _combine(a.affine, b.affine, Decimal(-1))
        return [Relation(tuple(form.items()), _within(op))] if _vars(form) else []
    if b.iv.low != b.iv.high or b.wild:  # a DOUBLE field against a constant, or nothing
        if a.iv.low == a.iv.high and not a.wild:
            return _relations(probe, right, _FLIP[op], left)
        return []
    column = left.unnest() if isinstance(left, exp.Paren) else left
    if not isinstance(column, exp.Column) or column.name not in probe.box:
        return []
    c = b.iv.low
    slack = _UP.add(_UP.multiply(abs(c), _SLACK), _TINY)
    lower, upper = _DOWN.subtract(c, slack), _UP.add(c, slack)
    within = Interval(lower if op != exp.LT and op != exp.LTE else -INF, upper if op not in (exp.GT, exp.GTE) else INF)
    out = [Relation(((column.name, Decimal(1)),), within)]
    ratio = _RATIOS.get(column.name)
    if ratio is not None and VALUE_RANGES[ratio[1]][0] >= 0:  # the denominator is > 0 whenever the ratio is known
        num, den, minus_one = ratio
        shift = Decimal(1) if minus_one else Decimal(0)
        if within.low != -INF:
            out.append(Relation(((num, Decimal(1)), (den, -(within.low + shift))), Interval(Decimal(0), INF)))
        if within.high != INF:
            out.append(Relation(((num, Decimal(1)), (den, -(within.high + shift))), Interval(-INF, Decimal(0))))
    return out


def _solve(rel: Relation, name: str) -> Interval:
    """The range of ``name`` in a relation on it alone: (within - constant) / coefficient."""
    form = rel.affine
    c, c0 = form[name], form.get(_CONST, Decimal(0))
    return _times(_minus(rel.within, _point(c0)), Interval(_DOWN.divide(1, c), _UP.divide(1, c)))


# --- the amount ---------------------------------------------------------------------------------
def _amount(policy: Policy, analysis: _Analysis) -> Interval:
    benefit = policy.benefit
    assert benefit is not None
    tree = check_expression(benefit.expr, "numeric")
    v = analysis.value(tree)
    if v.kind == Kind.NUMBER:
        v = analysis.to_exact(tree, v)
    iv = v.iv
    if benefit.cap is not None:
        iv = Interval(min(iv.low, benefit.cap), min(iv.high, benefit.cap))
    return _round(iv, benefit.rounding.digits)


def amount_range(policy: Policy, *, eligible: bool = True) -> Interval | None:
    """[low, high] of the amount (万元, capped and rounded) for eligible enterprises, or for every one
    when ``eligible`` is False; None for a policy without a benefit."""
    if policy.benefit is None:
        return None
    if eligible:
        box, relations = eligible_box(policy)
        return _amount(policy, _Analysis(box, relations, check=False))
    return _amount(policy, _Analysis(declared_box(), check=False))


def amount_issues(policy: Policy) -> list[Issue]:
    """Every way the amount can leave its range, at offsets of the amount expression's text."""
    if policy.benefit is None:
        return []
    text = policy.benefit.expr
    everyone = _Analysis(declared_box())
    high = _amount(policy, everyone).high
    issues = list(everyone.issues)
    if high > MONEY_MAX and not issues:
        issues.append(Issue(f"金额可能超过 99,999,999,999,999.9999（DECIMAL(18,4) 的上限，最高 {_number(high)} 万元）："
                            f"{text.strip()}；请设置 cap（最高金额）或改用 LEAST(…, 上限)", 0, len(text)))
    box, relations = eligible_box(policy)
    low = _amount(policy, _Analysis(box, relations, check=False)).low
    if low < 0:
        issues.append(Issue(f"金额可能为负数（最低 {_number(low)} 万元）：{text.strip()}；"
                            "符合条件的企业金额不能小于 0，可写成 GREATEST(…, 0)", 0, len(text)))
    return issues


def check_amount_bounds(policy: Policy, source: str | None = None) -> list[AmountRangeError]:
    """The amount-range errors of a loaded policy, each with its place in the file.

    ``source`` is the policy file's YAML text (read from ``policy.path`` when not given); without
    either the errors carry no span."""
    issues = amount_issues(policy)
    if not issues:
        return []
    if source is None and policy.path is not None and Path(policy.path).is_file():
        source = Path(policy.path).read_text(encoding="utf-8")
    return [AmountRangeError(i.message, _span(policy, source, i)) for i in issues]


def _span(policy: Policy, source: str | None, issue: Issue) -> Span | None:
    if source is None:
        return None
    from qinqing.rules.load import _Loader  # its YAML node positions map expression offsets to the file

    loader = _Loader(source, policy.path)
    try:
        loader._yaml()  # noqa: SLF001
        return loader._expr_span(("benefit", "expr"), policy.benefit.expr, issue.start, issue.end)  # noqa: SLF001
    except (KeyError, AttributeError):
        return Span(policy.path, 1, 1, key="benefit.expr")
