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


class LibraryItem:
    """A published policy: its catalogue entry (the metadata lists and filters read) and the parsed
    policy, parsed the first time a page needs more than the metadata (46,000 parses took a worker's
    first request 20 s)."""

    __slots__ = ("entry", "_policy", "score")

    def __init__(self, entry: PolicyEntry, policy: Policy | None = None, score: float | None = None) -> None:
        self.entry = entry
        self._policy = policy
        self.score = score

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            self._policy = parse_policy(self.entry.yaml_text, self.entry.policy_id)
        return self._policy

    def scored(self, score: float) -> LibraryItem:
        return LibraryItem(self.entry, self._policy, score)

    @property
    def region_name(self) -> str:
        return region_label(self.entry.region_code)


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
        self._index: SearchIndex | None = None  # built on the first search of a revision

    def _refresh(self) -> dict[str, LibraryItem]:
        revision = self.catalogue.revision()
        with self._lock:
            if revision != self._revision:
                old = self._items
                items = {}
                for entry in self.catalogue.published():
                    kept = old.get(entry.policy_id)
                    same = kept is not None and kept.entry.version == entry.version
                    items[entry.policy_id] = LibraryItem(entry, kept._policy if same else None)
                self._items = items
                self._index = None
                self._revision = revision
            return self._items

    def _search_index(self) -> SearchIndex:
        items = self._refresh()
        with self._lock:
            if self._index is None:
                self._index = SearchIndex(policy_document(i.policy) for i in items.values())
            return self._index

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
            found = [items[h.key].scored(h.score) for h in self._search_index().search(filters.q) if h.key in items]
        else:
            found = sorted(items.values(), key=lambda i: (-i.entry.valid_from.toordinal(), i.entry.policy_id))
        return [i for i in found if _passes(i.entry, filters, today)]

    def facets(self) -> dict[str, list[str]]:
        entries = [i.entry for i in self._refresh().values()]
        return {
            "levels": [lv for lv in LEVELS if any(e.level == lv for e in entries)],
            "support_types": sorted({e.support_type for e in entries}),
            "modes": [m for m in MODES if any(e.mode == m for e in entries)],
            "regions": sorted({e.region_code for e in entries}),
        }


def _passes(entry: PolicyEntry, f: PolicyFilters, today: date) -> bool:
    """The filters, on the catalogue's metadata columns (the same values as the parsed policy's)."""
    return (
        (not f.level or entry.level == f.level)
        and (not f.region or applies_in(entry.region_code, f.region))
        and (not f.industry or open_to(entry.industries, f.industry.upper()))
        and (not f.support_type or entry.support_type == f.support_type)
        and (not f.mode or entry.mode == f.mode)
        and (not f.valid_now or entry.valid_on(today))
    )
