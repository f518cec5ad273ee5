"""The enterprises table and its queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from qinqing.db import MIGRATIONS_DIR, make_engine, migrate, version_locations
from qinqing.registry import store
from qinqing.registry.schema import STORED_FIELDS, STORED_NAMES, FieldType
from qinqing.registry.tables import ENTERPRISES_ARROW_SCHEMA

ROW_A = {
    "uscc": "91330106MA27XXXX1A",
    "name": "杭州甲科技有限公司",
    "region_code": "330106",
    "industry_code": "C3911",
    "established_on": date(2015, 3, 5),
    "legal_person": True,
    "employees": 120,
    "revenue": Decimal("12345.6789"),
    "revenue_prev": Decimal("0"),
    "layoff_rate": 0.025,
    "is_dishonest": False,
    "high_tech_cert_year": 2022,
    "rd_expense": None,
}
ROW_B = {"uscc": "91330106MA27XXXX2B", "name": "杭州乙贸易有限公司", "region_code": "330102"}


def test_every_piece_directory_is_a_version_location():
    assert MIGRATIONS_DIR / "registry" in version_locations()


def _normalised_type(column_type) -> tuple:
    if isinstance(column_type, sa.Numeric) and not isinstance(column_type, sa.Float):
        return ("money", column_type.precision, column_type.scale)
    for kind, sql_type in (("number", sa.Float), ("integer", sa.Integer), ("boolean", sa.Boolean),
                           ("date", sa.Date), ("string", sa.String)):
        if isinstance(column_type, sql_type):
            return (kind,)
    return (type(column_type).__name__,)


EXPECTED_TYPE = {FieldType.MONEY: ("money", 18, 4), FieldType.NUMBER: ("number",), FieldType.INTEGER: ("integer",),
                 FieldType.BOOLEAN: ("boolean",), FieldType.DATE: ("date",), FieldType.STRING: ("string",)}


def test_migrated_table_has_exactly_the_stored_fields(engine):
    columns = {c["name"]: c for c in sa.inspect(engine).get_columns("enterprises")}
    assert list(columns) == [*STORED_NAMES, "updated_at"]
    for field in STORED_FIELDS:
        got = _normalised_type(columns[field.name]["type"])
        if engine.dialect.name == "sqlite" and field.type is FieldType.BOOLEAN:
            assert got in {("boolean",), ("integer",)}  # SQLite reflects BOOLEAN loosely
        else:
            assert got == EXPECTED_TYPE[field.type], field.name
        assert columns[field.name]["nullable"] is (field.name != "uscc")
    assert sa.inspect(engine).get_pk_constraint("enterprises")["constrained_columns"] == ["uscc"]


def test_migrate_twice_changes_nothing(database_url):
    migrate(database_url)
    migrate(database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        heads = connection.exec_driver_sql("select version_num from alembic_version").scalars().all()
    engine.dispose()
    assert "registry_0001" in heads


def test_upsert_round_trip_keeps_types_and_nulls(engine):
    assert store.upsert_enterprises(engine, [ROW_A, ROW_B]) == 2
    got = store.get_enterprise(engine, ROW_A["uscc"])
    assert set(got) == set(STORED_NAMES)
    for key, value in ROW_A.items():
        assert got[key] == value, key
        assert type(got[key]) is type(value), key
    assert got["revenue_prev"] == Decimal("0") and got["rd_expense"] is None  # 0 and NULL stay apart
    assert got["tax_paid"] is None
    assert store.get_enterprise(engine, "91330106MA27XXXX9Z") is None
    assert store.count_enterprises(engine) == 2


def test_upsert_updates_only_the_given_fields(engine):
    store.upsert_enterprises(engine, [ROW_A])
    store.upsert_enterprises(engine, [{"uscc": ROW_A["uscc"], "employees": 130, "layoff_rate": None}])
    got = store.get_enterprise(engine, ROW_A["uscc"])
    assert got["employees"] == 130
    assert got["layoff_rate"] is None
    assert got["name"] == ROW_A["name"] and got["revenue"] == ROW_A["revenue"]
    assert store.count_enterprises(engine) == 1


def test_upsert_is_all_or_nothing_on_engine(engine):
    bad = {"uscc": "91330106MA27XXXX3C", "no_such_field": 1}  # fails in the second batch
    with pytest.raises(KeyError):
        store.upsert_enterprises(engine, [ROW_A, ROW_B, bad], batch_size=2)
    assert store.count_enterprises(engine) == 0


def test_batches_cover_every_enterprise_in_uscc_order(engine):
    rows = [{"uscc": f"9133010600000000{i:02d}", "employees": i} for i in range(7)]
    store.upsert_enterprises(engine, reversed(rows), batch_size=3)
    batches = list(store.iter_enterprise_batches(engine, batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [r["uscc"] for b in batches for r in b] == [r["uscc"] for r in rows]


def test_to_arrow_is_typed_by_the_schema(engine):
    assert store.to_arrow(engine).schema == ENTERPRISES_ARROW_SCHEMA
    store.upsert_enterprises(engine, [ROW_A, ROW_B])
    table = store.to_arrow(engine)
    assert table.schema == ENTERPRISES_ARROW_SCHEMA
    assert table.num_rows == 2
    first = table.slice(0, 1).to_pylist()[0]
    assert first["revenue"] == Decimal("12345.6789")
    assert first["established_on"] == date(2015, 3, 5)
    assert first["rd_expense"] is None
    only_b = store.to_arrow(engine, usccs=[ROW_B["uscc"], "91330106MA27XXXX9Z"])
    assert only_b.column("uscc").to_pylist() == [ROW_B["uscc"]]
    assert only_b.column("employees").type == pa.int64()


def test_enterprise_with_derived(engine):
    store.upsert_enterprises(engine, [ROW_A])
    profile = store.enterprise_with_derived(engine, ROW_A["uscc"], date(2024, 3, 4))
    assert profile["name"] == ROW_A["name"]
    assert profile["age_years"] == 8  # 2015-03-05 → 2024-03-04: one day short of 9 years
    assert profile["size_class"] == "小型"  # 工业: 20 ≤ 120 < 300 employees, 300 ≤ 12,345.7 < 40,000 万元
    assert profile["revenue_growth"] is None  # revenue_prev is 0: no growth rate, and not 0
    assert profile["rd_intensity"] is None  # rd_expense unknown
    assert store.enterprise_with_derived(engine, "91330106MA27XXXX9Z", date(2024, 3, 4)) is None


def test_write_rows_stores_exactly_what_upsert_enterprises_stores(engine):
    # The import's writer (raw DB-API rows) against the dict writer, on both databases.
    names = tuple(ROW_A)
    with engine.begin() as connection:
        assert store.write_rows(connection, names, [tuple(ROW_A[n] for n in names)]) == 1
    via_rows = store.get_enterprise(engine, ROW_A["uscc"])
    raw_sql = "select " + ", ".join(names) + " from enterprises"
    with engine.connect() as connection:
        raw_rows = connection.exec_driver_sql(raw_sql).fetchall()
        connection.exec_driver_sql("delete from enterprises")
        connection.commit()
    store.upsert_enterprises(engine, [ROW_A])
    assert store.get_enterprise(engine, ROW_A["uscc"]) == via_rows
    with engine.connect() as connection:
        assert connection.exec_driver_sql(raw_sql).fetchall() == raw_rows  # same storage classes too
    # Only the given columns are written: a second write of two fields keeps the others.
    with engine.begin() as connection:
        store.write_rows(connection, ("uscc", "employees"), [(ROW_A["uscc"], 131)])
    got = store.get_enterprise(engine, ROW_A["uscc"])
    assert got["employees"] == 131 and got["name"] == ROW_A["name"]
