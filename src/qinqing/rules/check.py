"""Whitelist and static types: what an expression may contain, and whether its parts fit.

``check_expression`` walks the parsed tree once, collects every issue, and records the
kind of each accepted node in ``node.meta["kind"]`` for compile.py and the evaluators.
Anything not in safety.SOURCE_NODES is rejected, so a new sqlglot node type can never slip through; the
compiler's output is verified against the same whitelist (safety.py).
"""

from __future__ import annotations

import difflib
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal as Want

from sqlglot import exp

from qinqing.registry.schema import ALL_FIELDS, FIELDS_BY_NAME
from qinqing.rules.errors import ExpressionError, ExprIssue
from qinqing.rules.parse import node_span, parse_expression
from qinqing.rules.safety import SOURCE_NODES, string_literal_problem
from qinqing.rules.types import FIELD_KIND, Kind, comparable, promote

KIND = "kind"
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div)
FUNCTIONS = {
    exp.Least: "LEAST",
    exp.Greatest: "GREATEST",
    exp.Abs: "ABS",
    exp.Round: "ROUND",
    exp.Coalesce: "COALESCE",
    exp.Year: "YEAR",
    exp.StartsWith: "STARTS_WITH",
    exp.Floor: "FLOOR",
    exp.Ceil: "CEIL",
}
# Built-in names an expression may read besides the enterprise's fields; compile.py binds them.
AS_OF = "as_of"  # the reference date of the evaluation (qinqing match --as-of); YEAR(as_of) = 当年
MAX_LENGTH = 4000
MAX_SIGNIFICANT_DIGITS = 18
# Lowering (compile.py) writes each argument of LEAST/GREATEST and each WHEN of a CASE twice (the NULL
# guard and the value), so nesting them doubles the compiled tree a level: 20 nested LEAST gave 2^20 nodes.
MAX_COMPILED_NODES = 20_000


def check_expression(text: str, want: Want["boolean", "numeric"], max_length: int | None = MAX_LENGTH) -> exp.Expression:
    """Parse and check ``text``; return the typed tree or raise ExpressionError with every issue.

    ``max_length`` limits what an author writes; the generated conditions of a policy's scope (its
    industries, one STARTS_WITH each) are compiled without it. Nesting and size are bounded either way."""
    if max_length is not None and len(text) > max_length:
        raise ExpressionError([ExprIssue(f"表达式过长（超过 {max_length} 个字符）", 0, len(text))])
    tree = parse_expression(text)
    checker = _Checker()
    kind = checker.kind(tree)
    if kind is not None:
        if want == "boolean" and kind != Kind.BOOLEAN:
            checker.issue(tree, f"条件必须是判断（结果为“是/否”），这里得到的是{kind.label}", type_error=True)
        if want == "numeric" and not kind.numeric:
            checker.issue(tree, f"奖补金额必须是数值（万元），这里得到的是{kind.label}", type_error=True)
    if checker.issues:
        raise ExpressionError(checker.issues)
    if compiled_size(tree) > MAX_COMPILED_NODES:
        message = f"表达式过于复杂：LEAST、GREATEST 或 CASE 嵌套太多（编译后超过 {MAX_COMPILED_NODES} 个节点），请拆成几个条件"
        raise ExpressionError([ExprIssue(message, 0, len(text))])
    return tree


def compiled_size(tree: exp.Expression) -> int:
    """An upper bound of the node count of ``tree`` once lowered (compile.lower), without lowering it."""
    size: dict[int, int] = {}
    for node in reversed(list(tree.walk(bfs=True))):  # children before their parents
        children = [size[id(c)] for c in node.iter_expressions()]
        if isinstance(node, (exp.Least, exp.Greatest)):
            size[id(node)] = 8 + 2 * sum(children) + 8 * len(children)  # CASE WHEN (a) IS NULL OR … THEN NULL ELSE …
        elif isinstance(node, exp.Case):
            guards = sum(size[id(b.this)] + 8 for b in node.args["ifs"])  # WHEN (w) IS NULL THEN NULL, per WHEN
            size[id(node)] = 8 + sum(children) + guards
        else:
            size[id(node)] = 8 + sum(children)  # e.g. CAST(x AS DECIMAL(38, 10)), or two casts and a NULLIF for /
    return size[id(tree)]


