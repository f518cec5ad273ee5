"""YAML text → ``System``, every problem reported with its line and column.

The text is composed once with PyYAML's node composer (which keeps each node's place), turned into plain
data, and validated by the pydantic model; each validation error's location (a JSON path) is mapped back to
the node it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from qinqing.errors import Place
from qinqing.indices.config import System
from qinqing.indices.errors import ConfigInvalid

MAX_BYTES = 2 * 1024 * 1024
BUILTIN_DIR = Path(__file__).with_name("configs")


def load_system(path: str | Path) -> System:
    """The indicator system in the YAML file at ``path``; ``ConfigInvalid`` names every problem's place."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigInvalid([(f"无法读取指标体系文件：{error.strerror}", None)], filename=str(path)) from None
    if len(data) > MAX_BYTES:
        raise ConfigInvalid([(f"指标体系文件超过 {MAX_BYTES // 1024} KiB。", None)], filename=str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigInvalid([(f"文件不是 UTF-8 编码（第 {error.start + 1} 个字节）。", None)],
                            filename=str(path)) from None
    return parse_system(text, filename=str(path))


def parse_system(text: str, filename: str | None = None) -> System:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        place = Place(line=mark.line + 1, column=mark.column + 1) if mark else None
        raise ConfigInvalid([(f"YAML 语法错误：{error.problem}", place)], filename=filename) from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise ConfigInvalid([("指标体系文件须是一个 YAML 映射（id、name、tree……）。", None)], filename=filename)
    places: dict[tuple, Place] = {}
    data = _plain(root, (), places)
    try:
        return System.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            location = tuple(item["loc"])
            place = _nearest(places, location)
            key = ".".join(str(part) for part in location if not _is_variant(part))
            message = item["msg"].removeprefix("Value error, ")
            problems.append((f"{message}（{key or '根'}）", place.filled(field=key or None) if place else None))
        raise ConfigInvalid(problems, filename=filename) from None


def builtin_paths() -> list[Path]:
    """The indicator systems shipped with qinqing (``indices/configs/*.yaml``)."""
    return sorted(BUILTIN_DIR.glob("*.yaml"))


def _plain(node: yaml.Node, path: tuple, places: dict[tuple, Place]) -> Any:
    places[path] = Place(line=node.start_mark.line + 1, column=node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader.construct_scalar(yaml.SafeLoader(""), key_node) if isinstance(
                key_node, yaml.ScalarNode) else str(key_node.value)
            result[key] = _plain(value_node, (*path, key), places)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), places) for i, item in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _is_variant(part: Any) -> bool:
    # pydantic puts union member names ("power", "function-after[...]") into locations
    return isinstance(part, str) and ("[" in part or part in {"power", "piecewise_linear"})


def _nearest(places: dict[tuple, Place], location: tuple) -> Place | None:
    cleaned = tuple(part for part in location if not _is_variant(part))
    while cleaned:
        if cleaned in places:
            return places[cleaned]
        cleaned = cleaned[:-1]
    return places.get(())
