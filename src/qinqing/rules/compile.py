"""Checked policy → one sqlglot tree → SQL for each engine (``tree.sql(dialect=…)``), never pasted strings.

Lowering makes SQL behave like the language (docs/semantics.md), whatever the engine's habits:
LEAST/GREATEST and CASE become NULL-guarded, division is DOUBLE and x/0 is NULL, mixed DOUBLE/DECIMAL
comparisons cast explicitly, and the amount is capped, rounded half up and cast to DECIMAL(18,4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import Literal

from sqlglot import exp

from qinqing.registry.schema import ALL_FIELDS, FIELDS_BY_NAME
from qinqing.rules.check import AS_OF, COMPARISONS, FUNCTIONS, KIND, check_expression, fields_of
from qinqing.rules.errors import CompileError
from qinqing.rules.inputs import SIZE_ROW, input_guard, size_row_sql, stored_inputs
from qinqing.rules.model import Policy
from qinqing.rules.safety import assert_safe
from qinqing.rules.scope import implicit_conditions
from qinqing.rules.types import MONEY_SQL, Kind

Dialect = Literal["duckdb", "spark"]
DIALECTS: tuple[Dialect, ...] = ("duckdb", "spark")
STATUSES = ("eligible", "ineligible", "unknown")
OUTPUT_COLUMNS = ("uscc", "policy_id", "status", "amount", "failed", "missing")
_DOUBLE = exp.DataType.build("DOUBLE")
_EXACT = exp.DataType.build("DECIMAL(38, 10)")
_MONEY = exp.DataType.build(MONEY_SQL)
_STATUS, _AMOUNT = "__status", "__amount"


@dataclass(frozen=True)
class CompiledCondition:
    id: str
    clause: str
    tree: exp.Expression  # over stored and derived column names
    fields: tuple[str, ...]  # fields read directly, schema order
    sql: str

    @property
    def column(self) -> str:
        return f"__c_{self.id}"


@dataclass(frozen=True)
class CompiledPolicy:
    policy_id: str
    dialect: Dialect
    as_of: date
    conditions: tuple[CompiledCondition, ...]
    amount_tree: exp.Expression  # DECIMAL(18,4) or NULL, before the eligibility guard
    benefit_fields: tuple[str, ...]  # fields the benefit expression reads
    derived: dict[str, exp.Expression] = field(repr=False)  # the derived columns the policy reads
    helpers: dict[str, exp.Expression] = field(default_factory=dict, repr=False)  # columns only `missing` reads

    # The three trees below are built on first use: the fast path and the evaluator read only the
    # conditions and the amount, and `missing` (one CASE per field) cost three quarters of a compile.
    @cached_property
    def status_tree(self) -> exp.Expression:
        return _status(list(self.conditions))

    @cached_property
    def failed_tree(self) -> exp.Expression:
        return _failed(list(self.conditions))

    @cached_property
    def missing_tree(self) -> exp.Expression:
        return _missing(list(self.conditions), list(self.benefit_fields))

    @property
    def amount_sql(self) -> str:
        return self.amount_tree.sql(dialect=self.dialect)

    @property
    def status_sql(self) -> str:
        return self.status_tree.sql(dialect=self.dialect)

    @property
    def failed_sql(self) -> str:
        return self.failed_tree.sql(dialect=self.dialect)

    @property
    def missing_sql(self) -> str:
        return self.missing_tree.sql(dialect=self.dialect)

    def select(self, source_relation: str, extra_columns: tuple[str, ...] = ()) -> exp.Select:
        """SELECT uscc, policy_id, status, amount, failed, missing FROM ``source_relation``.

        ``source_relation`` must have every stored field as a typed column (see engine helpers);
        ``extra_columns`` are field names to output beside the result (e.g. for a trace).
        """
        source = exp.to_table(source_relation).as_("src")
        columns = {**self.derived, **self.helpers}
        enterprise = exp.select(exp.Star(), *[e.copy().as_(n) for n, e in columns.items()]).from_(source)
        conditions = exp.select(
            exp.Star(),
            *[c.tree.copy().as_(c.column) for c in self.conditions],
            self.amount_tree.copy().as_(_AMOUNT),
        ).from_("e")
        status = exp.select(exp.Star(), self.status_tree.copy().as_(_STATUS)).from_("c")
        eligible = exp.column(_STATUS).eq(exp.Literal.string("eligible"))
        return (
            exp.select(
                exp.column("uscc"),
                exp.Literal.string(self.policy_id).as_("policy_id"),
                exp.column(_STATUS).as_("status"),
                exp.Case(ifs=[exp.If(this=eligible, true=exp.column(_AMOUNT))]).as_("amount"),
                self.failed_tree.copy().as_("failed"),
                self.missing_tree.copy().as_("missing"),
                *[exp.column(c.column).as_(c.column) for c in self.conditions if extra_columns],
                *[exp.column(name) for name in extra_columns],
            )
            .from_("s")
            .with_("e", enterprise)
            .with_("c", conditions)
            .with_("s", status)
        )

    def select_sql(self, source_relation: str, extra_columns: tuple[str, ...] = ()) -> str:
        return self.select(source_relation, extra_columns).sql(dialect=self.dialect)


def compile_policy(policy: Policy, dialect: Dialect, as_of: date) -> CompiledPolicy:
    """Compile a loaded (hence checked) policy for ``dialect``; derived fields are taken as of ``as_of``."""
    if dialect not in DIALECTS:
        raise CompileError(f"不支持的引擎方言“{dialect}”")
    conditions = []
    for c in [*implicit_conditions(policy), *policy.conditions]:
        tree = lower(bind(typed(c.expr, "boolean"), as_of))
        assert_safe(tree)
        conditions.append(CompiledCondition(c.id, c.clause, tree, tuple(fields_of(tree)), tree.sql(dialect=dialect)))
    amount, benefit_fields = _amount(policy, as_of)
    assert_safe(amount)
    read = {f for c in conditions for f in c.fields} | set(benefit_fields)
    derived = _derived_sql(as_of, frozenset(read))
    return CompiledPolicy(
        policy_id=policy.id,
        dialect=dialect,
        as_of=as_of,
        conditions=tuple(conditions),
        amount_tree=amount,
        benefit_fields=tuple(benefit_fields),
        derived=derived,
        helpers={SIZE_ROW: size_row_sql()} if _reads_size_class(read) else {},
    )


def _reads_size_class(read: set[str]) -> bool:
    return "size_class" in read


@lru_cache(maxsize=8192)
def _typed_cached(text: str, want: str) -> exp.Expression:
    # A loaded policy's own expressions were held to check.MAX_LENGTH; its scope's generated ones are not.
    return check_expression(text, want, max_length=None)  # type: ignore[arg-type]


def typed(text: str, want: str) -> exp.Expression:
    """The checked, typed tree of an expression (a fresh copy; cached by text)."""
    return _typed_cached(text, want).copy()


def bind(tree: exp.Expression, as_of: date) -> exp.Expression:
    """Replace the built-in ``as_of`` by the reference date, a DATE literal (engines fold YEAR of it)."""
    for column in list(tree.find_all(exp.Column)):
        if column.name == AS_OF:
            day = exp.cast(exp.Literal.string(as_of.isoformat()), exp.DataType.build("DATE"))
            day.meta[KIND] = Kind.DATE
            if column is tree:
                return day
            column.replace(day)
    return tree


# --- lowering: the language's semantics spelled out in plain SQL -------------------------------
def lower(tree: exp.Expression) -> exp.Expression:
    """Rewrite a typed tree so that every engine computes the language's semantics."""
    return _lower(tree.copy())


