"""Incremental replacement: the rows of some enterprises or policies of the current run, in one transaction.

For enterprises, ``counts`` (their new pairs' counts, COUNT_SCHEMA, ineligible included) is added to the
counts after their old contribution is taken out: their old kept pairs, and one ineligible pair for
every other policy ``scope(old region, old industry)`` names (the codes the store holds for them).
``codes`` (uscc, region_code, industry_code) are then kept as their new codes. ``region_counts`` (format 2)
is recomputed for the regions touched: the enterprises' old and new regions, or every region when
policies are replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import duckdb
import pyarrow as pa

from qinqing.matching.pairs import EncodedPairs
from qinqing.matching.results.schema import COUNT_SCHEMA, MATCH_SCHEMA, conform, region_counts_sql
from qinqing.matching.results.writer import _Maps, codes_table, insert_pairs

ScopeOf = Callable[[str | None, str | None], Iterable[str]]  # (region, industry) → ids of the policies in scope

_AFFECTED = ("region_code IN (SELECT code FROM affected_regions) OR (region_code IS NULL AND "
             "EXISTS (SELECT 1 FROM affected_regions WHERE code IS NULL))")


def replace_pairs(con: duckdb.DuckDBPyConnection, fields: Sequence[str], *, uscc: Iterable[str] | None,
                  policy_ids: Iterable[str] | None, pairs: pa.Table | EncodedPairs | Iterable[EncodedPairs],
                  counts: pa.Table | None, codes: pa.Table | None, scope: ScopeOf | None) -> None:
    parts = [pairs] if isinstance(pairs, (pa.Table, EncodedPairs)) else list(pairs)
    parts = [conform(p, MATCH_SCHEMA) if isinstance(p, pa.Table) else p for p in parts]
    has_regions = bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'region_counts'")
                       .fetchall()[0][0])
    now = datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        touched: set[str | None] = set()
        if uscc is not None:
            uscc = list(uscc)
            touched |= _regions_of(con, uscc)
            if counts is not None:
                _take_out_enterprises(con, uscc, scope)
            con.execute("DELETE FROM pairs WHERE ent IN (SELECT ent FROM enterprises "
                        "WHERE uscc IN (SELECT unnest(?::VARCHAR[])))", [uscc])
        if policy_ids is not None:
            ids = list(policy_ids)
            known = con.execute("SELECT list(pol) FROM policies WHERE policy_id IN (SELECT unnest(?::VARCHAR[]))",
                                [ids]).fetchall()[0][0]
            if known:  # a new policy has no rows: skip the scan (pairs are sorted by enterprise)
                con.execute("DELETE FROM pairs WHERE pol IN (SELECT unnest(?::INTEGER[]))", [known])
            if counts is not None:
                con.execute("DELETE FROM policy_counts WHERE policy_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
        maps = _Maps()
        for part in parts:
            insert_pairs(con, "pairs", part, now, maps, fields)
        if counts is not None and uscc is not None:
            _add_counts(con, conform(counts, COUNT_SCHEMA))
        elif counts is not None:
            con.register("incoming_counts", conform(counts, COUNT_SCHEMA))
            con.execute("INSERT INTO policy_counts SELECT policy_id, sum(eligible), sum(unknown), "
                        "sum(ineligible), sum(amount_total) FROM incoming_counts GROUP BY policy_id")
            con.unregister("incoming_counts")
        if codes is not None:
            con.register("incoming_codes", codes_table(codes))
            con.execute("UPDATE enterprises SET region_code = c.region_code, industry_code = c.industry_code "
                        "FROM incoming_codes c WHERE enterprises.uscc = c.uscc")
            con.unregister("incoming_codes")
        if has_regions:
            if policy_ids is not None:
                con.execute(f"DELETE FROM region_counts; INSERT INTO region_counts {region_counts_sql()}")
            elif uscc is not None:
                touched |= _regions_of(con, uscc)
                _recount_regions(con, touched)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _regions_of(con: duckdb.DuckDBPyConnection, uscc: list[str]) -> set[str | None]:
    rows = con.execute("SELECT DISTINCT region_code FROM enterprises WHERE uscc IN (SELECT unnest(?::VARCHAR[]))",
                       [uscc]).fetchall()
    return {r[0] for r in rows}


def _recount_regions(con: duckdb.DuckDBPyConnection, regions: set[str | None]) -> None:
    if not regions:
        return
    con.register("incoming_regions", pa.table({"code": pa.array(sorted(regions, key=lambda c: c or ""), pa.string())}))
    con.execute("CREATE TEMP TABLE affected_regions AS SELECT code FROM incoming_regions")
    con.unregister("incoming_regions")
    con.execute(f"DELETE FROM region_counts WHERE {_AFFECTED}")
    con.execute(f"INSERT INTO region_counts {region_counts_sql(_AFFECTED)}")
    con.execute("DROP TABLE affected_regions")


def _take_out_enterprises(con: duckdb.DuckDBPyConnection, uscc: list[str], scope: ScopeOf | None) -> None:
    """Subtract these enterprises' contribution to policy_counts, as the current run holds it."""
    old = con.execute("SELECT uscc, region_code, industry_code FROM enterprises WHERE uscc IN "
                      "(SELECT unnest(?::VARCHAR[]))", [uscc]).fetchall()
    kept = con.execute(
        "SELECT e.uscc, p.policy_id, m.status, m.amount FROM pairs m JOIN enterprises e USING (ent) "
        "JOIN policies p USING (pol) WHERE m.ent IN (SELECT ent FROM enterprises WHERE uscc IN "
        "(SELECT unnest(?::VARCHAR[])))", [uscc]).fetchall()
    delta: dict[str, list] = {}

    def row(pid: str) -> list:
        return delta.setdefault(pid, [0, 0, 0, Decimal(0)])

    in_scope: dict[str, set[str]] = {}
    for u, region, industry in old:
        in_scope[u] = set(scope(region, industry)) if scope is not None else set()
        for pid in in_scope[u]:
            row(pid)[2] -= 1
    for u, pid, status, amount in kept:
        r = row(pid)
        r[status] -= 1  # status 0 eligible, 1 unknown: the first two counters
        if pid in in_scope.get(u, ()):
            r[2] += 1  # counted above as ineligible; it was kept
        if status == 0 and amount is not None:
            r[3] -= amount
    if delta:
        _add_counts(con, pa.table({"policy_id": list(delta), "eligible": [v[0] for v in delta.values()],
                                   "unknown": [v[1] for v in delta.values()],
                                   "ineligible": [v[2] for v in delta.values()],
                                   "amount_total": pa.array([v[3] for v in delta.values()], pa.decimal128(38, 4))},
                                  schema=COUNT_SCHEMA))


def _add_counts(con: duckdb.DuckDBPyConnection, counts: pa.Table) -> None:
    """policy_counts += counts, per policy (a policy without a row gets one)."""
    con.register("incoming_counts", counts)
    con.execute("CREATE TEMP TABLE delta_counts AS SELECT policy_id, sum(eligible) AS e, sum(unknown) AS u, "
                "sum(ineligible) AS i, sum(amount_total) AS a FROM incoming_counts GROUP BY policy_id")
    con.unregister("incoming_counts")
    con.execute("UPDATE policy_counts SET eligible = eligible + d.e, unknown = unknown + d.u, "
                "ineligible = ineligible + d.i, amount_total = amount_total + d.a FROM delta_counts d "
                "WHERE policy_counts.policy_id = d.policy_id")
    con.execute("INSERT INTO policy_counts SELECT policy_id, e, u, i, a FROM delta_counts "
                "WHERE policy_id NOT IN (SELECT policy_id FROM policy_counts)")
    con.execute("DROP TABLE delta_counts")
