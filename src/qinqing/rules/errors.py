"""Errors of the policy language: one root (a ``QinqingError``), one subclass per stage, each with its place.

Messages are in Chinese because policy officers read them; `str(error)` gives
``file:line:col: message`` followed by the offending line with the part underlined.
"""

from __future__ import annotations

from dataclasses import dataclass

from qinqing.errors import Place, QinqingError


@dataclass(frozen=True)
class Span:
    """Where an error is: 1-based line and column in ``file``, ``width`` characters wide."""

    file: str | None
    line: int
    col: int
    width: int = 1
    key: str = ""  # path of the YAML key, e.g. conditions[2].expr
    source_line: str = ""  # the text of that line, for the snippet

    def snippet(self) -> str:
        if not self.source_line:
            return ""
        text = self.source_line.rstrip("\n")
        lead = "".join(ch if ch == "\t" else " " for ch in text[: self.col - 1])
        width = max(1, min(self.width, max(1, len(text) - self.col + 1)))
        return f"    {text}\n    {lead}{'^' * width}"

    def place(self) -> str:
        return f"{self.file or '<text>'}:{self.line}:{self.col}"


class RuleError(QinqingError):
    """Root of every error in qinqing.rules; ``span`` is where it is (``place`` says the same)."""

    code = "rules.error"
    status = 422
    kind = "错误"

    def __init__(self, message: str, span: Span | None = None):
        place = None if span is None else Place(span.file, span.line, span.col, field=span.key or None)
        super().__init__(message, place=place)
        self.span = span

    def describe(self) -> str:
        if self.span is None:
            return super().describe()
        key = f"（{self.span.key}）" if self.span.key else ""
        snippet = self.span.snippet()
        return f"{self.span.place()}: {self.message}{key}" + (f"\n{snippet}" if snippet else "")


class FileFormatError(RuleError):
    """The file is not readable YAML, or does not follow the policy file schema."""

    code = "rules.file_format"
    status = 422
    kind = "格式错误"


class RuleSyntaxError(RuleError):
    """An expression cannot be parsed, or uses a construct outside the language."""

    code = "rules.syntax_error"
    status = 422
    kind = "语法错误"


class RuleTypeError(RuleError):
    """An expression combines values of kinds that do not fit (e.g. a number with a string)."""

    code = "rules.type_error"
    status = 422
    kind = "类型错误"


class CompileError(RuleError):
    """A checked policy could not be compiled; a bug in qinqing, never the author's fault. Still a 422: the
    policy is refused (admission, a run) rather than the request failing."""

    code = "rules.compile_error"
    status = 422
    kind = "编译错误"


class PolicyErrors(RuleError):
    """Every error found in one policy file, raised together."""

    code = "rules.policy_errors"
    status = 422

    def __init__(self, errors: list[RuleError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class ExprIssue:
    """A problem inside one expression, at character offsets [start, end) of its text."""

    message: str
    start: int
    end: int
    type_error: bool = False


class ExpressionError(RuleError):
    """Every issue of one expression (offsets relative to the expression text; ``place.character`` is the
    first issue's, 1-based)."""

    code = "rules.expression_error"
    status = 422

    def __init__(self, issues: list[ExprIssue]):
        super().__init__("；".join(i.message for i in issues))
        self.issues = list(issues)
        if issues:
            self.place = Place(character=issues[0].start + 1)


class AmountRangeError(RuleError):
    """The amount can leave its range: below 0, or beyond what DECIMAL(18,4) or an intermediate type holds."""

    code = "rules.amount_range"
    status = 422
    kind = "金额范围错误"


class InputError(RuleError):
    """An enterprise's facts the evaluator cannot take: an unknown or derived field, a value of the wrong
    type; ``place.field`` names the field when there is one."""

    code = "rules.invalid_input"
    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.place = Place(field=field) if field else None