def _lower(node: exp.Expression) -> exp.Expression:
    # Bottom-up, so that each rewrite sees lowered children and never revisits its own output.
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _lower(value))
        elif isinstance(value, list):
            node.set(key, [_lower(v) if isinstance(v, exp.Expression) else v for v in value])
    return _parenthesised(_lower_node(node))


_PREDICATES = (*COMPARISONS, exp.Between, exp.In, exp.Like, exp.Is, exp.Not, exp.And, exp.Or)


def _parenthesised(node: exp.Expression) -> exp.Expression:
    """A predicate's operand that is itself a predicate, in parentheses: the generator writes none, and the
    engines read ``a = b > 1`` as a chained comparison (DuckDB refuses it) and ``a = b IS NULL`` as
    a = (b IS NULL), not as the tree says (review issue 10, found by the agreement property)."""
    if isinstance(node, _PREDICATES) and not isinstance(node, (exp.Not, exp.And, exp.Or)):
        for key in ("this", "expression", "low", "high"):
            child = node.args.get(key)
            if isinstance(child, _PREDICATES):
                node.set(key, _keep(exp.Paren(this=child), _kind(child)))
    return node


def _kind(node: exp.Expression) -> Kind | None:
    return node.meta.get(KIND) if node._meta else None  # noqa: SLF001


def _widened(node: exp.Expression) -> exp.Expression:
    """A rounded exact value back at scale 10 (exactly: FLOOR and CEIL give integers, ROUND at most the
    scale it was given). DuckDB types ROUND(DECIMAL(38, 10), 0) and FLOOR of it as DECIMAL(38, 0), and
    a COALESCE, CASE, LEAST or GREATEST of that with a value of scale 2 stays at scale 0 (no room to
    widen): COALESCE(COALESCE(revenue, 1.25), ROUND(layoff_rate)) gave 1, not 1.25 (found by the
    agreement property)."""
    return exp.cast(node, _EXACT.copy())


