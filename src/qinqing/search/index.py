"""Full-text search of the published catalogue.

Semantics (docs/web.md, “政策库 search”): the query's words (jieba precise mode, stop words dropped) are
all required — a policy matches when, for every word, it contains that word or one of its synonyms
(synonyms are alternatives of their own word only: AND across words, OR within a word). The word itself
also matches as a literal substring (what the reader typed is in the text), synonyms only as whole words.
Matches are ranked by BM25, each word counting by its best form (a synonym at ``SYNONYM_WEIGHT``); title
words count ``TITLE_WEIGHT`` times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qinqing.search.bm25 import BM25Index
from qinqing.search.synonyms import SYNONYM_WEIGHT, synonyms
from qinqing.search.tokenize import tokenize, words

TITLE_WEIGHT = 3  # a word in the title counts as if it appeared this many times


@dataclass(frozen=True)
class SearchDocument:
    key: str
    title: str
    body: str


@dataclass(frozen=True)
class Term:
    """One required word of a query and the words that may stand for it."""

    word: str
    synonyms: frozenset[str]

    def alternatives(self) -> list[tuple[str, float]]:
        return [(self.word, 1.0)] + [(s, SYNONYM_WEIGHT) for s in sorted(self.synonyms)]


@dataclass(frozen=True)
class Hit:
    key: str
    score: float
    matched: tuple[str, ...] = ()  # the forms found (words and synonyms), for highlighting


def query_terms(query: str) -> list[Term]:
    """The required terms of ``query``, in order, each once."""
    return [Term(w, synonyms(w)) for w in words(query)]


class SearchIndex:
    def __init__(self, documents: Iterable[SearchDocument]) -> None:
        self.documents = list(documents)
        self._texts = [f"{d.title}\n{d.body}".lower() for d in self.documents]
        self._bm25 = BM25Index([tokenize(d.title) * TITLE_WEIGHT + tokenize(d.body) for d in self.documents])

    def search(self, query: str, limit: int | None = None) -> list[Hit]:
        """Documents that contain every term of ``query`` (or a synonym of it), best first."""
        terms = query_terms(query)
        if not terms:
            return []
        hits = []
        for doc in sorted(self._candidates(terms)):
            found = self._match(doc, terms)
            if found is not None:
                hits.append(Hit(self.documents[doc].key, found[0], tuple(dict.fromkeys(found[1]))))
        hits.sort(key=lambda h: (-h.score, h.key))
        return hits[:limit] if limit else hits

    def _candidates(self, terms: list[Term]) -> set[int]:
        """The documents holding every term (a form of it as a token, or the word as typed in the text)."""
        candidates: set[int] | None = None
        for term in terms:
            holding = self._bm25.holding(term.alternatives())
            scope = range(len(self.documents)) if candidates is None else candidates - holding
            holding |= {doc for doc in scope if term.word in self._texts[doc]}
            candidates = holding if candidates is None else candidates & holding
            if not candidates:
                break
        return candidates or set()

    def _match(self, doc: int, terms: list[Term]) -> tuple[float, list[str]] | None:
        score, matched = 0.0, []
        for term in terms:
            found = self._bm25.best(doc, term.alternatives())
            if found is None:
                if term.word not in self._texts[doc]:
                    return None
                found = (0.0, [term.word])  # typed text found inside a longer word: a match, nothing to rank
            score += found[0]
            matched += found[1]
        return score, matched


def policy_document(policy) -> SearchDocument:
    """What is searched of a policy (a qinqing.rules.model.Policy): title, issuer, document, clauses."""
    parts = [policy.issuer, policy.document, policy.support_type, policy.mode]
    parts += [c.clause for c in policy.conditions]
    if policy.benefit is not None:
        parts.append(policy.benefit.clause)
    parts += list(policy.materials)
    return SearchDocument(key=policy.id, title=policy.title, body="\n".join(parts))
