"""The fast path: many policies against a registry slice, each distinct condition evaluated once.

Policies taken from the same texts repeat the same conditions (``NOT is_dishonest``, ``revenue >=
2000``, the region, the industries). The kernel:

1. groups policies by scope and cuts the registry slice each group can match (scope.py);
2. evaluates every *distinct* compiled condition of the group once on the slice, in DuckDB, many
   per query, using the rules engine's own SQL for each condition, so semantics are the engine's;
3. turns each three-valued column into two bitsets, TRUE and FALSE (Arrow booleans already are
   bit-packed: values AND validity, NOT values AND validity), 64 enterprises per machine word;
4. per policy, ANDs the TRUE bitsets (eligible) and ORs the FALSE bitsets (ineligible); the rest is
   unknown, and its missing fields are the NULL fields read by the conditions that were unknown;
5. computes amounts, with the policy's compiled benefit SQL, only where a policy is eligible.

Only eligible and unknown pairs are emitted (with counts of all three statuses), unless
``all_pairs`` asks for the complete table, ineligible pairs and their failed conditions included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from qinqing.matching.engines.plan import PolicyPlan, plan_policies
from qinqing.matching.scope import Scope

EXPRS_PER_QUERY = 96  # wide enough to share a scan, narrow enough to keep plans small
STATUS_NAMES = ("eligible", "unknown", "ineligible")
Progress = Callable[[int, int], None]  # (pairs done, pairs total)


@dataclass
class MatchBatch:
    """Pairs of one scope group, and each policy's counts over its whole scope."""

    pairs: pa.Table
    counts: pa.Table
    pairs_evaluated: int


@dataclass
class _Slice:
    n: int
    uscc: pa.Array
    nullmask: np.ndarray  # uint64 per row: bit i set when field i is NULL
    true: np.ndarray  # (distinct conditions, words) uint64
    false: np.ndarray
    amounts: dict[str, pa.Array] = field(default_factory=dict)


