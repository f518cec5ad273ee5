"""政策库: the published catalogue, parsed once per catalogue revision, browsed and searched.

Search semantics are ``qinqing.search``'s (every word required, synonyms within a word, BM25). Filters come
from the query string as text and are read by :func:`read_filters`, which never fails: a value it cannot
use is reported (a Chinese message the page shows beside the filters, a 422 ``web.invalid_filter`` from the
API) and that one filter is not applied.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup, escape

from qinqing.catalogue.errors import PolicyNotFound
from qinqing.catalogue.parse import parse_policy
from qinqing.catalogue.store import CatalogueStore, PolicyEntry
from qinqing.registry.standards import industries, regions
from qinqing.rules.model import NATIONAL_REGION, Policy
from qinqing.search import SearchIndex, policy_document, segments, snippet
from qinqing.web.errors import WebError
from qinqing.web.services.labels import STATUSES, validity_status

LEVELS = ("国家", "省", "市", "区县")
MODES = ("免申即享", "即申即享", "申报", "遴选")
# The status filter's values in the URL and what the page calls them (labels.validity_status).
STATUS_KEYS = {"valid": "有效", "upcoming": "未生效", "expired": "已过期"}
_TRUE = frozenset({"true", "1", "yes", "on", "是"})
_FALSE = frozenset({"false", "0", "no", "off", "否", ""})


class InvalidFilter(WebError):
    """A filter value of 政策库 that is not one of its choices (e.g. an industry code not in GB/T 4754)."""

    status = 422
    code = "web.invalid_filter"


@dataclass(frozen=True)
class PolicyFilters:
    q: str = ""
    level: str = ""
    region: str = ""  # policies that apply to enterprises registered in this region
    industry: str = ""  # policies open to this GB/T 4754 code (or naming no industry), canonical ("C39")
    support_type: str = ""
    mode: str = ""
    status: str = ""  # "" or a key of STATUS_KEYS
    problems: tuple[str, ...] = field(default=(), compare=False)  # what read_filters could not use

    @property
    def valid_now(self) -> bool:
        return self.status == "valid"


def read_filters(params: Mapping[str, str]) -> PolicyFilters:
    """The filters in a query string, leniently: an unusable value is left out and named in ``problems``.

    ``valid_now`` (the old check box) is still read: a true value means ``status=valid``.
    """
    problems: list[str] = []

    def text(name: str) -> str:
        return (params.get(name) or "").strip()

    level, mode = text("level"), text("mode")
    if level and level not in LEVELS:
        problems.append(f"层级“{level}”无效：应为{'、'.join(LEVELS)}之一，未按层级筛选。")
        level = ""
    if mode and mode not in MODES:
        problems.append(f"兑现方式“{mode}”无效：应为{'、'.join(MODES)}之一，未按兑现方式筛选。")
        mode = ""
    region = text("region")
    if region and not _is_national(region) and not regions.is_valid(region):
        problems.append(f"地区代码“{region}”无效：应为 GB/T 2260 的六位代码，未按地区筛选。")
        region = ""
    industry = text("industry")
    if industry:
        canonical = industries.normalise(industry)
        if canonical is None:
            reason = industries.check(industry) or f"行业代码“{industry}”无效"
            problems.append(f"{reason}，未按行业筛选。")
        industry = canonical or ""
    status = text("status")
    if status in STATUSES:  # the Chinese label itself is accepted too
        status = next(k for k, v in STATUS_KEYS.items() if v == status)
    if status and status not in STATUS_KEYS:
        problems.append(f"状态“{status}”无效：应为有效、未生效或已过期，未按状态筛选。")
        status = ""
    valid_now = text("valid_now").lower()
    if not status and valid_now in _TRUE:
        status = "valid"
    elif valid_now not in _TRUE | _FALSE:
        problems.append(f"“仅看有效期内”的取值“{params.get('valid_now')}”无法识别，未按有效期筛选。")
    return PolicyFilters(q=text("q"), level=level, region=region, industry=industry,
                         support_type=text("support_type"), mode=mode, status=status, problems=tuple(problems))


def industry_choices() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The industry dropdown: each GB/T 4754 门类 (code, name) with its 大类 (code, name)."""
    divisions: dict[str, list[tuple[str, str]]] = {}
    for code in industries.codes("division"):
        divisions.setdefault(code[0], []).append((code, industries.name(code) or code))
    return [(s, industries.name(s) or s, divisions.get(s, [])) for s in industries.codes("section")]


PER_PAGE = 20


