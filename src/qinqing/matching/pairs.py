"""Kept pairs in encoded form: integers per pair, names decoded only when a pair is read.

A province run keeps hundreds of millions of pairs; spelling each one's ``missing`` and ``failed``
as lists of strings costs more than deciding them. So the fast path emits, per pair,

    row      int32   the enterprise's position in the batch's ``uscc`` array
    pol      int32   the policy's position in the batch's ``policy_ids``
    status   int8    0 eligible, 1 unknown, 2 ineligible (STATUS_NAMES)
    amount   int64   in units of 0.0001 (DECIMAL(18,4) unscaled), NULL unless eligible and computable
    missing  uint64  bit i set: field ALL_FIELDS[i] is missing (schema order, as the rules engine lists them)
    failed   uint64  bit j set: the policy's j-th condition is false — only in complete tables
                     (``all_pairs``): a kept pair has no false condition, by definition

and ``decode`` turns a batch into the rules engine's table (uscc, policy_id, status, amount,
failed, missing) when someone reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from qinqing.registry.schema import ALL_FIELDS

STATUS_NAMES = ("eligible", "unknown", "ineligible")
FIELD_NAMES = tuple(f.name for f in ALL_FIELDS)
FIELD_BIT = {name: i for i, name in enumerate(FIELD_NAMES)}


def _guarded_inputs() -> tuple[tuple[str, str], ...]:
    """(derived, stored) pairs where the derived field reads the stored one only for some enterprises
    (rules.inputs.input_guard: size_class reads an indicator only if its industry's size row uses it)."""
    from qinqing.registry.derived import DERIVED_NAMES
    from qinqing.rules.inputs import input_guard, stored_inputs

    return tuple((n, s) for n in DERIVED_NAMES for s in FIELD_NAMES
                 if s in stored_inputs(n) and input_guard(n, s) is not None)


# Missing-mask keys: every schema field (its own bit), then one *guarded* key per (derived, stored)
# pair, named "stored@derived", whose bit is set for a row when the stored field is NULL **and** the
# derived field reads it for that row. Conditions reading a derived field name the guarded keys;
# masks are folded back to schema bits (``fold``) before anyone reads them.
GUARDED_INPUTS = _guarded_inputs()
GUARDED_KEYS = {f"{s}@{n}": (n, s) for n, s in GUARDED_INPUTS}
MISSING_BIT = {**FIELD_BIT, **{k: len(FIELD_BIT) + i for i, k in enumerate(GUARDED_KEYS)}}
assert len(MISSING_BIT) <= 64, "missing masks are uint64: at most 64 schema fields and guarded inputs"
SCHEMA_MASK = np.uint64((1 << len(FIELD_BIT)) - 1)
GUARDED_BITS = np.array([1 << MISSING_BIT[k] for k in GUARDED_KEYS], np.uint64)
GUARDED_TARGETS = np.array([1 << FIELD_BIT[s] for _, s in GUARDED_KEYS.values()], np.uint64)


def fold(masks: np.ndarray) -> np.ndarray:
    """Missing masks over MISSING_BIT → schema-field masks (a guarded key sets its stored field's bit)."""
    out = masks & SCHEMA_MASK
    for bit, target in zip(GUARDED_BITS, GUARDED_TARGETS):
        out |= np.where(masks & bit, target, np.uint64(0))
    return out

ENCODED_SCHEMA = pa.schema([("row", pa.int32()), ("pol", pa.int32()), ("status", pa.int8()),
                            ("amount", pa.int64()), ("missing", pa.uint64())])
FAILED = pa.field("failed", pa.uint64())
DECODED_SCHEMA = pa.schema([("uscc", pa.string()), ("policy_id", pa.string()), ("status", pa.string()),
                            ("amount", pa.decimal128(18, 4)), ("failed", pa.list_(pa.string())),
                            ("missing", pa.list_(pa.string()))])


def field_mask(names: Sequence[str] | frozenset[str]) -> int:
    """The missing-mask bits of schema fields (and guarded keys, MISSING_BIT)."""
    mask = 0
    for name in names:
        if name not in MISSING_BIT:
            raise KeyError(f"字段“{name}”不在企业数据字段表中（registry/schema.py）")
        mask |= 1 << MISSING_BIT[name]
    return mask


def mask_names(masks: np.ndarray, names: Sequence[str]) -> pa.Array:
    """uint64 bitmasks → list<string> of the names of the set bits, in ``names`` order."""
    if not len(masks):
        return pa.array([], pa.list_(pa.string()))
    uniq, inverse = np.unique(masks, return_inverse=True)
    lists = [[names[b] for b in range(len(names)) if (int(u) >> b) & 1] for u in uniq]
    return pa.array(lists, type=pa.list_(pa.string())).take(pa.array(inverse.astype(np.int64).ravel()))


def decimal_from_int64(values: np.ndarray, valid: np.ndarray | None, scale: int = 4) -> pa.Array:
    """int64 units of 10^-scale → decimal128(18, scale), without a Python object per value."""
    wide = np.empty((len(values), 2), dtype=np.int64)
    wide[:, 0] = values
    wide[:, 1] = values >> 63  # two's complement sign extension to 128 bits
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid.astype(bool), bitorder="little"))
    nulls = 0 if valid is None else int(len(valid) - np.count_nonzero(valid))
    return pa.Array.from_buffers(pa.decimal128(18, scale), len(values), [bitmap, pa.py_buffer(wide)], null_count=nulls)


