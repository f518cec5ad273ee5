"""Full-text search of the published catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qinqing.search.bm25 import BM25Index
from qinqing.search.synonyms import SYNONYM_WEIGHT, synonyms
from qinqing.search.tokenize import tokenize

TITLE_WEIGHT = 3  # a word in the title counts as if it appeared this many times


@dataclass(frozen=True)
class SearchDocument:
    key: str
    title: str
    body: str


@dataclass(frozen=True)
class Hit:
    key: str
    score: float


class SearchIndex:
    def __init__(self, documents: Iterable[SearchDocument]) -> None:
        self.documents = list(documents)
        self._bm25 = BM25Index([tokenize(d.title) * TITLE_WEIGHT + tokenize(d.body) for d in self.documents])

    def search(self, query: str, limit: int | None = None) -> list[Hit]:
        """Documents matching ``query``, best first; documents that match no query word are left out."""
        terms = tokenize(query)
        if not terms:
            return []
        scores = self._bm25.scores(terms, expand=synonyms, synonym_weight=SYNONYM_WEIGHT)
        hits = sorted(
            (Hit(d.key, s) for d, s in zip(self.documents, scores, strict=True) if s > 0),
            key=lambda h: (-h.score, h.key),
        )
        return hits[:limit] if limit else hits


def policy_document(policy) -> SearchDocument:
    """What is searched of a policy (a qinqing.rules.model.Policy): title, issuer, document, clauses."""
    parts = [policy.issuer, policy.document, policy.support_type, policy.mode]
    parts += [c.clause for c in policy.conditions]
    if policy.benefit is not None:
        parts.append(policy.benefit.clause)
    parts += list(policy.materials)
    return SearchDocument(key=policy.id, title=policy.title, body="\n".join(parts))