class VectorisedMatcher:
    """Compiled once per policy set; ``run`` streams MatchBatches over a registry."""

    def __init__(self, policies: Sequence[Any], as_of: date, *, plans: Sequence[PolicyPlan] | None = None) -> None:
        self.as_of = as_of
        self.plans = list(plans) if plans is not None else plan_policies(policies, as_of)
        read = {f for p in self.plans for c in p.conditions for f in c.fields} | {
            f for p in self.plans for f in p.amount_fields}
        self.fields = sorted(read, key=_schema_order)  # missing lists come out in schema order
        if len(self.fields) > 64:
            raise ValueError("more than 64 distinct fields read by conditions; widen the null mask")
        self.field_bit = {f: np.uint64(1) << np.uint64(i) for i, f in enumerate(self.fields)}

    # -- public -----------------------------------------------------------------------------
    def run(self, facts: duckdb.DuckDBPyConnection, relation: str = "facts", *, prune: bool = True,
            all_pairs: bool = False, progress: Progress | None = None) -> Iterator[MatchBatch]:
        """Match every plan against ``relation`` (enterprise facts with derived fields) on ``facts``."""
        prune = prune and not all_pairs  # the complete table includes the pairs pruning skips
        groups: dict[Scope, list[PolicyPlan]] = {}
        for plan in self.plans:
            groups.setdefault(plan.scope if prune else Scope("", None), []).append(plan)
        sizes = {s: self._slice_size(facts, relation, s) for s in groups}
        total = sum(sizes[s] * len(ps) for s, ps in groups.items())
        done = 0
        for scope, plans in sorted(groups.items(), key=lambda kv: (len(kv[0].region_prefix), kv[0])):
            batch = self._run_group(facts, relation, scope, plans, all_pairs)
            done += sizes[scope] * len(plans)
            if progress:
                progress(done, total)
            yield batch

    # -- one scope group ----------------------------------------------------------------------
    def _slice_size(self, con: duckdb.DuckDBPyConnection, relation: str, scope: Scope) -> int:
        return con.execute(f"SELECT count(*) FROM {relation} WHERE {scope_where(scope)}").fetchone()[0]

    def _run_group(self, con: duckdb.DuckDBPyConnection, relation: str, scope: Scope,
                   plans: list[PolicyPlan], all_pairs: bool) -> MatchBatch:
        distinct: dict[str, int] = {}
        for plan in plans:
            for c in plan.conditions:
                distinct.setdefault(c.sql, len(distinct))
        amount_sqls = sorted({p.amount_sql for p in plans if p.amount_sql is not None})
        sl = self._evaluate(con, relation, scope, list(distinct), amount_sqls)
        pieces, counts = [], []
        for plan in plans:
            idx = np.fromiter((distinct[c.sql] for c in plan.conditions), dtype=np.int64,
                              count=len(plan.conditions))
            piece, count = self._combine(plan, idx, sl, all_pairs)
            pieces.append(piece)
            counts.append(count)
        pairs = pa.concat_tables(pieces) if pieces else _empty_pairs()
        return MatchBatch(pairs, pa.Table.from_pylist(counts, schema=_COUNT_SCHEMA), sl.n * len(plans))

    def _evaluate(self, con: duckdb.DuckDBPyConnection, relation: str, scope: Scope,
                  conditions: list[str], amount_sqls: list[str]) -> _Slice:
        null_terms = " | ".join(
            f"(CASE WHEN {_quote(f)} IS NULL THEN {int(b)}::UBIGINT ELSE 0::UBIGINT END)"
            for f, b in self.field_bit.items()) or "0::UBIGINT"
        where = scope_where(scope)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _slice AS SELECT * FROM {relation} WHERE {where}")
        head = con.sql(f"SELECT uscc, ({null_terms}) AS _nullmask FROM _slice").to_arrow_table()
        n = head.num_rows
        words = (n + 63) // 64
        true = np.zeros((len(conditions), words), dtype=np.uint64)
        false = np.zeros((len(conditions), words), dtype=np.uint64)
        for start in range(0, len(conditions), EXPRS_PER_QUERY):
            chunk = conditions[start:start + EXPRS_PER_QUERY]
            cols = ", ".join(f"CAST(({sql}) AS BOOLEAN) AS c{i}" for i, sql in enumerate(chunk))
            table = con.sql(f"SELECT {cols} FROM _slice").to_arrow_table()
            for i in range(len(chunk)):
                true[start + i], false[start + i] = bitsets(table.column(i), n)
        amounts: dict[str, pa.Array] = {}
        for start in range(0, len(amount_sqls), EXPRS_PER_QUERY):
            chunk = amount_sqls[start:start + EXPRS_PER_QUERY]
            cols = ", ".join(f"CAST(({sql}) AS DECIMAL(18,4)) AS a{i}" for i, sql in enumerate(chunk))
            table = con.sql(f"SELECT {cols} FROM _slice").to_arrow_table()
            for i, sql in enumerate(chunk):
                amounts[sql] = table.column(i).combine_chunks()
        con.execute("DROP TABLE _slice")
        nullmask = head.column("_nullmask").to_numpy().astype(np.uint64, copy=False)
        return _Slice(n, head.column("uscc").combine_chunks(), nullmask, true, false, amounts)

    def _combine(self, plan: PolicyPlan, idx: np.ndarray, sl: _Slice, all_pairs: bool) -> tuple[pa.Table, dict]:
        tail = _tail_mask(sl.n)
        if len(idx):
            eligible = np.bitwise_and.reduce(sl.true[idx], axis=0) & tail
            ineligible = np.bitwise_or.reduce(sl.false[idx], axis=0)
        else:
            eligible, ineligible = tail.copy(), np.zeros_like(tail)
        unknown = ~(eligible | ineligible) & tail
        n_elig, n_unk = int(np.bitwise_count(eligible).sum()), int(np.bitwise_count(unknown).sum())
        keep = (tail if all_pairs else (eligible | unknown))
        rows = bit_positions(keep)
        status = np.where(_test(eligible, rows), 0, np.where(_test(unknown, rows), 1, 2)).astype(np.int8)

        # Missing: NULL fields read by each condition that is unknown for the row.
        unk_rows = rows[status == 1]
        missing = np.zeros(len(rows), dtype=np.uint64)
        if len(unk_rows):
            m = np.zeros(len(unk_rows), dtype=np.uint64)
            nulls = sl.nullmask[unk_rows]
            for cond, i in zip(plan.conditions, idx):
                cond_unknown = ~(sl.true[i] | sl.false[i])
                hit = _test(cond_unknown, unk_rows)
                m |= np.where(hit, nulls & self._mask_of(cond.fields), np.uint64(0))
            missing[status == 1] = m
        failed = np.zeros(len(rows), dtype=np.uint64)
        amount_null = np.zeros(len(rows), dtype=bool)
        if all_pairs:
            for bit, i in enumerate(idx):
                failed |= np.where(_test(sl.false[i], rows), np.uint64(1) << np.uint64(bit), np.uint64(0))

        amount = pa.nulls(len(rows), pa.decimal128(18, 4))
        amount_total = Decimal(0)
        if plan.amount_sql is not None and n_elig:
            full = sl.amounts[plan.amount_sql]
            taken = full.take(pa.array(np.where(status == 0, rows, 0)))
            amount = pc.if_else(pa.array(status == 0), taken, amount)
            amount_total = pc.sum(amount).as_py() or Decimal(0)
            amount_null = (status == 0) & np.asarray(pc.is_null(amount).to_numpy(zero_copy_only=False), dtype=bool)
        if amount_null.any() and plan.amount_fields:
            # An eligible pair whose amount cannot be computed lists the NULL inputs of the benefit.
            missing[amount_null] |= sl.nullmask[rows[amount_null]] & self._mask_of(plan.amount_fields)
        table = pa.table({
            "uscc": sl.uscc.take(pa.array(rows)),
            "policy_id": pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(rows), np.int32)),
                                                        pa.array([plan.policy_id])).cast(pa.string()),
            "status": pa.DictionaryArray.from_arrays(pa.array(status), pa.array(STATUS_NAMES)).cast(pa.string()),
            "amount": amount,
            "failed": self._names(failed, [c.id for c in plan.conditions]),
            "missing": self._names(missing, self.fields),
        })
        count = {"policy_id": plan.policy_id, "eligible": n_elig, "unknown": n_unk,
                 "ineligible": sl.n - n_elig - n_unk, "amount_total": amount_total}
        return table, count

    def _mask_of(self, fields: frozenset[str]) -> np.uint64:
        mask = np.uint64(0)
        for f in fields:
            mask |= self.field_bit[f]
        return mask

    @staticmethod
    def _names(masks: np.ndarray, names: Sequence[str]) -> pa.Array:
        """uint64 bitmasks → list<string> of the names of the set bits, in ``names`` order."""
        uniq, inverse = np.unique(masks, return_inverse=True)
        lists = [[names[b] for b in range(len(names)) if (int(u) >> b) & 1] for u in uniq]
        return pa.array(lists, type=pa.list_(pa.string())).take(pa.array(inverse.astype(np.int64)))


