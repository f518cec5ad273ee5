"""The registry's tables, built from schema.STORED_FIELDS (one column per stored field)."""

from __future__ import annotations

import pyarrow as pa
import sqlalchemy as sa

from qinqing.registry.schema import STORED_FIELDS, FieldType

metadata = sa.MetaData()

# One SQL type per value type of the policy language; NULL always means "unknown".
SQL_TYPES: dict[FieldType, sa.types.TypeEngine] = {
    FieldType.STRING: sa.String(),
    FieldType.INTEGER: sa.Integer(),
    FieldType.MONEY: sa.Numeric(18, 4),
    FieldType.NUMBER: sa.Float(),
    FieldType.BOOLEAN: sa.Boolean(create_constraint=False),
    FieldType.DATE: sa.Date(),
}


def _column(name: str, type_: FieldType) -> sa.Column:
    if name == "uscc":
        return sa.Column("uscc", sa.String(18), primary_key=True)
    return sa.Column(name, SQL_TYPES[type_], nullable=True)


enterprises = sa.Table(
    "enterprises",
    metadata,
    *(_column(f.name, f.type) for f in STORED_FIELDS),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("ix_enterprises_region_code", "region_code"),
    sa.Index("ix_enterprises_industry_code", "industry_code"),
)


# The same types for Arrow (matching hands registries to DuckDB and Spark as Arrow tables).
ARROW_TYPES = {
    FieldType.STRING: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.MONEY: pa.decimal128(18, 4),
    FieldType.NUMBER: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.DATE: pa.date32(),
}

ENTERPRISES_ARROW_SCHEMA = pa.schema(
    [pa.field(f.name, ARROW_TYPES[f.type], nullable=f.name != "uscc") for f in STORED_FIELDS]
)
