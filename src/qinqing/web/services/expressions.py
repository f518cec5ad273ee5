"""Checking one condition or benefit expression as the officer types, with the rules engine's Chinese message.

The expression is placed in a minimal policy and checked by the rules engine exactly as a saved policy
would be (whitelist, field names, types), so the editor and `qinqing policy check` never disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from qinqing.catalogue.errors import PolicyInvalid

_TEMPLATE = """id: expression-check
title: 表达式检查
issuer: 表达式检查
document: 表达式检查
level: 国家
region: "100000"
support_type: 奖励
mode: 申报
valid_from: 2020-01-01
source: {{url: "https://example.invalid", publisher: 检查, retrieved: 2020-01-01}}
conditions:
  - id: c
    clause: 检查
    expr: {condition}
benefit:
  clause: 检查
  expr: {benefit}
"""
_INDENT = 6


@dataclass(frozen=True)
class ExpressionProblem:
    message: str
    line: int | None  # 1-based within the expression
    column: int | None

    def as_json(self) -> dict:
        return asdict(self)


def _block(expr: str) -> str:
    return "|-\n" + "\n".join(" " * _INDENT + line for line in (expr.splitlines() or [""]))


def check_expression(expr: str, kind: str = "condition") -> list[ExpressionProblem]:
    """Every problem of ``expr`` used as a condition (boolean) or a benefit formula (amount)."""
    from qinqing.catalogue.parse import parse_policy

    if not expr.strip():
        return [ExpressionProblem("表达式为空。", 1, 1)]
    condition, benefit = (expr, '"0"') if kind == "condition" else ('"TRUE"', expr)
    text = _TEMPLATE.format(condition=_block(condition) if kind == "condition" else condition,
                            benefit=_block(benefit) if kind != "condition" else benefit)
    first_line = text.splitlines().index("    expr: |-") + 2 if kind == "condition" else (
        text.splitlines().index("  expr: |-") + 2)
    try:
        parse_policy(text, "<expression>")
    except PolicyInvalid as error:
        wanted = "conditions[0].expr" if kind == "condition" else "benefit.expr"
        problems = []
        for p in error.problems:
            if p.path and p.path.replace(".0.", "[0].") not in (wanted,) and wanted not in p.path:
                continue
            line = p.line - first_line + 1 if p.line and p.line >= first_line else None
            column = p.column - _INDENT if p.column and line else None
            problems.append(ExpressionProblem(p.message, line, column))
        return problems or [ExpressionProblem(p.message, None, None) for p in error.problems]
    return []
