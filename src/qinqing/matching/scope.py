"""Scope pruning: which enterprises a policy can possibly match, and which policies to run at all.

A policy applies to enterprises registered within its region (GB/T 2260 subtree) and, when it
names industries, within those GB/T 4754 prefixes; outside its validity window it is skipped unless
asked for. The scope here is a *superset* filter by code prefix: the rules engine still evaluates
its implicit ``region`` and ``industries`` conditions on every enterprise kept, so pruning never
changes a result, it only skips pairs that are certainly ineligible. An enterprise whose region or
industry is missing stays in every scope, because for it those conditions are unknown, not false.

Policies with the same scope are evaluated together on one slice of the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NATIONAL_CODES = frozenset({"", "000000", "100000"})


@dataclass(frozen=True, order=True)
class Scope:
    """Region code prefix ('' for the whole country) and industry prefixes (None for all)."""

    region_prefix: str
    industries: tuple[str, ...] | None

    def describe(self) -> str:
        region = self.region_prefix or "全国"
        industries = "、".join(self.industries) if self.industries else "全部行业"
        return f"{region} / {industries}"


def region_prefix(code: str | None) -> str:
    """The digits a code's subtree shares: 330000 → 33, 330100 → 3301, 330106 → 330106."""
    if code is None or code in NATIONAL_CODES:
        return ""
    code = str(code)
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def scope_of(policy: Any) -> Scope:
    industries = getattr(policy, "industries", None)
    return Scope(region_prefix(policy.region), tuple(sorted(industries)) if industries else None)


def is_active(policy: Any, as_of: date) -> bool:
    """Within the validity window on ``as_of`` (open ends allowed)."""
    valid_from, valid_to = getattr(policy, "valid_from", None), getattr(policy, "valid_to", None)
    return (valid_from is None or valid_from <= as_of) and (valid_to is None or as_of <= valid_to)


def select_policies(policies: Iterable[Any], as_of: date, include_expired: bool = False) -> tuple[list[Any], list[Any]]:
    """(policies to run, policies skipped because they are outside their validity window)."""
    run, skipped = [], []
    for p in policies:
        (run if include_expired or is_active(p, as_of) else skipped).append(p)
    return run, skipped


def group_by_scope(policies: Iterable[Any]) -> dict[Scope, list[Any]]:
    """Policies sharing a scope, broadest scopes first (a province before its cities)."""
    groups: dict[Scope, list[Any]] = {}
    for p in policies:
        groups.setdefault(scope_of(p), []).append(p)
    return dict(sorted(groups.items(), key=lambda kv: (len(kv[0].region_prefix), kv[0].region_prefix,
                                                       kv[0].industries or ())))


def in_scope(scope: Scope, region_code: str | None, industry_code: str | None) -> bool:
    """One enterprise: could the policy's region and industry conditions be anything but false?"""
    if region_code is not None and not str(region_code).startswith(scope.region_prefix):
        return False
    if scope.industries and industry_code is not None:
        return any(str(industry_code).startswith(i) for i in scope.industries)
    return True


def scope_mask(scope: Scope, region_codes: pa.Array | pa.ChunkedArray, industry_codes: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean mask over a registry slice: rows in ``scope`` (missing codes count as in)."""
    mask = np.ones(len(region_codes), dtype=bool)
    if scope.region_prefix:
        hit = pc.starts_with(region_codes, scope.region_prefix)
        mask &= _true_or_null(hit)
    if scope.industries:
        hit = pc.starts_with(industry_codes, scope.industries[0])
        for prefix in scope.industries[1:]:
            hit = pc.or_kleene(hit, pc.starts_with(industry_codes, prefix))
        mask &= _true_or_null(hit)
    return mask


def _true_or_null(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, True).to_numpy(zero_copy_only=False), dtype=bool)

