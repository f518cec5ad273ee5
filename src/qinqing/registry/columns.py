"""Column headers as written in an export → schema fields."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from qinqing.registry.errors import ImportFileError
from qinqing.registry.schema import HEADER_ALIASES, STORED_FIELDS, Field, field

_UNIT_SUFFIX = re.compile(r"\([^()]*\)$")


def normalise_header(header: object) -> str:
    """Full-width brackets and spaces folded (（万元）→(万元)), whitespace and a byte-order mark
    dropped, ASCII lowercased."""
    text = unicodedata.normalize("NFKC", "" if header is None else str(header)).replace("\ufeff", "")
    return re.sub(r"\s+", "", text).lower()


_LOOKUP: dict[str, str] = {
    **{normalise_header(alias): name for alias, name in HEADER_ALIASES.items()},
    **{normalise_header(f.name): f.name for f in STORED_FIELDS},
}


def field_for_header(header: object) -> str | None:
    """The field a header names, trying it also without a trailing unit such as (万元) or (人)."""
    key = normalise_header(header)
    if key in _LOOKUP:
        return _LOOKUP[key]
    bare = _UNIT_SUFFIX.sub("", key)
    return _LOOKUP.get(bare) if bare else None


@dataclass(frozen=True)
class Column:
    index: int  # position in the row
    header: str  # as written in the file, for the report
    field: Field


@dataclass(frozen=True)
class ColumnMap:
    columns: tuple[Column, ...]
    unknown: tuple[str, ...]  # headers that name no field; ignored


def map_headers(path: str | Path, headers: list[object]) -> ColumnMap:
    """Map each header to its field; an error naming the file if uscc is missing or a field appears twice."""
    columns: list[Column] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for index, header in enumerate(headers):
        written = "" if header is None else str(header).strip()
        name = field_for_header(header)
        if name is None:
            if written:
                unknown.append(written)
            continue
        if name in seen:
            raise ImportFileError(
                path, f"列“{seen[name]}”和列“{written}”都对应字段“{field(name).label_zh}”（{name}），请只保留一列"
            )
        seen[name] = written
        columns.append(Column(index, written, field(name)))
    if "uscc" not in seen:
        raise ImportFileError(path, "缺少必需的列“统一社会信用代码”（也可写作“信用代码”或uscc）")
    return ColumnMap(tuple(columns), tuple(unknown))
