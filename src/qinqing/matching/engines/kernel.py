"""The per-policy combination of the fast path, compiled (numba): one pass over a slice's bitsets.

For one policy it ANDs the TRUE bitsets of its conditions (eligible) and ORs the FALSE ones
(ineligible), 64 enterprises per machine word, and writes each kept pair straight into the batch's
column buffers: row, policy, status, amount (eligible only) and the missing-field bitmask. Done
with numpy this took a dozen whole-array passes per policy; here it is one loop whose cost follows
the words scanned and the pairs written.

Semantics are those of the numpy version it replaced (and of the rules engine's SQL, which the
differential tests check): a *strict* condition — unknown wherever one of the fields it reads is
NULL — contributes its NULL fields at once (``strict_mask``); any other condition contributes its
NULL fields only on rows where it is itself unknown. Masks are over pairs.MISSING_BIT (schema
fields, then guarded inputs of derived fields) and are folded to schema fields as they are written.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# The bit number of a word's lowest set bit, by de Bruijn multiplication (a table of 64).
_DEBRUIJN = 0x03F79D71B4CB0A89
_DEBRUIJN_TABLE = np.zeros(64, np.int64)
for _i in range(64):
    _DEBRUIJN_TABLE[(((1 << _i) * _DEBRUIJN) & 0xFFFFFFFFFFFFFFFF) >> 58] = _i


@njit(cache=True, nogil=True)
def _fold(m, guarded_bits, guarded_targets, schema_mask):  # pragma: no cover - compiled
    """A mask over pairs.MISSING_BIT → schema fields only (pairs.fold, for one mask)."""
    if m & ~schema_mask:
        for q in range(guarded_bits.shape[0]):
            if m & guarded_bits[q]:
                m |= guarded_targets[q]
        m &= schema_mask
    return m


@njit(cache=True, nogil=True)
def emit_policy(true, false, idx, tail, nullmask, strict_mask, loose, loose_masks, values, valid, has_amount,
                amount_mask, pol, all_pairs, out_row, out_pol, out_status, out_amount, out_valid, out_missing,
                out_failed, start, debruijn_table, guarded_bits, guarded_targets,
                schema_mask):  # pragma: no cover - compiled
    """Write one policy's kept pairs (every pair if ``all_pairs``) from ``start``; returns
    (next free position, eligible count, unknown count, total of eligible amounts in 0.0001 units)."""
    o = start
    n_el = 0
    n_unk = 0
    total = 0
    one = np.uint64(1)
    zero = np.uint64(0)
    mul = np.uint64(0x03F79D71B4CB0A89)
    shift = np.uint64(58)
    for w in range(tail.shape[0]):
        el = tail[w]
        fa = zero
        for j in idx:
            el &= true[j, w]
            fa |= false[j, w]
        fa &= tail[w]
        unk = ~(el | fa) & tail[w]
        bits = tail[w] if all_pairs else (el | unk)
        while bits != zero:
            low = bits & (~bits + one)
            b = debruijn_table[(low * mul) >> shift]
            bits ^= low
            r = w * 64 + b
            out_row[o] = r
            out_pol[o] = pol
            out_missing[o] = zero
            out_valid[o] = False
            out_amount[o] = 0
            if el & low:
                out_status[o] = 0
                n_el += 1
                if has_amount:
                    if valid[r]:
                        out_amount[o] = values[r]
                        out_valid[o] = True
                        total += values[r]
                    else:
                        out_missing[o] = _fold(nullmask[r] & amount_mask, guarded_bits, guarded_targets,
                                               schema_mask)
            elif unk & low:
                out_status[o] = 1
                n_unk += 1
                m = nullmask[r] & strict_mask
                for q in range(loose.shape[0]):
                    j = loose[q]
                    if not ((true[j, w] | false[j, w]) & low):
                        m |= nullmask[r] & loose_masks[q]
                out_missing[o] = _fold(m, guarded_bits, guarded_targets, schema_mask)
            else:
                out_status[o] = 2
                f = zero
                for q in range(idx.shape[0]):
                    if false[idx[q], w] & low:
                        f |= one << np.uint64(q)
                out_failed[o] = f
            o += 1
    return o, n_el, n_unk, total


@njit(cache=True, nogil=True)
def count_policy(true, false, idx, tail, all_pairs):  # pragma: no cover - compiled
    """How many pairs emit_policy would write for this policy: its kept pairs (every pair if
    ``all_pairs``). Cheap (one pass over the words, no writes), so that each policy's place in the
    batch is known before it is written and policies can be written side by side on threads."""
    n = 0
    zero = np.uint64(0)
    for w in range(tail.shape[0]):
        if all_pairs:
            bits = tail[w]
        else:
            el = tail[w]
            fa = zero
            for j in idx:
                el &= true[j, w]
                fa |= false[j, w]
            bits = (el | ~(el | fa)) & tail[w]  # eligible or unknown
        while bits != zero:
            bits &= bits - np.uint64(1)
            n += 1
    return n


def debruijn_table() -> np.ndarray:
    return _DEBRUIJN_TABLE


@njit(cache=True, nogil=True)
def combine_one(cond, flat, offsets, position, cond_masks, nullmask, out_status, out_missing,
                out_failed):  # pragma: no cover - compiled
    """One enterprise against its candidate policies (single.py), in one pass.

    ``cond`` holds each distinct condition's value (2 TRUE, 1 NULL, 0 FALSE); policy p's conditions are
    ``flat[offsets[p]:offsets[p + 1]]`` (-1: the sentinel of a policy without conditions). Writes the
    status (0 eligible, 1 unknown, 2 ineligible), the missing mask of unknown pairs (NULL fields read
    by their unknown conditions) and the failed bits (``position``: a condition's place in its policy)."""
    one = np.uint64(1)
    n = offsets.shape[0]
    total = flat.shape[0]
    for p in range(n):
        end = offsets[p + 1] if p + 1 < n else total
        low = 2
        miss = np.uint64(0)
        fail = np.uint64(0)
        for k in range(offsets[p], end):
            j = flat[k]
            if j < 0:
                continue
            v = cond[j]
            if v == 0:
                low = 0
                fail |= one << np.uint64(position[k])
            elif v == 1:
                if low > 1:
                    low = 1
                miss |= cond_masks[j]
        out_status[p] = 2 - low
        out_missing[p] = miss & nullmask if low == 1 else np.uint64(0)
        out_failed[p] = fail
