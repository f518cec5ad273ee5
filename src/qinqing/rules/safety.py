"""Defence in depth: a compiled expression may only contain these nodes and read only enterprise fields.

check.py already refuses everything else in the source; this verifies the *output* of compilation
(and, in tests, the SQL text re-parsed per dialect), so a bug in lowering cannot widen the language.
"""

from __future__ import annotations

from sqlglot import exp

from qinqing.registry.schema import FIELDS_BY_NAME
from qinqing.rules.errors import CompileError

SAFE_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren,
    exp.And, exp.Or, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg, exp.In, exp.Between, exp.Is,
    exp.Case, exp.If, exp.Like, exp.StartsWith, exp.Least, exp.Greatest, exp.Abs, exp.Round,
    exp.Coalesce, exp.Year, exp.Nullif, exp.Cast, exp.DataType, exp.DataTypeParam, exp.Floor, exp.Ceil,
    exp.TryCast,  # sqlglot's Spark reader reads back some CASTs as TRY_CAST (same types, checked below)
)  # fmt: skip
SAFE_TYPES = {exp.DataType.Type.DATE, exp.DataType.Type.DOUBLE, exp.DataType.Type.DECIMAL, exp.DataType.Type.INT, exp.DataType.Type.BIGINT}


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
        elif isinstance(node, exp.Literal) and node.is_string and ("\\" in node.this or "'" in node.this):
            problems.append(f"string literal {node.this!r}")
    return problems


def assert_safe(tree: exp.Expression) -> None:
    problems = unsafe_parts(tree)
    if problems:
        raise CompileError("编译结果超出表达式语言的范围：" + "；".join(problems))
