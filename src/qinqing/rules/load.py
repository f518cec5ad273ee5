"""Policy YAML → Policy, keeping the place of every value so errors name file, line and column.

Stages: YAML → JSON Schema (policy.schema.json) → expressions (check.py) → the pydantic model.
Every error of a file is collected before raising.

YAML is read twice only when the file is wrong: first with libyaml (``yaml.CSafeLoader``), keeping no
positions; at the first error anywhere, again with PyYAML's pure-Python composer, which keeps the
place of every node, to report every error with its line and column. Before anything is composed,
an event scan refuses anchors and aliases (``&a`` / ``*a``: a few hundred bytes of aliases expand to
gigabytes) and nesting deeper than ``MAX_DEPTH``; a document longer than ``MAX_CHARS`` is not read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pydantic
import yaml

from qinqing.rules.check import check_expression
from qinqing.rules.errors import (
    ExpressionError,
    FileFormatError,
    PolicyErrors,
    RuleError,
    RuleSyntaxError,
    RuleTypeError,
    Span,
)
from qinqing.rules.labels import KEY_LABELS
from qinqing.rules.model import NATIONAL_REGION, Policy

SCENARIO_SUFFIX = ".scenarios.yaml"
Path_ = tuple[str | int, ...]
MAX_CHARS = 256 * 1024  # a policy file; the largest in policies/ has 3,000 characters
MAX_DEPTH = 16  # nested mappings and sequences; a policy file needs 3 (conditions → item → key)
# libyaml's loader when PyYAML was built with it, else the pure-Python one (then every load keeps positions).
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


@lru_cache(maxsize=1)
def policy_schema() -> dict:
    """The JSON Schema of a policy file (src/qinqing/rules/policy.schema.json)."""
    return json.loads(resources.files("qinqing.rules").joinpath("policy.schema.json").read_text("utf-8"))


def load_policy(path: str | Path) -> Policy:
    """Load and check one policy file; raise PolicyErrors listing every error in it."""
    path = Path(path)
    try:
        if path.stat().st_size > 4 * MAX_CHARS:  # UTF-8 has at most 4 bytes a character: too large, unread
            raise PolicyErrors([_too_large(str(path))])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyErrors([FileFormatError(f"无法读取文件：{error}", Span(str(path), 1, 1))]) from None
    return parse_policy_text(text, str(path))


def parse_policy_text(yaml_text: str, filename: str | None = None) -> Policy:
    """Parse and check the text of one policy file; raise PolicyErrors listing every error."""
    return _Loader(yaml_text, filename).load()


def policy_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named by ``paths``; a directory stands for its *.yaml files (not scenarios), recursively."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(f for f in sorted(p.rglob("*.yaml")) if not f.name.endswith(SCENARIO_SUFFIX))
        else:
            found.append(p)
    return found


def load_policies(paths: Iterable[str | Path]) -> tuple[list[Policy], list[RuleError]]:
    """Every policy that loads cleanly, and every error of every file (duplicate ids included)."""
    policies: list[Policy] = []
    errors: list[RuleError] = []
    seen: dict[str, str] = {}
    for path in policy_files(paths):
        try:
            policy = load_policy(path)
        except PolicyErrors as failure:
            errors.extend(failure.errors)
            continue
        if policy.id in seen:
            errors.append(FileFormatError(f"政策编号“{policy.id}”与 {seen[policy.id]} 重复", Span(str(path), 1, 1, key="id")))
            continue
        seen[policy.id] = str(path)
        policies.append(policy)
    return policies, errors


def check_files(paths: Iterable[str | Path]) -> list[RuleError]:
    """Every error in the policy files named by ``paths`` (directories recurse)."""
    paths = list(paths)
    errors = [FileFormatError("路径不存在", Span(str(p), 1, 1)) for p in map(Path, paths) if not p.exists()]
    return errors + load_policies([p for p in paths if Path(p).exists()])[1]


def _too_large(filename: str | None) -> RuleError:
    return FileFormatError(f"政策文件过大（超过 {MAX_CHARS} 个字符），请检查是否选错了文件", Span(filename, 1, 1))


class _NeedPositions(Exception):
    """Raised on the fast path when an error needs a position: the file is then read again, keeping them."""


class _Loader:
    def __init__(self, text: str, filename: str | None, keep_positions: bool = True):
        self.text = text
        self.file = filename
        self.lines = text.splitlines()
        self.keep_positions = keep_positions
        self.nodes: dict[Path_, yaml.Node] = {}
        self.key_nodes: dict[Path_, yaml.Node] = {}
        self.errors: list[RuleError] = []

    def load(self) -> Policy:
        if len(self.text) > MAX_CHARS:
            raise PolicyErrors([_too_large(self.file)])
        if _FAST_LOADER is not None and self.keep_positions:
            try:
                return _Loader(self.text, self.file, keep_positions=False).load()
            except _NeedPositions:
                pass  # some error somewhere: find every one, with its place, the slow way
        data = self._yaml()
        if data is None:
            raise PolicyErrors(self.errors)
        self._schema(data)
        self._semantics(data)
        if self.errors:
            raise PolicyErrors(self.errors)
        try:
            return Policy.model_validate({**data, "path": self.file})
        except pydantic.ValidationError as failure:
            for e in failure.errors():
                self.errors.append(FileFormatError(f"取值无效：{e['msg']}", self._span(tuple(e["loc"]))))
            raise PolicyErrors(self.errors) from None

    # --- YAML, with a node per path -------------------------------------------------------------
    def _yaml(self) -> dict | None:
        loader_class = yaml.SafeLoader if self.keep_positions else _FAST_LOADER
        try:
            problem = _scan_events(loader_class(self.text), keys=not self.keep_positions)
            if problem is not None:
                if not self.keep_positions:
                    raise _NeedPositions
                message, mark = problem
                self.errors.append(FileFormatError(message, self._at(mark.line + 1, mark.column + 1)))
                return None
            loader = loader_class(self.text)
            try:
                root = loader.get_single_node()
                data = loader.construct_document(root) if root is not None else None
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            self.errors.append(FileFormatError(f"YAML 格式错误：{error.problem or error.context}", self._at(line, col)))
            return None
        except yaml.YAMLError as error:
            self.errors.append(FileFormatError(f"YAML 格式错误：{error}", self._at(1, 1)))
            return None
        if not isinstance(data, dict):
            self.errors.append(FileFormatError("政策文件的顶层必须是“键: 值”的映射", self._at(1, 1)))
            return None
        if self.keep_positions:
            self._index(root, ())
        return data

    def _index(self, node: yaml.Node, path: Path_) -> None:
        self.nodes[path] = node
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = key.value
                if name in seen:
                    self.errors.append(FileFormatError(f"键“{name}”重复出现", self._node_span(key, path + (name,))))
                seen.add(name)
                self.key_nodes[path + (name,)] = key
                self._index(value, path + (name,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, path + (i,))

    # --- JSON Schema ----------------------------------------------------------------------------
    def _schema(self, data: dict) -> None:
        validator = jsonschema.Draft202012Validator(policy_schema())
        for error in sorted(validator.iter_errors(_jsonable(data)), key=lambda e: list(map(str, e.absolute_path))):
            path = tuple(error.absolute_path)
            self.errors.append(FileFormatError(_schema_message(error), self._span(path, error)))

    # --- ids, scope, expressions ----------------------------------------------------------------
    def _semantics(self, data: dict) -> None:
        # Runs even when the schema failed, on whatever parts have the right shape.
        ids: set[str] = set()
        conditions = data.get("conditions")
        for i, condition in enumerate(conditions if isinstance(conditions, list) else []):
            if not isinstance(condition, dict):
                continue
            cid = condition.get("id")
            if isinstance(cid, str) and cid in ids:
                self.errors.append(FileFormatError(f"条件编号“{cid}”重复", self._span(("conditions", i, "id"))))
            ids.add(cid)
            if isinstance(condition.get("expr"), str) and condition["expr"].strip():
                self._expression(("conditions", i, "expr"), condition["expr"], "boolean")
        benefit = data.get("benefit")
        if isinstance(benefit, dict) and isinstance(benefit.get("expr"), (str, int, float)):
            self._expression(("benefit", "expr"), benefit["expr"], "numeric")
        if isinstance(data.get("region"), str) and re.fullmatch(r"[0-9]{6}", data["region"]):
            self._region(data["region"])
        valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
        if isinstance(valid_from, date) and isinstance(valid_to, date) and valid_to < valid_from:
            self.errors.append(FileFormatError("有效期截止日期早于起始日期", self._span(("valid_to",))))

    def _region(self, code: str) -> None:
        from qinqing.registry.standards import regions

        if code != NATIONAL_REGION and not regions.is_valid(code):
            self.errors.append(FileFormatError(f"行政区划代码“{code}”不存在（GB/T 2260）", self._span(("region",))))

    def _expression(self, path: Path_, value: Any, want: str) -> None:
        text = str(value)
        try:
            check_expression(text, want)  # type: ignore[arg-type]
        except ExpressionError as failure:
            for issue in failure.issues:
                cls = RuleTypeError if issue.type_error else RuleSyntaxError
                self.errors.append(cls(issue.message, self._expr_span(path, text, issue.start, issue.end)))

    # --- places ---------------------------------------------------------------------------------
    def _at(self, line: int, col: int, width: int = 1, key: str = "") -> Span:
        if not self.keep_positions:
            raise _NeedPositions
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Span(self.file, line, col, width, key, source)

    def _span(self, path: Path_, error: jsonschema.ValidationError | None = None) -> Span:
        if not self.keep_positions:
            raise _NeedPositions
        # A missing or unknown key is reported at the mapping (or the unknown key itself).
        if error is not None and error.validator == "additionalProperties":
            extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
            if extra and path + (extra[0],) in self.key_nodes:
                return self._node_span(self.key_nodes[path + (extra[0],)], path + (extra[0],))
        while path and path not in self.nodes:
            path = path[:-1]
        node = self.key_nodes.get(path) if error is not None and error.validator == "required" else None
        return self._node_span(node or self.nodes.get(path) or self.nodes[()], path)

    def _node_span(self, node: yaml.Node, path: Path_) -> Span:
        start, end = node.start_mark, node.end_mark
        width = end.column - start.column if end.line == start.line else len(self.lines[start.line]) - start.column
        return self._at(start.line + 1, start.column + 1, max(1, width), _key(path))

    def _expr_span(self, path: Path_, text: str, start: int, end: int) -> Span:
        if not self.keep_positions:
            raise _NeedPositions
        node = self.nodes[path]
        mark = node.start_mark
        key = _key(path)
        before = text[:start]
        line_in_text, col_in_line = before.count("\n"), len(before) - (before.rfind("\n") + 1)
        width = max(1, min(end, len(text)) - start)
        style = getattr(node, "style", None)
        if style in (None, "'", '"') and mark.line == node.end_mark.line:
            quote = 1 if style else 0
            return self._at(mark.line + 1, mark.column + 1 + quote + start, width, key)
        if style == "|":
            line = mark.line + 1 + line_in_text
            first = self.lines[mark.line + 1] if mark.line + 1 < len(self.lines) else ""
            indent = len(first) - len(first.lstrip(" "))  # the block's indentation, set by its first line
            return self._at(line + 1, indent + col_in_line + 1, width, key)
        # Folded or multi-line scalars: find the offending piece in the lines the scalar spans.
        piece = text[start:end].split("\n")[0].strip()
        for line in range(mark.line, min(node.end_mark.line + 1, len(self.lines))):
            found = self.lines[line].find(piece) if piece else -1
            if found >= 0 and (line > mark.line or found >= mark.column):
                return self._at(line + 1, found + 1, width, key)
        return self._at(mark.line + 1, mark.column + 1, width, key)


def _scan_events(loader: Any, keys: bool) -> tuple[str, Any] | None:
    """The first anchor, alias or too deep nesting in the YAML event stream, before anything is composed.

    With ``keys`` (the fast path), a duplicate key or a key that is not a scalar is a problem too; the
    position-keeping path finds it again on the composed nodes (``_Loader._index``)."""
    frames: list[list[Any]] = []  # per open collection: [is a mapping, next item is a key, keys seen]
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.NodeEvent) and frames and frames[-1][0]:
                frame = frames[-1]
                if frame[1] and keys:
                    if not isinstance(event, yaml.ScalarEvent) or event.value in frame[2]:
                        return "键重复或不是文本", event.start_mark
                    frame[2].add(event.value)
                frame[1] = not frame[1]
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                sign = "*" if isinstance(event, yaml.AliasEvent) else "&"
                return (
                    f"YAML 中不能使用锚点（&）或别名（*），这里是“{sign}{event.anchor}”：请把内容直接写出",
                    event.start_mark,
                )
            if isinstance(event, yaml.CollectionStartEvent):
                frames.append([isinstance(event, yaml.MappingStartEvent), True, set()])
                if len(frames) > MAX_DEPTH:
                    return f"YAML 嵌套过深（最多 {MAX_DEPTH} 层）", event.start_mark
            elif isinstance(event, yaml.CollectionEndEvent):
                frames.pop()
    finally:
        loader.dispose()
    return None


def _key(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    return value


_TYPE_ZH = {"string": "文本", "number": "数字", "integer": "整数", "array": "列表", "object": "映射（键: 值）", "null": "空（null）", "boolean": "是/否"}
_PATTERN_HINTS = {
    "region": "应为 6 位行政区划代码，并加引号，例如 \"230000\"",
    "id": "应由小写字母、数字和连字符组成，例如 hlj-2021-new-above-scale",
    "valid_from": "日期应写成 2021-01-01",
    "valid_to": "日期应写成 2021-12-31",
    "retrieved": "日期应写成 2021-12-31",
    "url": "应以 http:// 或 https:// 开头",
}


def _schema_message(error: jsonschema.ValidationError) -> str:
    where = error.absolute_path[-1] if error.absolute_path else ""
    v = error.validator
    if v == "required":
        # jsonschema reports one error per missing key and names it only in its English message.
        named = re.match(r"'(.+?)' is a required property", error.message)
        key = named.group(1) if named else next((k for k in error.validator_value if k not in error.instance), "")
        return f"缺少必填项“{KEY_LABELS.get(key, key)}”（{key}）"
    if v == "additionalProperties":
        extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
        allowed = "、".join(error.schema.get("properties", {}))
        return f"未知的键“{extra[0] if extra else ''}”；允许的键：{allowed}"
    if v == "enum":
        return f"“{error.instance}”不是允许的取值；可选：{'、'.join(map(str, error.validator_value))}"
    if v == "type":
        types = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return f"“{where}”应为{'或'.join(_TYPE_ZH.get(t, t) for t in types)}"
    if v == "pattern":
        parent = error.absolute_path[-2] if len(error.absolute_path) > 1 else ""
        if parent == "industries":
            return f"行业代码“{error.instance}”格式不正确，应为门类字母加 0/2/3/4 位数字，例如 C、C39、C3911"
        if where == "id" and "conditions" in error.absolute_path:
            return f"条件编号“{error.instance}”格式不正确，应由小写字母、数字和下划线组成，并以字母开头"
        return f"“{error.instance}”格式不正确：{_PATTERN_HINTS.get(str(where), '请参阅 docs/policy-format.md')}"
    if v == "not":
        return f"条件编号“{error.instance}”是保留字（region、industries 由政策的地域和行业自动生成）"
    if v in ("minLength", "minItems"):
        return f"“{where}”不能为空"
    if v == "maxLength":
        label = KEY_LABELS.get(str(where), str(where))
        return f"“{label}”过长：{len(error.instance)} 个字符，最多 {error.validator_value} 个字符"
    if v in ("minimum", "maximum"):
        return f"“{where}”的取值 {error.instance} 超出范围"
    if v == "uniqueItems":
        return f"“{where}”中有重复项"
    return f"“{where}”不符合政策文件格式：{error.message}"
