"""Okapi BM25 over pre-tokenised documents; a query is a list of terms, each with weighted alternatives."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

K1 = 1.5
B = 0.75

Alternatives = Sequence[tuple[str, float]]  # a term's forms: itself at 1.0, its synonyms at a lower weight


class BM25Index:
    def __init__(self, documents: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> None:
        self.k1 = k1
        self.b = b
        self.term_counts = [Counter(doc) for doc in documents]
        self.lengths = [len(doc) for doc in documents]
        self.average_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        frequency: Counter[str] = Counter()
        self.postings: dict[str, list[int]] = {}  # token → the documents holding it, in order
        for doc, counts in enumerate(self.term_counts):
            frequency.update(counts.keys())
            for token in counts:
                self.postings.setdefault(token, []).append(doc)
        n = len(documents)
        # The "plus one" form of IDF never goes negative, so a term in most documents still counts a little.
        self.idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}

    def term_score(self, doc: int, term: str) -> float:
        tf = self.term_counts[doc].get(term, 0)
        if not tf:
            return 0.0
        norm = 1 - self.b + self.b * self.lengths[doc] / (self.average_length or 1)
        return self.idf[term] * tf * (self.k1 + 1) / (tf + self.k1 * norm)

    def best(self, doc: int, alternatives: Alternatives) -> tuple[float, list[str]] | None:
        """The term's score in ``doc`` (its best form, weighted) and every form ``doc`` has; None if it has none."""
        present = [(t, w) for t, w in alternatives if t in self.term_counts[doc]]
        if not present:
            return None
        return max(w * self.term_score(doc, t) for t, w in present), [t for t, _ in present]

    def holding(self, alternatives: Alternatives) -> set[int]:
        """The documents that hold at least one form of a term."""
        found: set[int] = set()
        for token, _ in alternatives:
            found.update(self.postings.get(token, ()))
        return found

    def match_scores(self, terms: Sequence[Alternatives]) -> list[float | None]:
        """Each document's score for a query whose terms must all be present (AND): the sum of the terms'
        best forms; None for a document that lacks a term (every form of it)."""
        result: list[float | None] = []
        for doc in range(len(self.term_counts)):
            total: float | None = 0.0 if terms else None
            for alternatives in terms:
                found = self.best(doc, alternatives)
                if found is None:
                    total = None
                    break
                total += found[0]
            result.append(total)
        return result
