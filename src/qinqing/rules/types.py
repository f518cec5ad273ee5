"""Value kinds of the policy language and how each engine stores them."""

from __future__ import annotations

from enum import Enum

import pyarrow as pa
from sqlglot import exp

from qinqing.registry.schema import FieldType
from qinqing.registry.tables import ARROW_TYPES


class Kind(str, Enum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"  # exact: money fields and decimal literals
    NUMBER = "number"  # DOUBLE: measured quantities and ratios, and every division
    BOOLEAN = "boolean"
    DATE = "date"

    @property
    def numeric(self) -> bool:
        return self in (Kind.INTEGER, Kind.DECIMAL, Kind.NUMBER)

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Kind.STRING: "文本",
    Kind.INTEGER: "整数",
    Kind.DECIMAL: "数值",
    Kind.NUMBER: "数值",
    Kind.BOOLEAN: "是/否",
    Kind.DATE: "日期",
}

FIELD_KIND = {
    FieldType.STRING: Kind.STRING,
    FieldType.INTEGER: Kind.INTEGER,
    FieldType.MONEY: Kind.DECIMAL,
    FieldType.NUMBER: Kind.NUMBER,
    FieldType.BOOLEAN: Kind.BOOLEAN,
    FieldType.DATE: Kind.DATE,
}

MONEY_SQL = "DECIMAL(18, 4)"

_SQL_TYPE = {
    FieldType.STRING: "VARCHAR",
    FieldType.INTEGER: "BIGINT",
    FieldType.MONEY: MONEY_SQL,
    FieldType.NUMBER: "DOUBLE",
    FieldType.BOOLEAN: "BOOLEAN",
    FieldType.DATE: "DATE",
}


def sql_type(field_type: FieldType) -> exp.DataType:
    return exp.DataType.build(_SQL_TYPE[field_type])


def arrow_type(field_type: FieldType) -> pa.DataType:
    return ARROW_TYPES[field_type]


def promote(*kinds: Kind) -> Kind:
    """The kind of arithmetic over numeric ``kinds``: DOUBLE wins, then exact decimal, then integer."""
    if Kind.NUMBER in kinds:
        return Kind.NUMBER
    if Kind.DECIMAL in kinds:
        return Kind.DECIMAL
    return Kind.INTEGER


def comparable(a: Kind, b: Kind) -> bool:
    return a == b or (a.numeric and b.numeric)


def enterprise_schema() -> pa.Schema:
    """Arrow schema of an enterprise table: every stored field with its type."""
    from qinqing.registry.schema import STORED_FIELDS

    return pa.schema([(f.name, arrow_type(f.type)) for f in STORED_FIELDS])
