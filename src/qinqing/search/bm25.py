"""Okapi BM25 over pre-tokenised documents, with query-side synonym expansion."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

K1 = 1.5
B = 0.75


class BM25Index:
    def __init__(self, documents: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> None:
        self.k1 = k1
        self.b = b
        self.term_counts = [Counter(doc) for doc in documents]
        self.lengths = [len(doc) for doc in documents]
        self.average_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        frequency: Counter[str] = Counter()
        for counts in self.term_counts:
            frequency.update(counts.keys())
        n = len(documents)
        # The "plus one" form of IDF never goes negative, so a term in most documents still counts a little.
        self.idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}

    def term_score(self, doc: int, term: str) -> float:
        tf = self.term_counts[doc].get(term, 0)
        if not tf:
            return 0.0
        norm = 1 - self.b + self.b * self.lengths[doc] / (self.average_length or 1)
        return self.idf[term] * tf * (self.k1 + 1) / (tf + self.k1 * norm)

    def scores(self, query: Sequence[str], expand: Callable[[str], frozenset[str]] | None = None,
               synonym_weight: float = 0.7) -> list[float]:
        """The score of every document; each query word counts by its best form (itself or a synonym)."""
        result = [0.0] * len(self.term_counts)
        for term in dict.fromkeys(query):
            alternatives = [(term, 1.0)] + [(s, synonym_weight) for s in (expand(term) if expand else ())]
            alternatives = [(t, w) for t, w in alternatives if t in self.idf]
            if not alternatives:
                continue
            for doc in range(len(result)):
                result[doc] += max(w * self.term_score(doc, t) for t, w in alternatives)
        return result
