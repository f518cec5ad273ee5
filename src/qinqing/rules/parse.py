"""Expression text → sqlglot tree. Syntax only; check.py decides what is allowed."""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from qinqing.rules.errors import ExpressionError, ExprIssue

# Policies are written in sqlglot's neutral dialect; engines get their own rendering in compile.py.
READ_DIALECT = ""


def parse_expression(text: str) -> exp.Expression:
    """Parse one expression; raise ExpressionError with every syntax issue found."""
    return _parse(text).copy()


@lru_cache(maxsize=4096)
def _parse(text: str) -> exp.Expression:
    if not text.strip():
        raise ExpressionError([ExprIssue("表达式为空", 0, max(1, len(text)))])
    dialect = sqlglot.Dialect.get_or_raise(READ_DIALECT)
    try:
        tokens = dialect.tokenize(text)
    except TokenError as error:
        raise ExpressionError([_token_issue(text, error)]) from None
    issues = []
    for token in tokens:
        if token.comments:
            issues.append(ExprIssue("表达式中不能写注释（-- 或 /* */）", token.start, token.end + 1))
        if token.token_type == TokenType.SEMICOLON:
            issues.append(ExprIssue("表达式中不能有分号：一个条件只能写一个表达式", token.start, token.end + 1))
    if _has_comment(text) and not any("注释" in i.message for i in issues):
        issues.append(ExprIssue("表达式中不能写注释（-- 或 /* */）", 0, len(text)))
    if issues:
        raise ExpressionError(issues)
    try:
        trees = [t for t in dialect.parser().parse(tokens, text) if t is not None]
    except ParseError as error:
        raise ExpressionError([_parse_issue(text, e) for e in error.errors[:1]]) from None
    if len(trees) != 1:
        raise ExpressionError([ExprIssue("只能写一个表达式", 0, len(text))])
    return trees[0]


def _has_comment(text: str) -> bool:
    # Outside string literals only; the tokenizer attaches comments to neighbours, which can be lost.
    in_string = False
    for i, ch in enumerate(text):
        if ch == "'":
            in_string = not in_string
        elif not in_string and text[i : i + 2] in ("--", "/*", "*/"):
            return True
        elif not in_string and ch == "#":
            return True
    return False


def _token_issue(text: str, error: TokenError) -> ExprIssue:
    if text.count("'") % 2:
        start = text.rfind("'")
        return ExprIssue("字符串缺少结束的单引号（'）", start, len(text))
    if text.count('"') % 2:
        start = text.rfind('"')
        return ExprIssue("缺少结束的双引号；字符串请使用单引号", start, len(text))
    return ExprIssue("表达式无法识别，请检查引号和特殊字符", 0, len(text))


def _parse_issue(text: str, error: dict) -> ExprIssue:
    line, col = error.get("line") or 1, error.get("col") or 1
    highlight = error.get("highlight") or ""
    offset = _offset(text, line, col)
    start = max(0, offset - len(highlight))
    end = max(start + 1, offset)
    near = highlight or text[start:end]
    if not highlight and start >= len(text.rstrip()):
        return ExprIssue("表达式不完整：结尾缺少内容（例如运算符右侧的值或右括号）", max(0, len(text) - 1), len(text))
    return ExprIssue(f"表达式语法错误：“{near}”附近无法解析", start, end)


def _offset(text: str, line: int, col: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + col


def node_span(node: exp.Expression) -> tuple[int, int]:
    """Character offsets [start, end) that a node covers, from the positions sqlglot keeps."""
    starts, ends = [], []
    for sub in node.walk():
        meta = sub.meta if sub._meta else None  # noqa: SLF001 - avoid creating empty meta dicts
        if meta and "start" in meta:
            starts.append(meta["start"])
            ends.append(meta["end"] + 1)
    if not starts:
        return 0, 1
    return min(starts), max(ends)
