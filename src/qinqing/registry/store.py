"""Reading and writing enterprise profiles in the store (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from itertools import islice
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from qinqing.registry.schema import STORED_NAMES
from qinqing.registry.tables import ENTERPRISES_ARROW_SCHEMA, enterprises

UPSERT_BATCH = 5_000
_STORED_COLUMNS = [enterprises.c[name] for name in STORED_NAMES]
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert_enterprises(bind: Engine | Connection, rows: Iterable[Mapping[str, Any]], batch_size: int = UPSERT_BATCH) -> int:
    """Insert or update ``rows`` (dicts keyed by field name) by uscc; returns how many were written.

    Only the fields present in a row are written: a key absent from the dict leaves the stored
    value as it was (NULL for a new enterprise), a key present with ``None`` stores NULL.
    Given an Engine, all rows are written in one transaction; given a Connection, in its transaction.
    """
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            return upsert_enterprises(connection, rows, batch_size)
    insert = _INSERTS.get(bind.dialect.name)
    if insert is None:
        raise NotImplementedError(f"upsert is implemented for SQLite and PostgreSQL, not {bind.dialect.name}")
    written = 0
    iterator = iter(rows)
    while batch := list(islice(iterator, batch_size)):
        for keys, group in _group_by_keys(batch).items():
            bind.execute(_upsert_statement(insert, keys), group)
        written += len(batch)
    return written


def write_rows(connection: Connection, names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> int:
    """Upsert ``rows`` (tuples of values for the fields ``names``, uscc among them) in ``connection``'s transaction.

    The import's writer: one statement through the DB-API, none of SQLAlchemy's per-row parameter
    processing. Only the ``names`` columns are written (others keep their stored values), exactly as
    :func:`upsert_enterprises` does with dicts of these keys.
    """
    if not rows:
        return 0
    unknown = set(names) - set(STORED_NAMES)
    if unknown or "uscc" not in names:
        raise KeyError(f"not stored fields, or no uscc: {sorted(unknown)}")
    dialect = connection.dialect.name
    if dialect == "sqlite":
        binds = [_SQLITE_BIND.get(type(enterprises.c[name].type)) for name in names]
        if any(binds):
            columns = [
                [None if v is None else bind(v) for v in column] if bind else column
                for bind, column in zip(binds, zip(*rows))
            ]
            rows = list(zip(*columns))
        connection.exec_driver_sql(_upsert_sql(names), rows)
    elif dialect == "postgresql":
        _copy_upsert(connection, names, rows)
    else:
        raise NotImplementedError(f"upsert is implemented for SQLite and PostgreSQL, not {dialect}")
    return len(rows)


# What SQLAlchemy binds on SQLite for these column types (a test compares the two writers' rows).
_SQLITE_BIND = {sa.Numeric: float, sa.Date: date.isoformat}


def _upsert_sql(names: tuple[str, ...], source: str | None = None) -> str:
    columns = ", ".join(f'"{n}"' for n in names)
    updates = [f'"{n}" = excluded."{n}"' for n in names if n != "uscc"] + ["updated_at = CURRENT_TIMESTAMP"]
    # "INSERT … SELECT … ON CONFLICT" needs a WHERE, or the parser takes ON for a join's.
    values = f"SELECT {columns} FROM {source} WHERE true" if source else f"VALUES ({', '.join('?' for _ in names)})"
    return f"INSERT INTO enterprises ({columns}) {values} ON CONFLICT (uscc) DO UPDATE SET {', '.join(updates)}"


def _copy_upsert(connection: Connection, names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    # COPY into a temporary table, then one INSERT … ON CONFLICT: COPY is PostgreSQL's fast way in,
    # and the upsert keeps the only-these-columns rule. The table is dropped when the transaction ends.
    columns = ", ".join(f'"{n}"' for n in names)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute("DROP TABLE IF EXISTS _import_rows")
        cursor.execute(f"CREATE TEMP TABLE _import_rows ON COMMIT DROP AS SELECT {columns} FROM enterprises WITH NO DATA")
        with cursor.copy(f"COPY _import_rows ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(_upsert_sql(names, "_import_rows"))
    finally:
        cursor.close()


def _group_by_keys(batch: list[Mapping[str, Any]]) -> dict[tuple[str, ...], list[Mapping[str, Any]]]:
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in batch:
        if not row.get("uscc"):
            raise ValueError(f"row without uscc cannot be stored: {dict(row)!r}")
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups


def _upsert_statement(insert, keys: tuple[str, ...]):
    unknown = set(keys) - set(STORED_NAMES)
    if unknown:
        raise KeyError(f"not stored fields: {sorted(unknown)}")
    statement = insert(enterprises)
    updates = {key: statement.excluded[key] for key in keys if key != "uscc"}
    updates["updated_at"] = sa.func.now()
    return statement.on_conflict_do_update(index_elements=["uscc"], set_=updates)


def get_enterprise(bind: Engine | Connection, uscc: str) -> dict[str, Any] | None:
    """The stored fields of one enterprise, or None when it is not in the store."""
    with _connect(bind) as connection:
        row = connection.execute(sa.select(*_STORED_COLUMNS).where(enterprises.c.uscc == uscc)).mappings().first()
    return dict(row) if row is not None else None


def count_enterprises(bind: Engine | Connection) -> int:
    with _connect(bind) as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(enterprises)).scalar_one()


def iter_enterprise_batches(bind: Engine | Connection, batch_size: int = 50_000) -> Iterator[list[dict[str, Any]]]:
    """Every enterprise in uscc order, ``batch_size`` at a time (keyset pages: no long-held cursor)."""
    last: str | None = None
    while True:
        query = sa.select(*_STORED_COLUMNS).order_by(enterprises.c.uscc).limit(batch_size)
        if last is not None:
            query = query.where(enterprises.c.uscc > last)
        with _connect(bind) as connection:
            batch = [dict(row) for row in connection.execute(query).mappings()]
        if not batch:
            return
        yield batch
        last = batch[-1]["uscc"]


def to_arrow(bind: Engine | Connection, usccs: Iterable[str] | None = None) -> pa.Table:
    """The enterprises (all, or those in ``usccs``) as an Arrow table typed by the schema."""
    if usccs is None:
        batches = iter_enterprise_batches(bind)
    else:
        batches = _select_usccs(bind, list(dict.fromkeys(usccs)))
    tables = [_batch_to_arrow(batch) for batch in batches]
    if not tables:
        return ENTERPRISES_ARROW_SCHEMA.empty_table()
    return pa.concat_tables(tables)


def _select_usccs(bind: Engine | Connection, usccs: list[str], chunk: int = 1_000) -> Iterator[list[dict[str, Any]]]:
    with _connect(bind) as connection:
        for start in range(0, len(usccs), chunk):
            query = (
                sa.select(*_STORED_COLUMNS)
                .where(enterprises.c.uscc.in_(usccs[start : start + chunk]))
                .order_by(enterprises.c.uscc)
            )
            yield [dict(row) for row in connection.execute(query).mappings()]


def _batch_to_arrow(batch: list[dict[str, Any]]) -> pa.Table:
    columns = [pa.array([row[f.name] for row in batch], type=f.type) for f in ENTERPRISES_ARROW_SCHEMA]
    return pa.Table.from_arrays(columns, schema=ENTERPRISES_ARROW_SCHEMA)


def enterprise_with_derived(bind: Engine | Connection, uscc: str, as_of: date) -> dict[str, Any] | None:
    """One enterprise's stored fields plus its derived variables as of ``as_of``; None when absent."""
    from qinqing.registry import derived  # the derived variables sit on top of the stored ones

    row = get_enterprise(bind, uscc)
    if row is None:
        return None
    return {**row, **derived.derive(row, as_of)}


class _connect:
    """A connection for reading: a new one from an Engine, or the caller's own Connection."""

    def __init__(self, bind: Engine | Connection):
        self.bind = bind
        self.connection: Connection | None = None

    def __enter__(self) -> Connection:
        if isinstance(self.bind, Connection):
            return self.bind
        self.connection = self.bind.connect()
        return self.connection

    def __exit__(self, *exc) -> None:
        if self.connection is not None:
            self.connection.close()
