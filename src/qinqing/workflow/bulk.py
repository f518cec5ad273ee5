"""Bulk writes for large batches (免申即享 of 100,000 enterprises): PostgreSQL gets ids from the table's
sequence and rows through COPY, in the caller's transaction; SQLite gets ordinary multi-row INSERTs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Table, any_, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection


def next_ids(conn: Connection, table: Table, n: int) -> list[int] | None:
    """``n`` fresh ids from the table's sequence (PostgreSQL), or None where the insert must assign them."""
    if conn.dialect.name != "postgresql" or n == 0:
        return None
    return list(conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                             {"t": table.name, "n": n}).scalars())


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys): COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def insert_with_ids(conn: Connection, table: Table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` and return their ids, in order."""
    ids = next_ids(conn, table, len(rows))
    if ids is None:
        return list(conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
    for row, new_id in zip(rows, ids):
        row["id"] = new_id
    insert_rows(conn, table, rows)
    return ids


def chunks(conn: Connection, values: Sequence) -> list[Sequence]:
    """``values`` in pieces for ``among``: one piece on PostgreSQL (an array parameter), 5,000 elsewhere."""
    size = len(values) or 1 if conn.dialect.name == "postgresql" else 5_000
    return [values[i:i + size] for i in range(0, len(values), size)]


def among(conn: Connection, column, values: Sequence) -> ColumnElement[bool]:
    """``column IN values``: ``= ANY(array)`` with one parameter on PostgreSQL (a 100,000-value IN list
    costs seconds to compile and send), a plain IN list elsewhere."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))
