"""Text of appeals: jieba tokens (``qinqing.search.tokenize``), TF-IDF vectors, cosine similarity for the
duplicate suggestion, and a small multinomial logistic regression that suggests a category for
unclassified text. Everything runs offline on the platform's own items; nothing is downloaded.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qinqing.search import tokenize

MAX_VOCABULARY = 5000


class TfIdf:
    """Smoothed IDF (``log((1+n)/(1+df)) + 1``) over a corpus of token lists; vectors are L2-normalised."""

    def __init__(self, documents: Sequence[Sequence[str]], max_vocabulary: int = MAX_VOCABULARY) -> None:
        frequency: Counter[str] = Counter()
        for doc in documents:
            frequency.update(set(doc))
        kept = sorted(frequency, key=lambda t: (-frequency[t], t))[:max_vocabulary]
        self.vocabulary = {term: i for i, term in enumerate(sorted(kept))}
        n = len(documents)
        self.idf = np.ones(len(self.vocabulary), dtype=np.float64)
        for term, i in self.vocabulary.items():
            self.idf[i] = math.log((1 + n) / (1 + frequency[term])) + 1

    def sparse(self, tokens: Sequence[str]) -> dict[int, float]:
        counts = Counter(t for t in tokens if t in self.vocabulary)
        weights = {self.vocabulary[t]: c * self.idf[self.vocabulary[t]] for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {i: w / norm for i, w in weights.items()}

    def dense(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        matrix = np.zeros((len(documents), len(self.vocabulary)), dtype=np.float64)
        for row, doc in enumerate(documents):
            for i, w in self.sparse(doc).items():
                matrix[row, i] = w
        return matrix


def cosine(a: dict[int, float], b: dict[int, float]) -> float:
    """Cosine of two normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return float(sum(w * b.get(i, 0.0) for i, w in a.items()))


def appeal_tokens(title: str, description: str) -> list[str]:
    return tokenize(title) * 2 + tokenize(description)


# --- the dispatch classifier ------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    category: str
    confidence: float  # the model's probability for it
    ranked: tuple[tuple[str, float], ...]  # every category, best first


class Classifier:
    """jieba + TF-IDF + multinomial logistic regression (softmax, L2), trained by full-batch gradient descent.

    Small on purpose: a county's or a city's own dispatched items (hundreds to a few thousand) train it in a
    second; it is retrained as items are dispatched and 改派 corrects their category."""

    def __init__(self, vectoriser: TfIdf, classes: list[str], weights: np.ndarray, bias: np.ndarray,
                 trained_on: int) -> None:
        self.vectoriser = vectoriser
        self.classes = classes
        self.weights = weights
        self.bias = bias
        self.trained_on = trained_on

    @classmethod
    def train(cls, token_lists: Sequence[Sequence[str]], labels: Sequence[str], *, l2: float = 1e-3,
              iterations: int = 300, learning_rate: float = 2.0) -> Classifier:
        if len(token_lists) != len(labels) or not labels:
            raise ValueError("one label per document, at least one document")
        vectoriser = TfIdf(token_lists)
        x = vectoriser.dense(token_lists)
        classes = sorted(set(labels))
        index = {c: i for i, c in enumerate(classes)}
        y = np.zeros((len(labels), len(classes)))
        y[np.arange(len(labels)), [index[label] for label in labels]] = 1.0
        weights = np.zeros((x.shape[1], len(classes)))
        bias = np.zeros(len(classes))
        n = len(labels)
        for _ in range(iterations):
            p = _softmax(x @ weights + bias)
            gradient = p - y
            weights -= learning_rate * (x.T @ gradient / n + l2 * weights)
            bias -= learning_rate * gradient.mean(axis=0)
        return cls(vectoriser, classes, weights, bias, n)

    def suggest(self, tokens: Sequence[str]) -> Suggestion:
        x = self.vectoriser.dense([tokens])
        p = _softmax(x @ self.weights + self.bias)[0]
        order = np.argsort(-p)
        ranked = tuple((self.classes[i], float(p[i])) for i in order)
        return Suggestion(ranked[0][0], ranked[0][1], ranked)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def held_apart_accuracy(token_lists: Sequence[Sequence[str]], labels: Sequence[str], *, every: int = 5,
                        groups: Sequence[str] | None = None) -> dict:
    """Train on all but every ``every``-th item and score on those held apart (deterministic split).

    With ``groups`` (e.g. the wording an item was written from), whole groups are held apart, so that no
    held-apart item shares its wording with a training item: the harder, more honest figure."""
    if groups is None:
        keys = list(range(len(labels)))
    else:
        order = {g: i for i, g in enumerate(dict.fromkeys(groups))}
        keys = [order[g] for g in groups]
    train = [i for i in range(len(labels)) if keys[i] % every]
    test = [i for i in range(len(labels)) if not keys[i] % every]
    if not train or not test:
        return {"train": len(train), "test": len(test), "accuracy": None}
    model = Classifier.train([token_lists[i] for i in train], [labels[i] for i in train])
    hits = sum(model.suggest(token_lists[i]).category == labels[i] for i in test)
    return {"train": len(train), "test": len(test), "accuracy": hits / len(test)}
