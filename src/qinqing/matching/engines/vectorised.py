"""The fast path: many policies against a registry slice, each distinct condition evaluated once.

Policies taken from the same texts repeat the same conditions (``NOT is_dishonest``, ``revenue >=
2000``, the region, the industries). The kernel:

1. groups policies by scope and cuts the registry slice each group can match (scope.py);
2. evaluates every *distinct* compiled condition of the group once on the slice, in DuckDB, many
   per query, using the rules engine's own SQL for each condition, so semantics are the engine's;
3. turns each three-valued column into two bitsets, TRUE and FALSE (Arrow booleans already are
   bit-packed: values AND validity, NOT values AND validity), 64 enterprises per machine word;
4. per policy, kernel.emit_policy ANDs the TRUE bitsets (eligible) and ORs the FALSE bitsets
   (ineligible) and writes each kept pair — row, policy, status, amount, missing-field bitmask —
   into the batch's buffers (pairs.py); the rest is unknown, and its missing fields are the NULL
   fields read by the conditions that were unknown; each policy's pairs are counted first
   (kernel.count_policy), so policies are written side by side, one thread per core (the kernel
   releases the GIL);
5. amounts come from the policy's compiled benefit SQL, evaluated once per distinct expression.

Only eligible and unknown pairs are emitted (with counts of all three statuses), unless
``all_pairs`` asks for the complete table, ineligible pairs and their failed conditions included.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from qinqing.matching.engines.kernel import count_policy, debruijn_table, emit_policy
from qinqing.matching.engines.plan import PolicyPlan, helpers, null_sql, plan_policies
from qinqing.matching.pairs import (
    DECODED_SCHEMA,
    ENCODED_SCHEMA,
    FAILED,
    GUARDED_BITS,
    GUARDED_TARGETS,
    MISSING_BIT,
    SCHEMA_MASK,
    ConditionNames,
    EncodedPairs,
)
from qinqing.matching.scope import Scope

EXPRS_PER_QUERY = 96  # wide enough to share a scan, narrow enough to keep plans small
BATCH_ROWS = 1_000_000  # kept pairs per batch: ~30 MB of columns, small enough for malloc to reuse
# (fresh memory costs a page fault per 4 KiB, which under a VM costs more than filling it)
Progress = Callable[[int, int], None]  # (pairs done, pairs total)


@dataclass
class MatchBatch:
    """Kept pairs of (part of) one scope group, encoded (pairs.py); counts of the policies it completes
    on its rows (a policy's counts may come in several batches — one per pass — and are summed)."""

    encoded: EncodedPairs
    counts: pa.Table
    pairs_evaluated: int

    @property
    def pairs(self) -> pa.Table:
        """The pairs with names and lists (uscc, policy_id, status, amount, failed, missing)."""
        return self.encoded.decode()


@dataclass
class _Slice:
    n: int
    uscc: pa.Array
    nullmask: np.ndarray  # uint64 per row: bit MISSING_BIT[k] set when missing key k is (plan.null_sql)
    true: np.ndarray  # (distinct conditions, words) uint64
    false: np.ndarray
    strict: np.ndarray  # per distinct condition: unknown wherever one of its fields is NULL
    amounts: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # sql → (int64 e-4, valid)
    ents: np.ndarray | None = None  # the relation's _ent per row (registry numbering, see run.facts_connection)


@dataclass
class _Codes:
    """Region and industry codes of the relation's rows in region order (ascending, rows without a region
    last). A scope group's rows are a region range (two binary searches) filtered by an industry mask:
    the same superset rule as ``scope_where`` and ``scope.in_scope`` (a missing code is in every scope)."""

    n: int
    known: int  # rows with a region code: the first ``known``
    regions: np.ndarray  # their region codes, ascending
    industries: np.ndarray  # industry code per row ("" when missing)
    no_industry: np.ndarray  # bool per row: industry code missing
    _admitted: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)  # industry scope → rows it admits
    _by_prefix: dict[str, np.ndarray] = field(default_factory=dict)  # one prefix → rows whose code starts with it

    @classmethod
    def of(cls, region: pa.ChunkedArray, industry: pa.ChunkedArray) -> _Codes:
        known = len(region) - region.null_count
        return cls(len(region), known, np.array(region.slice(0, known).to_pylist(), dtype=str),
                   np.array(industry.fill_null("").to_pylist(), dtype=str),
                   industry.is_null().to_numpy(zero_copy_only=False))

    def spans(self, scope: Scope, rows: str) -> list[tuple[int, int]]:
        """The row ranges of a scope's region part (``rows``: all, known or regionless)."""
        if rows == "regionless":
            return [(self.known, self.n)]
        if scope.region_prefix:
            prefix = scope.region_prefix
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            inside = (int(np.searchsorted(self.regions, prefix, "left")),
                      int(np.searchsorted(self.regions, upper, "left")))
            return [inside] if rows == "known" else [inside, (self.known, self.n)]
        return [(0, self.known)] if rows == "known" else [(0, self.n)]

    def positions(self, scope: Scope, rows: str) -> np.ndarray:
        """The rows of a scope group, ascending: the same rows as ``scope_where(scope, rows)``."""
        positions = np.concatenate([np.arange(lo, hi, dtype=np.int64) for lo, hi in self.spans(scope, rows)])
        if scope.industries:
            positions = positions[self.industry_mask(scope.industries)[positions]]
        return positions

    def count(self, scope: Scope, rows: str) -> int:
        """How many rows ``positions`` gives, without making them (the progress total)."""
        if not scope.industries:
            return sum(hi - lo for lo, hi in self.spans(scope, rows))
        mask = self.industry_mask(scope.industries)
        return sum(int(np.count_nonzero(mask[lo:hi])) for lo, hi in self.spans(scope, rows))

    def industry_mask(self, prefixes: tuple[str, ...]) -> np.ndarray:
        mask = self._admitted.get(prefixes)
        if mask is None:
            mask = self.no_industry.copy()
            for prefix in prefixes:  # one string scan per distinct prefix, however many scopes name it
                if prefix not in self._by_prefix:
                    self._by_prefix[prefix] = np.char.startswith(self.industries, prefix)
                mask |= self._by_prefix[prefix]
            self._admitted[prefixes] = mask
        return mask


