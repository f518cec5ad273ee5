"""政策库: the published catalogue, parsed once per catalogue revision, browsed and searched."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

from qinqing.catalogue.errors import PolicyNotFound
from qinqing.catalogue.parse import parse_policy
from qinqing.catalogue.store import CatalogueStore, PolicyEntry
from qinqing.registry.standards import regions
from qinqing.rules.model import NATIONAL_REGION, Policy
from qinqing.search import SearchIndex, policy_document

LEVELS = ("国家", "省", "市", "区县")
MODES = ("免申即享", "即申即享", "申报", "遴选")


@dataclass(frozen=True)
class PolicyFilters:
    q: str = ""
    level: str = ""
    region: str = ""  # policies that apply to enterprises registered in this region
    industry: str = ""  # policies open to this GB/T 4754 code (or naming no industry)
    support_type: str = ""
    mode: str = ""
    valid_now: bool = False


@dataclass(frozen=True)
class LibraryItem:
    entry: PolicyEntry
    policy: Policy
    score: float | None = None

    @property
    def region_name(self) -> str:
        return region_label(self.policy.region)


def _is_national(code: str) -> bool:
    return code in (NATIONAL_REGION, "000000", "")


def region_label(code: str) -> str:
    if _is_national(code):
        return "全国"
    return regions.full_name(code) or code


def applies_in(policy_region: str, region: str) -> bool:
    """A policy of ``policy_region`` reaches enterprises registered in ``region``."""
    if _is_national(policy_region):
        return True
    return regions.within(region, policy_region) or regions.within(policy_region, region)


def open_to(industries: tuple[str, ...], industry: str) -> bool:
    if not industries:
        return True
    return any(industry.startswith(p) or p.startswith(industry) for p in industries)


class PolicyLibrary:
    def __init__(self, catalogue: CatalogueStore) -> None:
        self.catalogue = catalogue
        self._lock = threading.Lock()
        self._revision: tuple[int, int] | None = None
        self._items: dict[str, LibraryItem] = {}
        self._index = SearchIndex([])

    def _refresh(self) -> dict[str, LibraryItem]:
        revision = self.catalogue.revision()
        with self._lock:
            if revision != self._revision:
                items = {}
                for entry in self.catalogue.published():
                    items[entry.policy_id] = LibraryItem(entry, parse_policy(entry.yaml_text, entry.policy_id))
                self._items = items
                self._index = SearchIndex(policy_document(i.policy) for i in items.values())
                self._revision = revision
            return self._items

    def items(self) -> list[LibraryItem]:
        return list(self._refresh().values())

    def policies(self) -> list[Policy]:
        return [i.policy for i in self.items()]

    def get(self, policy_id: str) -> LibraryItem:
        item = self._refresh().get(policy_id)
        if item is None:
            raise PolicyNotFound(policy_id)
        return item

    def browse(self, filters: PolicyFilters, today: date) -> list[LibraryItem]:
        items = self._refresh()
        if filters.q.strip():
            found = [LibraryItem(items[h.key].entry, items[h.key].policy, h.score) for h in self._index.search(filters.q)]
        else:
            found = sorted(items.values(), key=lambda i: (-i.policy.valid_from.toordinal(), i.policy.id))
        return [i for i in found if _passes(i.policy, filters, today)]

    def facets(self) -> dict[str, list[str]]:
        policies = self.policies()
        return {
            "levels": [lv for lv in LEVELS if any(p.level == lv for p in policies)],
            "support_types": sorted({p.support_type for p in policies}),
            "modes": [m for m in MODES if any(p.mode == m for p in policies)],
            "regions": sorted({p.region for p in policies}),
        }


def _passes(policy: Policy, f: PolicyFilters, today: date) -> bool:
    return (
        (not f.level or policy.level == f.level)
        and (not f.region or applies_in(policy.region, f.region))
        and (not f.industry or open_to(policy.industries, f.industry.upper()))
        and (not f.support_type or policy.support_type == f.support_type)
        and (not f.mode or policy.mode == f.mode)
        and (not f.valid_now or policy.valid_on(today))
    )