def int64_from_decimal(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """decimal128(p ≤ 18) → (int64 unscaled values, validity); NULLs read as 0."""
    n = len(arr)
    if arr.type == pa.null() or n == 0:
        return np.zeros(n, np.int64), np.zeros(n, bool)
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)[2 * arr.offset: 2 * (arr.offset + n)]
    values = words[0::2].copy()
    if arr.null_count:
        valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        values[~valid] = 0
    else:
        valid = np.ones(n, bool)
    return values, valid


def int64_from_int64_column(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(arr.fill_null(0).to_numpy(), dtype=np.int64), valid


class ConditionNames:
    """Every policy's condition ids in one flat array, for decoding failed-condition bitmasks."""

    def __init__(self, conditions: Sequence[Sequence[str]]) -> None:
        counts = np.array([len(c) for c in conditions], np.int64)
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.flat = pa.array([c for cs in conditions for c in cs], pa.string())

    def lists(self, pol: np.ndarray, masks: np.ndarray) -> pa.Array:
        """Per pair, the ids of its policy's conditions whose bits are set, in condition order."""
        width = max(int(masks.max()).bit_length(), 1) if len(masks) else 1
        bits = ((masks[:, None] >> np.arange(width, dtype=np.uint64)) & np.uint64(1)).astype(bool)
        rows, bit = np.nonzero(bits)  # row-major: by pair, then by condition
        values = self.flat.take(pa.array(self.starts[pol[rows]] + bit))
        offsets = np.concatenate([[0], np.cumsum(bits.sum(axis=1))]).astype(np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), values)


def condition_names(conditions: Sequence[Sequence[str]] | ConditionNames) -> ConditionNames:
    return conditions if isinstance(conditions, ConditionNames) else ConditionNames(conditions)


@dataclass
class EncodedPairs:
    """One batch of kept pairs and what is needed to name its integers."""

    pairs: pa.Table  # ENCODED_SCHEMA
    uscc: pa.Array  # rows refer to it
    policy_ids: Sequence[str] | pa.Array  # pol refers to it
    conditions: Sequence[Sequence[str]] | ConditionNames  # per pol, the condition ids failed bits refer to
    ents: np.ndarray | None = None  # per uscc entry, its number in the registry (uscc order), when known

    @property
    def num_rows(self) -> int:
        return self.pairs.num_rows

    def kept(self) -> EncodedPairs:
        """Only the eligible and unknown pairs (what the store keeps and the portal lists)."""
        keep = pa.compute.less(self.pairs.column("status"), 2)
        return EncodedPairs(self.pairs.filter(keep), self.uscc, self.policy_ids, self.conditions, self.ents)

    def decode(self) -> pa.Table:
        """The rules engine's form: uscc, policy_id, status, amount, failed, missing (lists of names)."""
        t = self.pairs
        pol = t.column("pol").to_numpy()
        failed = t.column("failed").to_numpy() if "failed" in t.column_names else np.zeros(len(pol), np.uint64)
        failed_lists = condition_names(self.conditions).lists(pol, failed)
        ids = self.policy_ids if isinstance(self.policy_ids, pa.Array) else pa.array(list(self.policy_ids), pa.string())
        return pa.table({
            "uscc": self.uscc.take(t.column("row")),
            "policy_id": ids.take(t.column("pol")),
            "status": pa.array(STATUS_NAMES, pa.string()).take(t.column("status")),
            "amount": decimal_from_int64(*int64_from_int64_column(t.column("amount"))),
            "failed": failed_lists,
            "missing": mask_names(t.column("missing").to_numpy(), FIELD_NAMES),
        }, schema=DECODED_SCHEMA)