_COUNT_SCHEMA = pa.schema([("policy_id", pa.string()), ("eligible", pa.int64()), ("unknown", pa.int64()),
                           ("ineligible", pa.int64()), ("amount_total", pa.decimal128(38, 4))])


def _schema_order(name: str) -> tuple[int, str]:
    from qinqing.registry.schema import ALL_FIELDS

    order = {f.name: i for i, f in enumerate(ALL_FIELDS)}
    return (order.get(name, len(order)), name)


def _empty_pairs() -> pa.Table:
    return pa.table({"uscc": pa.array([], pa.string()), "policy_id": pa.array([], pa.string()),
                     "status": pa.array([], pa.string()), "amount": pa.array([], pa.decimal128(18, 4)),
                     "failed": pa.array([], pa.list_(pa.string())), "missing": pa.array([], pa.list_(pa.string()))})


def scope_where(scope: Scope) -> str:
    """SQL filter for a scope (a superset: missing codes stay in, see scope.py)."""
    terms = []
    if scope.region_prefix:
        terms.append(f"(region_code IS NULL OR starts_with(region_code, '{_lit(scope.region_prefix)}'))")
    if scope.industries:
        alts = " OR ".join(f"starts_with(industry_code, '{_lit(i)}')" for i in scope.industries)
        terms.append(f"(industry_code IS NULL OR {alts})")
    return " AND ".join(terms) or "TRUE"


def bitsets(column: pa.ChunkedArray | pa.Array, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A three-valued boolean column → (TRUE bits, FALSE bits) as uint64 words, row i at bit i%64."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    words = (n + 63) // 64
    if n == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    if arr.type == pa.null():
        return np.zeros(words, np.uint64), np.zeros(words, np.uint64)
    if arr.offset % 8:
        arr = pa.concat_arrays([pa.array(arr.to_pylist(), pa.bool_())])
    values = _words(arr.buffers()[1], arr.offset, words)
    validity = _words(arr.buffers()[0], arr.offset, words) if arr.buffers()[0] is not None else ~np.zeros(words, np.uint64)
    tail = _tail_mask(n)
    return values & validity & tail, ~values & validity & tail


def _words(buf: pa.Buffer, offset_bits: int, words: int) -> np.ndarray:
    raw = np.frombuffer(buf, dtype=np.uint8)[offset_bits // 8:]
    padded = np.zeros(words * 8, dtype=np.uint8)
    size = min(len(raw), words * 8)
    padded[:size] = raw[:size]
    return padded.view(np.uint64)


def _tail_mask(n: int) -> np.ndarray:
    words = (n + 63) // 64
    mask = ~np.zeros(words, np.uint64)
    if n % 64:
        mask[-1] = (np.uint64(1) << np.uint64(n % 64)) - np.uint64(1)
    return mask


def bit_positions(bits: np.ndarray) -> np.ndarray:
    """Row numbers of the set bits, ascending."""
    nz = np.flatnonzero(bits)
    if not len(nz):
        return np.zeros(0, np.int64)
    unpacked = np.unpackbits(bits[nz].view(np.uint8), bitorder="little").reshape(-1, 64)
    w, b = np.nonzero(unpacked)
    return nz[w].astype(np.int64) * 64 + b


def _test(bits: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return ((bits[rows >> 6] >> (rows & 63).astype(np.uint64)) & np.uint64(1)).astype(bool)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return text.replace("'", "''")