def fields_of(tree: exp.Expression) -> list[str]:
    """The fields an expression reads, in schema order."""
    names = {c.name for c in tree.find_all(exp.Column)}
    return [f.name for f in ALL_FIELDS if f.name in names]


def kind_of(node: exp.Expression) -> Kind:
    return node.meta[KIND]


class _Checker:
    def __init__(self) -> None:
        self.issues: list[ExprIssue] = []

    def issue(self, node: exp.Expression, message: str, type_error: bool = False) -> None:
        start, end = node_span(node)
        self.issues.append(ExprIssue(message, start, end, type_error))

    def kind(self, node: exp.Expression) -> Kind | None:
        kind = self._kind(node)
        if kind is not None:
            node.meta[KIND] = kind
        return kind

    def _kind(self, node: exp.Expression) -> Kind | None:  # noqa: C901 - one branch per construct
        if node.comments:
            self.issue(node, "表达式中不能写注释")
            return None
        if type(node) not in SOURCE_NODES or type(node) in (exp.Identifier, exp.If, exp.DataType):
            self.issue(node, _unsupported(node))  # If, Identifier, DataType only inside CASE, a column, a cast
            return None
        if isinstance(node, exp.Paren):
            return self.kind(node.this)
        if isinstance(node, exp.Column):
            return self._column(node)
        if isinstance(node, exp.Literal):
            return self._literal(node)
        if isinstance(node, exp.Boolean):
            return Kind.BOOLEAN
        if isinstance(node, exp.Null):
            self.issue(node, "NULL 只能用于 IS NULL 或 IS NOT NULL；缺失的数据会自动按“未知”处理")
            return None
        if isinstance(node, exp.Cast):
            return self._date_literal(node)
        if isinstance(node, (exp.And, exp.Or)):
            return self._all(node, (node.this, node.expression), Kind.BOOLEAN, "AND/OR 两侧都必须是判断")
        if isinstance(node, exp.Not):
            return self._all(node, (node.this,), Kind.BOOLEAN, "NOT 后面必须是判断")
        if isinstance(node, COMPARISONS):
            return self._compare(node, node.this, [node.expression])
        if isinstance(node, exp.Between):
            return self._compare(node, node.this, [node.args["low"], node.args["high"]])
        if isinstance(node, exp.In):
            return self._in(node)
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                self.issue(node, "IS 只能用于 IS NULL 或 IS NOT NULL")
                return None
            return Kind.BOOLEAN if self.kind(node.this) is not None else None
        if isinstance(node, ARITHMETIC):
            kinds = self._numeric(node, (node.this, node.expression), "算术运算")
            if kinds is None:
                return None
            return Kind.NUMBER if isinstance(node, exp.Div) else promote(*kinds)
        if isinstance(node, exp.Neg):
            kinds = self._numeric(node, (node.this,), "负号")
            return None if kinds is None else kinds[0]
        if isinstance(node, exp.Case):
            return self._case(node)
        if isinstance(node, exp.Like):
            return self._like(node)
        if type(node) in FUNCTIONS:
            return self._function(node)
        self.issue(node, _unsupported(node))
        return None

    def _column(self, node: exp.Column) -> Kind | None:
        ident = node.this
        if node.table or node.args.get("db") or node.args.get("catalog"):
            self.issue(node, "只能引用企业自身的字段，不能引用其他表")
            return None
        if not isinstance(ident, exp.Identifier) or ident.quoted:
            self.issue(node, "字段名不要加引号；文本请使用单引号，例如 size_class = '小型'")
            return None
        if ident.name == AS_OF:
            return Kind.DATE
        field = FIELDS_BY_NAME.get(ident.name)
        if field is None:
            self.issue(node, _unknown_field(ident.name))
            return None
        return FIELD_KIND[field.type]

    def _literal(self, node: exp.Literal) -> Kind | None:
        text = node.this
        if node.is_string:
            problem = string_literal_problem(text)
            if problem is not None:
                self.issue(node, problem)
                return None
            return Kind.STRING
        if any(ch in text for ch in "eE"):
            self.issue(node, "请直接写出数字，不要使用科学计数法")
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.issue(node, f"无法识别的数字“{text}”")
            return None
        if len(value.as_tuple().digits) > MAX_SIGNIFICANT_DIGITS:
            self.issue(node, f"数字位数过多（最多 {MAX_SIGNIFICANT_DIGITS} 位有效数字）")
            return None
        return Kind.DECIMAL if "." in text else Kind.INTEGER

    def _date_literal(self, node: exp.Cast) -> Kind | None:
        value = node.this
        if not (node.to.is_type(exp.DataType.Type.DATE) and isinstance(value, exp.Literal) and value.is_string):
            self.issue(node, "不支持类型转换（CAST）；日期请写成 DATE '2021-01-01'")
            return None
        try:
            date.fromisoformat(value.this)
        except ValueError:
            self.issue(node, f"日期“{value.this}”无效，应写成 DATE '2021-01-01' 的形式")
            return None
        if len(value.this) != 10:
            self.issue(node, f"日期“{value.this}”应写成 YYYY-MM-DD 的形式")
            return None
        return Kind.DATE

    def _all(self, node, parts, want: Kind, message: str) -> Kind | None:
        ok = True
        for part in parts:
            kind = self.kind(part)
            if kind is None:
                ok = False
            elif kind != want:
                self.issue(part, f"{message}，这里是{kind.label}", type_error=True)
                ok = False
        return want if ok else None

    def _numeric(self, node, parts, what: str) -> list[Kind] | None:
        kinds = [self.kind(p) for p in parts]
        if any(k is None for k in kinds):
            return None
        bad = [(p, k) for p, k in zip(parts, kinds) if not k.numeric]
        for part, kind in bad:
            self.issue(part, f"{what}只能用于数值，这里是{kind.label}（{part.sql()}）", type_error=True)
        return None if bad else kinds

    def _compare(self, node, left, rights) -> Kind | None:
        kinds = [self.kind(x) for x in [left, *rights]]
        if any(k is None for k in kinds):
            return None
        for right, kind in zip(rights, kinds[1:]):
            if not comparable(kinds[0], kind):
                self.issue(
                    node,
                    f"不能比较{kinds[0].label}和{kind.label}：“{left.sql()}”与“{right.sql()}”类型不同"
                    + _hint(kinds[0], right),
                    type_error=True,
                )
                return None
        return Kind.BOOLEAN

    def _in(self, node: exp.In) -> Kind | None:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            self.issue(node, "IN 后面只能是用括号括起的常量列表，例如 size_class IN ('小型', '微型')")
            return None
        items = node.expressions
        if not items:
            self.issue(node, "IN 列表不能为空")
            return None
        for item in items:
            if not isinstance(item, (exp.Literal, exp.Boolean, exp.Neg, exp.Cast)):
                self.issue(item, "IN 列表中只能写常量")
                return None
        return self._compare(node, node.this, items)

    def _case(self, node: exp.Case) -> Kind | None:
        if node.this is not None:
            self.issue(node, "请使用 CASE WHEN 条件 THEN 值 … ELSE 值 END 的形式")
            return None
        if node.args.get("default") is None:
            self.issue(node, "CASE 必须有 ELSE 分支（其余情况的取值）")
            return None
        ok = True
        results = []
        for branch in node.args["ifs"]:
            if self._all(branch, (branch.this,), Kind.BOOLEAN, "WHEN 后面必须是判断") is None:
                ok = False
            results.append(branch.args["true"])
        results.append(node.args["default"])
        kinds = [self.kind(r) for r in results]
        if not ok or any(k is None for k in kinds):
            return None
        if all(k.numeric for k in kinds):
            return promote(*kinds)
        if len(set(kinds)) != 1:
            self.issue(node, "CASE 各分支的结果必须是同一类型", type_error=True)
            return None
        return kinds[0]

    def _like(self, node: exp.Like) -> Kind | None:
        pattern = node.expression
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            self.issue(node, "LIKE 后面必须是文本常量，例如 industry_code LIKE 'C39%'")
            return None
        kinds = [self.kind(node.this), self.kind(pattern)]
        if kinds[0] is not None and kinds[0] != Kind.STRING:
            self.issue(node.this, f"LIKE 只能用于文本字段，这里是{kinds[0].label}", type_error=True)
            return None
        return Kind.BOOLEAN if None not in kinds else None

    def _function(self, node: exp.Expression) -> Kind | None:
        name = FUNCTIONS[type(node)]
        if isinstance(node, exp.Round):
            digits = node.args.get("decimals")
            if digits is not None and not (isinstance(digits, exp.Literal) and digits.is_int and 0 <= int(digits.this) <= 10):
                self.issue(node, "ROUND 的第二个参数必须是 0 到 10 之间的整数")
                return None
            kinds = self._numeric(node, (node.this,), name)
            if kinds is None:
                return None
            return Kind.DECIMAL if kinds[0] == Kind.NUMBER else kinds[0]
        if isinstance(node, (exp.Floor, exp.Ceil)):
            if node.args.get("decimals") is not None or node.args.get("to") is not None:
                self.issue(node, f"{name} 只接受一个参数（取整到个位），例如 {name}(revenue_growth * 100)")
                return None
            kinds = self._numeric(node, (node.this,), name)
            if kinds is None:
                return None
            return Kind.DECIMAL if kinds[0] == Kind.NUMBER else kinds[0]
        if isinstance(node, exp.Year):
            kind = self.kind(node.this)
            if kind is not None and kind != Kind.DATE:
                self.issue(node, f"YEAR() 只能用于日期，这里是{kind.label}", type_error=True)
                return None
            return Kind.INTEGER if kind else None
        if isinstance(node, exp.StartsWith):
            kinds = [self.kind(node.this), self.kind(node.expression)]
            if None in kinds:
                return None
            if kinds != [Kind.STRING, Kind.STRING]:
                self.issue(node, "STARTS_WITH 的两个参数都必须是文本", type_error=True)
                return None
            return Kind.BOOLEAN
        if isinstance(node, exp.Abs):
            kinds = self._numeric(node, (node.this,), name)
            return None if kinds is None else kinds[0]
        args = [node.this, *node.expressions]
        if isinstance(node, (exp.Least, exp.Greatest)):
            if len(args) < 2:
                self.issue(node, f"{name} 至少需要两个参数")
                return None
            kinds = self._numeric(node, args, name)
            return None if kinds is None else promote(*kinds)
        kinds = [self.kind(a) for a in args]  # COALESCE
        if None in kinds:
            return None
        if all(k.numeric for k in kinds):
            return promote(*kinds)
        if len(set(kinds)) != 1:
            self.issue(node, "COALESCE 的各参数必须是同一类型", type_error=True)
            return None
        return kinds[0]


