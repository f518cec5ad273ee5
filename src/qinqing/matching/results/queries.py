"""The named queries a run answers; other pieces call these (through ResultStore), never SQL of their own.

Each takes a read-only connection to one run file and that run's field table (``run_fields``), so a
run is decoded with its own table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from qinqing.matching.pairs import FIELD_NAMES
from qinqing.matching.results.schema import (
    STATUS_SQL,
    Match,
    PolicyCount,
    PolicyVersion,
    RegionCount,
    RunProvenance,
    decode_missing_sql,
    decode_sql,
    match_from_row,
    region_counts_sql,
    word_columns,
)

LIST_COLUMNS = "e.uscc, p.policy_id, {status}[m.status + 1] AS status, m.amount, {missing} AS missing, " \
               "(SELECT run_id FROM run) AS run_id"


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = "
                                      "current_database()").fetchall()}


def run_fields(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The field table the run's masks are encoded with: its own ``missing_fields``; for a format-1 file,
    the list its ``matches`` view was created with (the field table of the day it was written)."""
    if "missing_fields" in _tables(con):
        return tuple(r[0] for r in con.execute("SELECT name FROM missing_fields ORDER BY bit").fetchall())
    view = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'matches' AND NOT internal").fetchall()
    found = re.search(r"list_filter\((?:\[|list_value\()((?:\s*'(?:[^']|'')*'\s*,?)*)", view[0][0]) if view else None
    if found is None:
        return FIELD_NAMES
    return tuple(n.replace("''", "'") for n in re.findall(r"'((?:[^']|'')*)'", found.group(1)))


def provenance(con: duckdb.DuckDBPyConnection, fields: Sequence[str]) -> RunProvenance:
    """What the run was computed from; a format-1 run knows only its field table."""
    if "provenance" not in _tables(con):
        return RunProvenance(format_version=1, fields=tuple(fields))
    fmt, revision, rows, digest = con.execute("SELECT * FROM provenance").fetchall()[0]
    versions = [PolicyVersion(*r) for r in con.execute("SELECT * FROM run_policies ORDER BY policy_id").fetchall()]
    return RunProvenance(revision, tuple(versions), rows, digest, fmt, tuple(fields))


def matches_for(con: duckdb.DuckDBPyConnection, fields: Sequence[str], uscc: str) -> list[Match]:
    """An enterprise's kept pairs. Two lookups with constants, so that both hit the sorted tables' zone
    maps (a filter through the ``matches`` view's joins would scan every pair)."""
    found = con.execute("SELECT ent FROM enterprises WHERE uscc = ?", [uscc]).fetchall()
    if not found:
        return []
    rows = con.execute(decode_sql(fields, "ent = ?") + " ORDER BY status, policy_id", [found[0][0]]).fetchall()
    return [match_from_row(r) for r in rows]


def matches_of_policy(con: duckdb.DuckDBPyConnection, fields: Sequence[str], policy_id: str,
                      status: str | None = None) -> list[Match]:
    where = "pol = (SELECT pol FROM policies WHERE policy_id = ?)"
    params: list[object] = [policy_id]
    if status:
        where += f" AND status = list_position({STATUS_SQL}, ?) - 1"
        params.append(status)
    rows = con.execute(decode_sql(fields, where) + " ORDER BY uscc", params).fetchall()
    return [match_from_row(r) for r in rows]


def counts_by_policy(con: duckdb.DuckDBPyConnection) -> dict[str, PolicyCount]:
    rows = con.execute("SELECT * FROM policy_counts ORDER BY policy_id").fetchall()
    return {r[0]: PolicyCount(*r) for r in rows}


def counts_by_region(con: duckdb.DuckDBPyConnection) -> list[RegionCount]:
    """Per region code the run scoped its enterprises by: enterprises, those with an eligible policy,
    eligible and unknown pairs, and the eligible amount (computed from the pairs for a format-1 run)."""
    source = "region_counts" if "region_counts" in _tables(con) else f"({region_counts_sql()})"
    rows = con.execute(f"SELECT * FROM {source} ORDER BY region_code NULLS LAST").fetchall()
    return [RegionCount(*r) for r in rows]


def _list_sql(fields: Sequence[str]) -> str:
    return LIST_COLUMNS.format(status=STATUS_SQL, missing=decode_missing_sql(fields))


def eligible(con: duckdb.DuckDBPyConnection, fields: Sequence[str], policy_ids: Sequence[str] | None,
             complete: bool) -> pa.Table:
    """Eligible pairs (uscc, policy_id, status, amount, missing, run_id) of these policies (all when None);
    ``complete``: only those with nothing missing (every condition decided by data)."""
    where = ["m.status = 0"]
    params: list[object] = []
    if policy_ids is not None:
        where.append("m.pol IN (SELECT pol FROM policies WHERE policy_id IN (SELECT unnest(?::VARCHAR[])))")
        params.append(list(policy_ids))
    if complete:
        where.append(" AND ".join(f"m.{c} = 0" for c in word_columns(fields)))
    sql = (f"SELECT {_list_sql(fields)} FROM pairs m JOIN enterprises e USING (ent) JOIN policies p USING (pol) "
           f"WHERE {' AND '.join(where)} ORDER BY p.policy_id, e.uscc")
    return con.sql(sql, params=params or None).to_arrow_table()


def new_since(con: duckdb.DuckDBPyConnection, fields: Sequence[str], previous: Path | None) -> pa.Table:
    """Eligible pairs of this run that were not eligible in the run at ``previous`` (all, without one)."""
    sql = (f"SELECT {_list_sql(fields)} FROM pairs m JOIN enterprises e USING (ent) JOIN policies p USING (pol) "
           "WHERE m.status = 0")
    if previous is None:
        return con.sql(sql + " ORDER BY e.uscc, p.policy_id").to_arrow_table()
    path = str(previous).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS prev (READ_ONLY)")
    try:
        return con.sql(
            f"{sql} AND NOT EXISTS (SELECT 1 FROM prev.pairs pm JOIN prev.enterprises pe USING (ent) "
            "JOIN prev.policies pp USING (pol) WHERE pm.status = 0 AND pe.uscc = e.uscc "
            "AND pp.policy_id = p.policy_id) ORDER BY e.uscc, p.policy_id").to_arrow_table()
    finally:
        con.execute("DETACH prev")


def top_enterprises(con: duckdb.DuckDBPyConnection, limit: int) -> list[str]:
    """Enterprises with the most eligible pairs, then the most kept pairs (then by uscc)."""
    rows = con.execute(
        "SELECT e.uscc FROM (SELECT ent, count(*) FILTER (status = 0) AS eligible, count(*) AS kept FROM pairs "
        "GROUP BY ent) m JOIN enterprises e USING (ent) ORDER BY eligible DESC, kept DESC, e.uscc LIMIT ?",
        [limit]).fetchall()
    return [r[0] for r in rows]


def kept_count(con: duckdb.DuckDBPyConnection, usccs: Sequence[str]) -> int:
    """Kept (eligible and unknown) pairs of these enterprises."""
    return con.execute("SELECT count(*) FROM pairs WHERE ent IN (SELECT ent FROM enterprises "
                       "WHERE uscc IN (SELECT unnest(?::VARCHAR[])))", [list(usccs)]).fetchall()[0][0]
