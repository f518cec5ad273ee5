"""Expression text → sqlglot tree. Syntax only; check.py decides what is allowed.

sqlglot's parser, the checker, lowering, the SQL generator and the Python evaluator all recurse over the
tree, so its depth is bounded here, before and after parsing, with a Chinese error rather than a
RecursionError (review issue 12: 49 nested parentheses, 108 NOT or 54 nested CASE crashed the editor):
``MAX_NESTING`` levels of parentheses (function calls included), CASE and prefix NOT/minus, counted on the
tokens before sqlglot parses them; ``MAX_TREE_DEPTH`` for the parsed tree, after each chain of AND (or of
OR) has been rebalanced, which changes neither the result (Kleene logic is associative) nor the SQL text.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from qinqing.rules.errors import ExpressionError, ExprIssue

# Policies are written in sqlglot's neutral dialect; engines get their own rendering in compile.py.
READ_DIALECT = ""
MAX_NESTING = 20  # about 23 Python frames a level inside sqlglot's parser (its limit is near 45)
MAX_TREE_DEPTH = 60  # nodes from the root to a leaf; lowering adds up to two levels a node
_PREFIX = {TokenType.NOT, TokenType.DASH, TokenType.PLUS}
_OPEN = {TokenType.L_PAREN, TokenType.CASE}
_CLOSE = {TokenType.R_PAREN, TokenType.END}
# Tokens after which NOT, - and + are infix (x NOT IN …, a - b, IS NOT NULL), not a nesting prefix.
_VALUE_END = {TokenType.NUMBER, TokenType.STRING, TokenType.VAR, TokenType.IDENTIFIER, TokenType.R_PAREN, TokenType.END,
              TokenType.TRUE, TokenType.FALSE, TokenType.NULL, TokenType.R_BRACKET, TokenType.IS}  # fmt: skip


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
    _check_nesting(tokens, text)
    try:
        trees = [t for t in dialect.parser().parse(tokens, text) if t is not None]
    except ParseError as error:
        raise ExpressionError([_parse_issue(text, e) for e in error.errors[:1]]) from None
    except RecursionError:  # a last resort: _check_nesting keeps sqlglot well inside the limit
        raise ExpressionError([_too_deep(0, len(text))]) from None
    if len(trees) != 1:
        raise ExpressionError([ExprIssue("只能写一个表达式", 0, len(text))])
    tree = _balanced(trees[0])
    _check_depth(tree)
    return tree


def _too_deep(start: int, end: int) -> ExprIssue:
    return ExprIssue(f"表达式嵌套过深（最多 {MAX_NESTING} 层括号、CASE 或 NOT），请拆成几个条件", start, end)


def _check_nesting(tokens: list, text: str) -> None:
    """Refuse nesting beyond MAX_NESTING, counted on the tokens, at the token that goes too deep."""
    frames = [0]  # the nesting depth at which each open parenthesis or CASE started
    run = 0  # prefix NOT / - / + in a row just before this token
    previous = None
    for token in tokens:
        kind = token.token_type
        if kind in _PREFIX and previous not in _VALUE_END:
            run += 1
        elif kind in _OPEN:
            frames.append(frames[-1] + run + 1)
            run = 0
        elif kind in _CLOSE:
            if len(frames) > 1:
                frames.pop()
            run = 0
        else:
            run = 0
        if frames[-1] + run > MAX_NESTING:
            raise ExpressionError([_too_deep(token.start, token.end + 1)])
        previous = kind


def _balanced(tree: exp.Expression) -> exp.Expression:
    """The tree with every chain of AND (or of OR) as a balanced tree of the same operands in the same order."""
    heads = [n for n in tree.walk() if isinstance(n, exp.Connector) and type(n.parent) is not type(n)]
    for head in heads:
        operands = _chain(head)
        if len(operands) > 2:
            balanced = _join(type(head), operands)
            if head is tree:
                tree = balanced
            else:
                head.replace(balanced)
    return tree


def _chain(head: exp.Connector) -> list[exp.Expression]:
    """The operands of a chain of one connector, left to right, without recursion."""
    out, stack = [], [head]
    while stack:
        node = stack.pop()
        if type(node) is type(head):
            stack.extend([node.expression, node.this])
        else:
            out.append(node)
    return out


def _join(connector: type[exp.Connector], operands: list[exp.Expression]) -> exp.Expression:
    if len(operands) == 1:
        return operands[0]
    half = len(operands) // 2
    return connector(this=_join(connector, operands[:half]), expression=_join(connector, operands[half:]))


def _check_depth(tree: exp.Expression) -> None:
    """Refuse a tree deeper than MAX_TREE_DEPTH (e.g. a chain of hundreds of + or =), at its deepest part."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            start, end = node_span(node)
            message = f"表达式过长：运算嵌套超过 {MAX_TREE_DEPTH} 层，请拆成几个条件"
            raise ExpressionError([ExprIssue(message, start, end)])
        stack.extend((child, depth + 1) for child in node.iter_expressions())


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