def _as_double(node: exp.Expression) -> exp.Expression:
    return node if _kind(node) == Kind.NUMBER else exp.cast(node, _DOUBLE.copy())


def _lower_node(node: exp.Expression) -> exp.Expression:
    kind = _kind(node)
    if isinstance(node, exp.Div):
        out = exp.Div(this=_as_double(node.this), expression=exp.Nullif(this=_as_double(node.expression), expression=exp.Literal.number(0)))
        return _keep(out, Kind.NUMBER)
    if isinstance(node, (exp.Least, exp.Greatest)):
        args = [node.this, *node.expressions]
        if kind == Kind.NUMBER:
            args = [_as_double(a) for a in args]
        # ignore_nulls=True: the engine's own behaviour; the guard around it is ours, the same for every engine.
        plain = type(node)(this=args[0], expressions=args[1:], ignore_nulls=True)
        any_null = _or([_is_null(a.copy()) for a in args])
        return _keep(exp.Case(ifs=[exp.If(this=any_null, true=exp.null())], default=plain), kind)
    if isinstance(node, exp.Case):
        ifs = []
        for branch in node.args["ifs"]:
            cond = branch.this
            ifs.append(exp.If(this=_is_null(cond.copy()), true=exp.null()))
            ifs.append(exp.If(this=cond, true=_cast_to(branch.args["true"], kind)))
        return _keep(exp.Case(ifs=ifs, default=_cast_to(node.args["default"], kind)), kind)
    if isinstance(node, exp.Coalesce) and kind == Kind.NUMBER:
        args = [_as_double(a) for a in [node.this, *node.expressions]]
        return _keep(exp.Coalesce(this=args[0], expressions=args[1:]), kind)
    if isinstance(node, (exp.Floor, exp.Ceil)):
        # Exact, like ROUND: a DOUBLE is taken to 10 decimals first, so 4.9999999999999991 points is 5.
        value = node.this
        if _kind(value) == Kind.NUMBER:
            value = exp.cast(value, _EXACT.copy())
        out = type(node)(this=value)
        return _keep(out if _kind(node.this) == Kind.INTEGER else _widened(out), kind)
    if isinstance(node, exp.Round):
        digits = node.args.get("decimals") or exp.Literal.number(0)
        value = node.this
        if _kind(value) == Kind.NUMBER:
            value = exp.cast(value, _EXACT.copy())
        out = exp.Round(this=value, decimals=digits)
        return _keep(out if _kind(node.this) == Kind.INTEGER else _widened(out), kind)
    if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)):
        left, right = node.this, node.expression
        if Kind.NUMBER in (_kind(left), _kind(right)):
            return _keep(type(node)(this=_as_double(left), expression=_as_double(right)), kind)
    if isinstance(node, exp.Between):
        parts = [node.this, node.args["low"], node.args["high"]]
        if Kind.NUMBER in [_kind(p) for p in parts]:
            a, lo, hi = (_as_double(p) for p in parts)
            return _keep(exp.Between(this=a, low=lo, high=hi), kind)
    if isinstance(node, exp.In):
        parts = [node.this, *node.expressions]
        if Kind.NUMBER in [_kind(p) for p in parts]:
            return _keep(exp.In(this=_as_double(node.this), expressions=[_as_double(e) for e in node.expressions]), kind)
    return node


def _is_null(node: exp.Expression) -> exp.Expression:
    """``(node) IS NULL``: the generator writes no parentheses of its own, and IS binds tighter than NOT,
    AND, OR and comparisons, so ``NOT x IS NULL`` would be read back as NOT (x IS NULL) (review issue 10)."""
    atomic = isinstance(node, (exp.Column, exp.Literal, exp.Paren, exp.Null, exp.Boolean, exp.Cast, *FUNCTIONS))
    return exp.Is(this=node if atomic else exp.Paren(this=node), expression=exp.null())


def _cast_to(node: exp.Expression, kind: Kind | None) -> exp.Expression:
    return _as_double(node) if kind == Kind.NUMBER else node


def _keep(node: exp.Expression, kind: Kind | None) -> exp.Expression:
    if kind is not None:
        node.meta[KIND] = kind
    return node


def _or(parts: list[exp.Expression]) -> exp.Expression:
    out = parts[0]
    for p in parts[1:]:
        out = exp.Or(this=out, expression=p)
    return exp.Paren(this=out) if len(parts) > 1 else out