@dataclass
class _Columns:
    """The relation's rows in region order (``codes``), with every distinct condition of the plans as
    TRUE and FALSE bitsets and every distinct amount as int64."""

    n: int
    uscc: pa.Array
    nullmask: np.ndarray
    ents: np.ndarray | None
    codes: _Codes
    row_of: dict[str, int]  # condition SQL → its row in true/false
    true: np.ndarray  # (conditions, words)
    false: np.ndarray
    amounts: dict[str, tuple[np.ndarray, np.ndarray]]
    fields_of: dict[str, frozenset[str]]

    def slice(self, positions: np.ndarray, conditions: list[str], amount_sqls: list[str]) -> _Slice:
        """The group's rows (``positions``) with its conditions' bitsets and its amounts."""
        n = len(positions)
        true = np.zeros((len(conditions), (n + 63) // 64), np.uint64)
        false = np.zeros_like(true)
        for i, sql in enumerate(conditions):
            k = self.row_of[sql]
            true[i] = pack_bits(_test(self.true[k], positions))
            false[i] = pack_bits(_test(self.false[k], positions))
        amounts = {sql: (self.amounts[sql][0][positions], self.amounts[sql][1][positions]) for sql in amount_sqls}
        return _Slice(n, self.uscc.take(pa.array(positions)), self.nullmask[positions], true, false,
                      np.zeros(len(conditions), bool), amounts,
                      self.ents[positions] if self.ents is not None else None)


class VectorisedMatcher:
    """Compiled once per policy set; ``run`` streams MatchBatches over a registry."""

    def __init__(self, policies: Sequence[Any], as_of: date, *, plans: Sequence[PolicyPlan] | None = None) -> None:
        self.as_of = as_of
        self.plans = list(plans) if plans is not None else plan_policies(policies, as_of)
        read = {f for p in self.plans for c in p.conditions for f in c.fields} | {
            f for p in self.plans for f in p.amount_fields}
        self.fields = sorted(read, key=lambda f: MISSING_BIT.get(f, 99))
        self.field_bit = {f: np.uint64(1) << np.uint64(MISSING_BIT[f]) for f in self.fields}
        self.policy_ids = [p.policy_id for p in self.plans]
        self.condition_ids = ConditionNames([tuple(c.id for c in p.conditions) for p in self.plans])
        self._index = {id(p): i for i, p in enumerate(self.plans)}
        self._ent_known: bool | None = None

    # -- public -----------------------------------------------------------------------------
    def run(self, facts: duckdb.DuckDBPyConnection, relation: str = "facts", *, prune: bool = True,
            all_pairs: bool = False, progress: Progress | None = None,
            batch_rows: int = BATCH_ROWS) -> Iterator[MatchBatch]:
        """Match every plan against ``relation`` (enterprise facts with derived fields) on ``facts``.

        Batches hold at most about ``batch_rows`` pairs, so memory stays flat however many are kept."""
        prune = prune and not all_pairs  # the complete table includes the pairs pruning skips
        # With pruning, enterprises without a region code are matched in a pass of their own: they
        # are in every region's scope, so inside each region's group they would be evaluated once
        # per region (a tenth of a registry, hundreds of times); here once per industry scope.
        groups: dict[tuple[Scope, str], list[PolicyPlan]] = {}
        for plan in self.plans:
            if not prune:
                groups.setdefault((Scope("", None), "all"), []).append(plan)
            elif not plan.scope.region_prefix:
                groups.setdefault((plan.scope, "all"), []).append(plan)
            else:
                groups.setdefault((plan.scope, "known"), []).append(plan)
                groups.setdefault((Scope("", plan.scope.industries), "regionless"), []).append(plan)
        columns = self._columns(facts, relation) if self.plans else None
        # The progress total: rows per scope group, counted by the rule that gives each group its rows.
        total = sum(columns.codes.count(*key) * len(ps) for key, ps in groups.items()) if columns else 0
        done = 0
        for (scope, rows), plans in sorted(groups.items(), key=lambda kv: (
                kv[0][1], len(kv[0][0].region_prefix), kv[0][0].region_prefix, kv[0][0].industries or ())):
            for batch in self._run_group(columns, scope, rows, plans, all_pairs, batch_rows):
                done += batch.pairs_evaluated
                if progress:
                    progress(done, total)
                yield batch

    # -- one scope group ----------------------------------------------------------------------
    def _run_group(self, columns: _Columns, scope: Scope, rows: str, plans: list[PolicyPlan], all_pairs: bool,
                   batch_rows: int) -> Iterator[MatchBatch]:
        distinct: dict[str, int] = {}
        for plan in plans:
            for c in plan.conditions:
                distinct.setdefault(c.sql, len(distinct))
        sl = columns.slice(columns.codes.positions(scope, rows), list(distinct),
                           sorted({p.amount_sql for p in plans if p.amount_sql is not None}))
        sl.strict = self._strictness(sl.nullmask, sl.true, sl.false, [columns.fields_of[c] for c in distinct], sl.n)
        out = _Output(sl, self, all_pairs, min(batch_rows, sl.n * len(plans)))
        for plan in plans:
            idx = np.fromiter((distinct[c.sql] for c in plan.conditions), dtype=np.int64,
                              count=len(plan.conditions))
            full = out.add(self._index[id(plan)], plan, idx)
            if full is not None:
                yield full
        if out.policies:
            yield out.flush()

    def _columns(self, con: duckdb.DuckDBPyConnection, relation: str) -> _Columns:
        """Every distinct condition and amount of every plan, evaluated once over the whole relation,
        rows in region order (one query per EXPRS_PER_QUERY expressions, DuckDB's own vectorised SQL):
        a scope group then takes its rows out of these columns, which costs far less than a query per
        group (3,200 groups for a province's 4,600 policies; each query's planning alone cost ~10 ms)."""
        conditions: dict[str, frozenset[str]] = {}
        for plan in self.plans:
            for c in plan.conditions:
                conditions.setdefault(c.sql, c.fields)
        amount_sqls = sorted({p.amount_sql for p in self.plans if p.amount_sql is not None})
        amount_fields = frozenset().union(*(p.amount_fields for p in self.plans))
        read = sorted(frozenset().union(*conditions.values(), amount_fields), key=MISSING_BIT.get)
        null_terms = " | ".join(
            f"(CASE WHEN {null_sql(f)} THEN {int(self.field_bit[f])}::UBIGINT ELSE 0::UBIGINT END)"
            for f in read) or "0::UBIGINT"
        extra = helpers(read)  # columns only the null tests read
        has_ent = self._has_ent(con, relation)
        key = "_ent" if has_ent else "uscc"
        head = ["uscc", f"({null_terms}) AS _nullmask", "region_code", "industry_code"] + (["_ent"] if has_ent else [])
        exprs = [f"CAST(({sql}) AS BOOLEAN)" for sql in conditions] + [
            # Exact: DECIMAL(18,4) is an int64 of units of 0.0001 — fetched as that integer.
            f"(CAST(({sql}) AS DECIMAL(18,4)) * 10000)::BIGINT" for sql in amount_sqls]
        source = relation
        if extra:
            source = f"(SELECT *, {', '.join(f'{sql} AS {_quote(n)}' for n, sql in extra.items())} FROM {relation})"
        # Every chunk reads the same source; each later one carries the row key back and is put in the
        # first one's row order (DuckDB does not promise one order across queries on a parallel scan).
        first = None
        evaluated: list[pa.ChunkedArray] = []
        for start in range(0, max(len(exprs), 1), EXPRS_PER_QUERY):
            chunk = exprs[start:start + EXPRS_PER_QUERY]
            lead = head if first is None else [f"{key} AS _key"]
            cols = ", ".join(lead + [f"{e} AS x{i}" for i, e in enumerate(chunk)])
            order = f" ORDER BY region_code NULLS LAST, {key}" if first is None else ""
            table = con.sql(f"SELECT {cols} FROM {source}{order}").to_arrow_table()
            if first is None:
                first = table
            else:
                table = _in_order_of(table, first.column(key))
            evaluated += [table.column(len(lead) + i) for i in range(len(chunk))]
        n = first.num_rows
        true = np.zeros((len(conditions), (n + 63) // 64), np.uint64)
        false = np.zeros_like(true)
        for i in range(len(conditions)):
            true[i], false[i] = bitsets(evaluated[i], n)
        amounts = {sql: _int64_with_validity(evaluated[len(conditions) + i]) for i, sql in enumerate(amount_sqls)}
        return _Columns(
            n=n, uscc=first.column("uscc").combine_chunks(),
            nullmask=first.column("_nullmask").to_numpy().astype(np.uint64, copy=False),
            ents=first.column("_ent").to_numpy() if has_ent else None,
            codes=_Codes.of(first.column("region_code"), first.column("industry_code")),
            row_of={sql: i for i, sql in enumerate(conditions)}, true=true, false=false, amounts=amounts,
            fields_of=conditions)

    def _has_ent(self, con: duckdb.DuckDBPyConnection, relation: str) -> bool:
        if self._ent_known is None:
            cols = con.execute(f"SELECT * FROM {relation} LIMIT 0").description
            self._ent_known = any(c[0] == "_ent" for c in cols)
        return self._ent_known

    def _strictness(self, nullmask: np.ndarray, true: np.ndarray, false: np.ndarray,
                    condition_fields: list[frozenset[str]], n: int) -> np.ndarray:
        """Per condition: is it unknown on every row where one of its fields is NULL (on this slice)?

        For such conditions a pair's missing fields are simply its NULL fields among the ones they
        read, with no per-condition test: a known condition has no NULL field to contribute."""
        tail = _tail_mask(n)
        null_bits: dict[str, np.ndarray] = {}
        strict = np.zeros(len(condition_fields), dtype=bool)
        for i, fields in enumerate(condition_fields):
            unknown = ~(true[i] | false[i]) & tail
            z = np.zeros_like(tail)
            for f in fields:
                if f not in null_bits:
                    null_bits[f] = pack_bits((nullmask & self.field_bit[f]) != 0)
                z |= null_bits[f]
            strict[i] = not np.any(z & ~unknown)
        return strict

    def mask_of(self, fields: frozenset[str]) -> np.uint64:
        mask = np.uint64(0)
        for f in fields:
            mask |= self.field_bit[f]
        return mask


class _Output:
    """Kept pairs of one slice, policy after policy, written straight into a batch's column buffers."""

    _COLUMNS = (("row", np.int32), ("pol", np.int32), ("status", np.int8), ("amount", np.int64), ("valid", bool),
                ("missing", np.uint64))

    def __init__(self, sl: _Slice, matcher: VectorisedMatcher, all_pairs: bool, batch_rows: int) -> None:
        self.sl, self.m, self.all_pairs, self.batch_rows = sl, matcher, all_pairs, batch_rows
        self.tail = _tail_mask(sl.n)
        self._reset(batch_rows)

    def _reset(self, capacity: int) -> None:
        capacity += self.sl.n  # room for one more policy's pairs past the batch size
        self.rows = 0
        self.policies = 0
        self.buf = {k: np.empty(capacity, dt) for k, dt in self._COLUMNS}
        self.failed = np.zeros(capacity, np.uint64) if self.all_pairs else None
        self._pending: list[tuple[str, int, int, Future]] = []  # policy_id, start, pairs, emit_policy

    def add(self, pol: int, plan: PolicyPlan, idx: np.ndarray) -> MatchBatch | None:
        """Add one policy's pairs (kernel.emit_policy, on the writer pool); returns the full batch it
        had to close first. Its pairs are counted first (kernel.count_policy), so each policy writes
        its own range of the buffers and several are written at once."""
        sl = self.sl
        full = None
        count = count_policy(sl.true, sl.false, idx, self.tail, self.all_pairs)
        if self.rows + count > len(self.buf["row"]):
            full = self.flush() if self.policies else None
            self._reset(max(self.batch_rows, count))
        strict = sl.strict[idx] if len(idx) else np.zeros(0, bool)
        strict_mask = self.m.mask_of(frozenset().union(*(c.fields for c, s in zip(plan.conditions, strict) if s)))
        loose = np.array([i for i, s in zip(idx, strict) if not s], np.int64)
        loose_masks = np.array([self.m.mask_of(c.fields) for c, s in zip(plan.conditions, strict) if not s], np.uint64)
        if plan.amount_sql is not None:
            values, valid = sl.amounts[plan.amount_sql]
            has_amount, amount_mask = True, self.m.mask_of(plan.amount_fields)
        else:
            values, valid, has_amount, amount_mask = _NO_VALUES, _NO_VALID, False, np.uint64(0)
        b = self.buf
        job = _emitters().submit(
            emit_policy, sl.true, sl.false, idx, self.tail, sl.nullmask, strict_mask, loose, loose_masks, values,
            valid, has_amount, amount_mask, pol, self.all_pairs, b["row"], b["pol"], b["status"], b["amount"],
            b["valid"], b["missing"], self.failed if self.all_pairs else _NO_FAILED, self.rows, _DEBRUIJN,
            GUARDED_BITS, GUARDED_TARGETS, SCHEMA_MASK)
        self._pending.append((plan.policy_id, self.rows, count, job))
        self.rows += count
        self.policies += 1
        return full

    def flush(self) -> MatchBatch:
        counts = []
        for policy_id, start, pairs, job in self._pending:
            end, e, k, total = job.result()
            if end != start + pairs:  # count_policy and emit_policy disagree: a bug, never silent
                raise RuntimeError(f"{policy_id}: {end - start} pairs written, {pairs} counted")
            counts.append({"policy_id": policy_id, "eligible": e, "unknown": k, "ineligible": self.sl.n - e - k,
                           "amount_total": Decimal(int(total)).scaleb(-4)})
        n = self.rows
        b = {k: v[:n] for k, v in self.buf.items()}
        table = pa.table({
            "row": b["row"], "pol": b["pol"], "status": b["status"],
            "amount": pa.array(b["amount"], pa.int64(), mask=~b["valid"]),
            "missing": b["missing"],
        }, schema=ENCODED_SCHEMA)
        if self.all_pairs:
            table = table.append_column(FAILED, pa.array(self.failed[:n], pa.uint64()))
        encoded = EncodedPairs(table, self.sl.uscc, self.m.policy_ids, self.m.condition_ids, self.sl.ents)
        batch = MatchBatch(encoded, pa.Table.from_pylist(counts, schema=_COUNT_SCHEMA), self.sl.n * self.policies)
        self._reset(self.batch_rows)
        return batch


_EMITTERS: tuple[int, ThreadPoolExecutor] | None = None


def _emitters() -> ThreadPoolExecutor:
    """emit_policy releases the GIL: one thread per core writes policies side by side. One pool per
    process: a child forked after the parent used the pool would inherit threads that do not exist."""
    global _EMITTERS
    if _EMITTERS is None or _EMITTERS[0] != os.getpid():
        _EMITTERS = (os.getpid(), ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="emit-policy"))
    return _EMITTERS[1]
_NO_VALUES, _NO_VALID, _NO_FAILED = np.zeros(1, np.int64), np.zeros(1, bool), np.zeros(1, np.uint64)
_DEBRUIJN = debruijn_table()


def _in_order_of(table: pa.Table, keys: pa.ChunkedArray) -> pa.Table:
    """``table`` (with a ``_key`` column holding the same set of row keys as ``keys``) with its rows
    in the order of ``keys``."""
    if table.column("_key").equals(keys):
        return table
    positions = pc.index_in(keys, value_set=table.column("_key").combine_chunks())
    if positions.null_count:
        raise RuntimeError("vectorised matcher: the evaluation queries returned different rows")
    return table.take(positions)


def _int64_with_validity(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """An int64 column's values (zero-copy; undefined under NULLs) and its validity as booleans."""
    arr = column.combine_chunks()
    n = len(arr)
    if arr.type == pa.null():
        return np.zeros(n, np.int64), np.zeros(n, bool)
    values = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + n]
    if arr.null_count == 0:
        return values, np.ones(n, bool)
    bitmap = np.frombuffer(arr.buffers()[0], dtype=np.uint8)
    valid = np.unpackbits(bitmap, bitorder="little", count=arr.offset + n)[arr.offset:].astype(bool)
    return values, valid


_COUNT_SCHEMA = pa.schema([("policy_id", pa.string()), ("eligible", pa.int64()), ("unknown", pa.int64()),
                           ("ineligible", pa.int64()), ("amount_total", pa.decimal128(38, 4))])


def _empty_pairs() -> pa.Table:
    return DECODED_SCHEMA.empty_table()


def scope_where(scope: Scope, rows: str = "all") -> str:
    """SQL filter for a scope (a superset: missing codes stay in, see scope.py); ``rows`` "known" or
    "regionless" keeps only the enterprises with or without a region code.

    A region prefix is a range of codes (``'3301' <= code < '3302'``), which DuckDB's zone maps
    prune on a registry sorted by region (run.facts_connection)."""
    terms = []
    if rows == "regionless":
        terms.append("region_code IS NULL")
    elif scope.region_prefix:
        prefix = scope.region_prefix
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        known = f"region_code >= '{_lit(prefix)}' AND region_code < '{_lit(upper)}'"
        terms.append(f"({known})" if rows == "known" else f"(region_code IS NULL OR ({known}))")
    elif rows == "known":
        terms.append("region_code IS NOT NULL")
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


def _byte_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every byte value: its set-bit count, and where its bit numbers start in one flat table."""
    counts = np.array([bin(v).count("1") for v in range(256)], np.int64)
    flat = np.array([b for v in range(256) for b in range(8) if (v >> b) & 1], np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return counts, starts, flat


_BYTE_COUNTS, _BYTE_STARTS, _BYTE_BITS = _byte_tables()


def bit_positions(bits: np.ndarray, n: int | None = None) -> np.ndarray:
    """Row numbers of the set bits, ascending (bits past ``n`` must be clear).

    Works byte by byte from lookup tables, so the cost follows the set bits and the non-zero
    bytes rather than the rows: a sparse policy on a million rows costs little more than its hits."""
    if not len(bits):
        return np.zeros(0, np.int64)
    raw = bits.view(np.uint8)
    nz = np.flatnonzero(raw)
    if not len(nz):
        return np.zeros(0, np.int64)
    values = raw[nz]
    counts = _BYTE_COUNTS[values]
    total = int(counts.sum())
    ends = np.cumsum(counts)
    owner = np.repeat(np.arange(len(nz)), counts)  # which non-zero byte each output belongs to
    rank = np.arange(total) - (ends - counts)[owner]
    return nz[owner] * 8 + _BYTE_BITS[_BYTE_STARTS[values][owner] + rank]


def pack_bits(flags: np.ndarray) -> np.ndarray:
    """Booleans → uint64 words, row i at bit i%64 (the inverse of unpacking)."""
    words = (len(flags) + 63) // 64
    packed = np.zeros(words * 8, np.uint8)
    raw = np.packbits(flags, bitorder="little")
    packed[:len(raw)] = raw
    return packed.view(np.uint64)


def _test(bits: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return ((bits[rows >> 6] >> (rows & 63).astype(np.uint64)) & np.uint64(1)).astype(bool)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return text.replace("'", "''")
