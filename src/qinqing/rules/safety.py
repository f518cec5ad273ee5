"""The one whitelist of the language: which nodes and literals an expression may contain, before and after
compilation.

check.py accepts only ``SOURCE_NODES`` and string literals that ``string_literal_problem`` passes, and gives
each its Chinese message; ``unsafe_parts`` verifies the *output* of compilation against the same lists plus
the nodes lowering adds (and, in tests, the SQL text re-parsed per dialect), so a bug in lowering cannot
widen the language. Review issue 10: the two used to disagree (``name = 'O''Brien'`` passed the checker and
failed the compiler); now there is nothing to disagree on.
"""

from __future__ import annotations

from sqlglot import exp

from qinqing.registry.schema import FIELDS_BY_NAME
from qinqing.rules.errors import CompileError

# What an author may write (check.py gives each its rules and types).
SOURCE_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren,
    exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg, exp.In, exp.Between, exp.Is,
    exp.Case, exp.If, exp.Like, exp.StartsWith, exp.Least, exp.Greatest, exp.Abs, exp.Round,
    exp.Coalesce, exp.Year, exp.Floor, exp.Ceil,
    exp.Cast, exp.DataType,  # DATE '2021-01-01' only (check.py)
)  # fmt: skip
# What lowering adds: NULLIF around a divisor, casts to DOUBLE and DECIMAL (with their parameters).
LOWERED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Nullif, exp.DataTypeParam,
    exp.TryCast,  # sqlglot's Spark reader reads back some CASTs as TRY_CAST (same types, checked below)
)
SAFE_NODES = SOURCE_NODES + LOWERED_NODES
SAFE_TYPES = {exp.DataType.Type.DATE, exp.DataType.Type.DOUBLE, exp.DataType.Type.DECIMAL, exp.DataType.Type.INT, exp.DataType.Type.BIGINT}
MAX_STRING = 200


def string_literal_problem(text: str) -> str | None:
    """Why a string literal is outside the language (None when it is fine), in Chinese.

    A single quote is fine (``'O''Brien'``): sqlglot writes it back escaped for each engine. A backslash
    is not: Spark reads it as an escape and DuckDB does not, so one text would mean two things."""
    if "\\" in text or any(ord(ch) < 32 for ch in text):
        return "文本中不能包含反斜杠或控制字符"
    if len(text) > MAX_STRING:
        return f"文本过长（超过 {MAX_STRING} 个字符）"
    return None


def unsafe_parts(tree: exp.Expression) -> list[str]:
    """What in ``tree`` lies outside the compiled language (empty when it is safe)."""
    problems = []
    for node in tree.walk():
        if type(node) not in SAFE_NODES:
            problems.append(f"node {type(node).__name__}: {node.sql()[:60]}")
        elif isinstance(node, exp.Column) and (node.table or node.name not in FIELDS_BY_NAME):
            problems.append(f"column {node.sql()}")
        elif isinstance(node, exp.DataType) and node.this not in SAFE_TYPES:
            problems.append(f"type {node.sql()}")
        elif isinstance(node, exp.Literal) and node.is_string and string_literal_problem(node.this) is not None:
            problems.append(f"string literal {node.this!r}")
    return problems


def assert_safe(tree: exp.Expression) -> None:
    problems = unsafe_parts(tree)
    if problems:
        raise CompileError("编译结果超出表达式语言的范围：" + "；".join(problems))