def _unsupported(node: exp.Expression) -> str:
    if isinstance(node, (exp.Query, exp.Subquery, exp.DDL, exp.DML, exp.Command, exp.Pragma, exp.Set)):
        return "表达式中不能包含查询或数据库命令，只能读取企业自身的字段"
    if isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        allowed = "、".join(FUNCTIONS.values())
        return f"不支持函数 {name.upper()}()；可用的函数：{allowed}"
    return f"不支持的写法“{node.sql()[:40]}”（{type(node).__name__}）；请参阅 docs/policy-format.md"


def _unknown_field(name: str) -> str:
    by_label = {f.label_zh: f.name for f in ALL_FIELDS}
    if name in by_label:
        return f"未知字段“{name}”，是否想写“{by_label[name]}”（{name}）？"
    guess = difflib.get_close_matches(name.lower(), FIELDS_BY_NAME, n=1, cutoff=0.6)
    if not guess:
        guess = difflib.get_close_matches(name, by_label, n=1, cutoff=0.5)
        guess = [by_label[guess[0]]] if guess else []
    if guess:
        return f"未知字段“{name}”，是否想写“{guess[0]}”？"
    return f"未知字段“{name}”；可用字段见 docs/registry.md"


def _hint(kind: Kind, right: exp.Expression) -> str:
    if kind.numeric and isinstance(right, exp.Literal) and right.is_string:
        return "。数字不要加引号"
    return ""