# --- the amount -------------------------------------------------------------------------------
def _amount(policy: Policy, as_of: date) -> tuple[exp.Expression, list[str]]:
    benefit = policy.benefit
    if benefit is None:
        return exp.cast(exp.null(), _MONEY.copy()), []
    tree = bind(typed(benefit.expr, "numeric"), as_of)
    names = fields_of(tree)
    value = lower(tree)
    if _kind(value) == Kind.NUMBER:
        value = exp.cast(value, _EXACT.copy())
    if benefit.cap is not None:
        cap = exp.Literal.number(format(benefit.cap, "f"))
        value = exp.Case(ifs=[exp.If(this=exp.GT(this=value.copy(), expression=cap), true=cap.copy())], default=value)
    rounded = exp.Round(this=value, decimals=exp.Literal.number(benefit.rounding.digits))
    return exp.cast(rounded, _MONEY.copy()), names


# --- status, failed, missing ------------------------------------------------------------------
def _is_false(c: CompiledCondition) -> exp.Expression:
    return exp.Not(this=exp.Coalesce(this=exp.column(c.column), expressions=[exp.true()]))


def _status(conditions: list[CompiledCondition]) -> exp.Expression:
    if not conditions:
        return exp.Literal.string("eligible")
    any_false = _or([_is_false(c) for c in conditions])
    any_unknown = _or([exp.column(c.column).is_(exp.null()) for c in conditions])
    return exp.Case(
        ifs=[
            exp.If(this=any_false, true=exp.Literal.string("ineligible")),
            exp.If(this=any_unknown, true=exp.Literal.string("unknown")),
        ],
        default=exp.Literal.string("eligible"),
    )


def _string_list(items: list[exp.Expression]) -> exp.Expression:
    """The non-NULL items, in order, as an array of strings (an empty, typed array when there are none)."""
    if not items:
        return exp.cast(exp.Array(expressions=[]), exp.DataType.build("ARRAY<VARCHAR>"))
    keep = exp.Lambda(this=exp.Not(this=exp.column("x").is_(exp.null())), expressions=[exp.to_identifier("x")])
    return exp.ArrayFilter(this=exp.Array(expressions=items), expression=keep)


def _failed(conditions: list[CompiledCondition]) -> exp.Expression:
    return _string_list(
        [exp.Case(ifs=[exp.If(this=_is_false(c), true=exp.Literal.string(c.id))]) for c in conditions]
    )


def _missing(conditions: list[CompiledCondition], benefit_fields: list[str]) -> exp.Expression:
    """Field f is listed when it is NULL and an unknown condition (or, for an eligible pair, a NULL amount)
    reads it, directly or through a derived field that reads it for this enterprise (rules.inputs)."""
    items = []
    for f in ALL_FIELDS:
        reasons = []
        unknown_terms = [_guarded(exp.column(c.column).is_(exp.null()), _reads(c.fields, f.name)) for c in conditions]
        unknown_terms = [t for t in unknown_terms if t is not None]
        if unknown_terms:
            unknown = exp.column(_STATUS).eq(exp.Literal.string("unknown"))
            reasons.append(exp.And(this=unknown, expression=_or(unknown_terms)))
        amount_term = _guarded(exp.column(_AMOUNT).is_(exp.null()), _reads(tuple(benefit_fields), f.name))
        if amount_term is not None:
            eligible = exp.column(_STATUS).eq(exp.Literal.string("eligible"))
            reasons.append(exp.And(this=eligible, expression=amount_term))
        if reasons:
            when = exp.And(this=exp.column(f.name).is_(exp.null()), expression=_or(reasons))
            items.append(exp.Case(ifs=[exp.If(this=when, true=exp.Literal.string(f.name))]))
    return _string_list(items)


_ALWAYS = exp.true()


def _reads(fields: tuple[str, ...], name: str) -> list[exp.Expression]:
    """How ``fields`` read ``name``: [] never, [TRUE] always, else the SQL guards under which a derived one does."""
    guards = []
    for n in fields:
        if n == name:
            return [_ALWAYS]
        if name in stored_inputs(n):
            guard = input_guard(n, name)
            if guard is None:
                return [_ALWAYS]
            guards.append(guard)
    return guards


def _guarded(term: exp.Expression, guards: list[exp.Expression]) -> exp.Expression | None:
    if not guards:
        return None
    if guards[0] is _ALWAYS:
        return term
    return exp.And(this=term, expression=_or(guards))


def _derived_sql(as_of: date, names: frozenset[str]) -> dict[str, exp.Expression]:
    wanted = [n for n in names if FIELDS_BY_NAME[n].derived]
    if not wanted:
        return {}
    from qinqing.registry.derived import derived_sql

    every = derived_sql(as_of)
    return {f.name: every[f.name] for f in ALL_FIELDS if f.name in wanted}