@dataclass(frozen=True)
class Pager:
    """One page of a result list: ``items`` of page ``page`` (1-based) of ``pages``, out of ``total``."""

    items: list
    page: int
    pages: int
    total: int

    def window(self, width: int = 2) -> list[int]:
        """The page numbers to link: the first, the last, and ``width`` either side of this one."""
        near = range(max(1, self.page - width), min(self.pages, self.page + width) + 1)
        return sorted({1, self.pages, *near})


def paginate(items: list, page: str | int | None, per_page: int | None = None) -> Pager:
    """Page ``page`` of ``items`` (``PER_PAGE`` a page); a page that is not a number is the first, one past
    the end the last."""
    per_page = per_page or PER_PAGE
    try:
        number = int(page or 1)
    except (TypeError, ValueError):
        number = 1
    pages = max(1, -(-len(items) // per_page))
    number = min(max(number, 1), pages)
    return Pager(items[(number - 1) * per_page:number * per_page], number, pages, len(items))


def region_choices(codes) -> list[tuple[str, str, int]]:
    """The region dropdown as a tree: each code with the regions above it, in tree order, as (code, short
    name, depth); 全国 first. Choosing a province shows its cities' and counties' policies too."""
    shown: set[str] = set()
    national = False
    for code in codes:
        if _is_national(code):
            national = True
        elif regions.is_valid(code):
            shown.update([*regions.ancestors(code), code])
    ordered = sorted(shown, key=lambda c: [*regions.ancestors(c), c])
    tree = [(c, regions.name(c) or c, len(regions.ancestors(c))) for c in ordered]
    return ([(NATIONAL_REGION, "全国", 0)] if national else []) + tree


def highlight(text: str, words: tuple[str, ...] | list[str]) -> Markup:
    """``text`` escaped, with each matched word in <mark> (a Jinja filter: ``title | highlight(item.matched)``)."""
    return Markup("").join(Markup("<mark>{}</mark>").format(piece) if hit else escape(piece)
                           for piece, hit in segments(text, words))


class LibraryItem:
    """A published policy: its catalogue entry (the metadata lists and filters read) and the parsed
    policy, parsed the first time a page needs more than the metadata (46,000 parses took a worker's
    first request 20 s)."""

    __slots__ = ("_policy", "entry", "matched", "score")

    def __init__(self, entry: PolicyEntry, policy: Policy | None = None, score: float | None = None,
                 matched: tuple[str, ...] = ()) -> None:
        self.entry = entry
        self._policy = policy
        self.score = score
        self.matched = matched  # the query's words and synonyms found in it, for highlighting

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            self._policy = parse_policy(self.entry.yaml_text, self.entry.policy_id)
        return self._policy

    def scored(self, score: float, matched: tuple[str, ...] = ()) -> LibraryItem:
        return LibraryItem(self.entry, self._policy, score, matched)

    def status(self, today: date) -> str:
        """有效, 未生效 or 已过期 on ``today``."""
        return validity_status(self.entry.valid_from, self.entry.valid_to, today)

    @property
    def excerpt(self) -> str:
        """Where the clauses mention a matched word (empty without a search)."""
        if not self.matched:
            return ""
        p = self.policy
        clauses = [c.clause for c in p.conditions] + ([p.benefit.clause] if p.benefit else [])
        text = "；".join(c.strip().rstrip("。；;") for c in [*clauses, p.document])
        return snippet(text.replace("\n", ""), self.matched)

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


def open_to(codes: tuple[str, ...], industry: str) -> bool:
    if not codes:
        return True
    return any(industry.startswith(p) or p.startswith(industry) for p in codes)


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

    def matched_in(self, policy_id: str, query: str) -> tuple[str, ...]:
        """The forms of ``query``'s words that policy ``policy_id`` holds (for marking them on its page);
        empty when the query is empty or the policy does not match it."""
        if not query.strip():
            return ()
        return next((h.matched for h in self._search_index().search(query) if h.key == policy_id), ())

    def browse(self, filters: PolicyFilters, today: date) -> list[LibraryItem]:
        items = self._refresh()
        if filters.q.strip():
            found = [items[h.key].scored(h.score, h.matched) for h in self._search_index().search(filters.q)
                     if h.key in items]
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
            "region_tree": region_choices({e.region_code for e in entries}),
        }


def _passes(entry: PolicyEntry, f: PolicyFilters, today: date) -> bool:
    """The filters, on the catalogue's metadata columns (the same values as the parsed policy's)."""
    return (
        (not f.level or entry.level == f.level)
        and (not f.region or applies_in(entry.region_code, f.region))
        and (not f.industry or open_to(entry.industries, f.industry))
        and (not f.support_type or entry.support_type == f.support_type)
        and (not f.mode or entry.mode == f.mode)
        and (not f.status or validity_status(entry.valid_from, entry.valid_to, today) == STATUS_KEYS[f.status])
    )
