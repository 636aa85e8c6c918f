"""Sparse term vectors: TF-IDF weights, unit length, cosine and overlap similarity (pure)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence, Set
from typing import Literal

Vector = dict[str, float]

# How rare a term must be to weigh: "smooth" is ln((1 + N) / (1 + df)) + 1, as if one more
# document held every term, so a term in all N still weighs 1 (articles compared as stories);
# "plain" is ln(1 + N / df), which leaves a term in all N near ln 2 (the sentences of one text).
IdfScheme = Literal["smooth", "plain"]


def document_frequencies(documents: Iterable[Collection[str]]) -> Counter[str]:
    """In how many of `documents` (collections of terms, or mappings of them) each term stands."""
    return Counter(term for document in documents for term in document)


def idf(documents: Sequence[Collection[str]], scheme: IdfScheme) -> dict[str, float]:
    """The inverse document frequency of every term of `documents`, by `scheme`."""
    count = len(documents)
    frequencies = document_frequencies(documents)
    if scheme == "smooth":
        return {t: math.log((1 + count) / (1 + df)) + 1.0 for t, df in frequencies.items()}
    return {t: math.log(1 + count / df) for t, df in frequencies.items()}


def unit(vector: Mapping[str, float]) -> Vector:
    """`vector` scaled to length 1 (an empty or zero vector stays as it is)."""
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {term: value / norm for term, value in vector.items()}


def weighted(frequencies: Mapping[str, float], weights: Mapping[str, float]) -> Vector:
    """Term frequencies times their idf `weights` (1 for a term without one), at unit length."""
    return unit({term: tf * weights.get(term, 1.0) for term, tf in frequencies.items()})


def tfidf(
    documents: Sequence[Mapping[str, float]], scheme: IdfScheme
) -> tuple[list[Vector], dict[str, float]]:
    """Unit TF-IDF vectors of `documents` (term -> frequency, weighted as the caller wants) and
    the idf they were weighed with, to weigh further vectors (a title) alike."""
    weights = idf(documents, scheme)
    return [weighted(document, weights) for document in documents], weights


def plus(first: Mapping[str, float], second: Mapping[str, float], factor: float = 1.0) -> Vector:
    """`first` + `factor` x `second`."""
    total = dict(first)
    for term, value in second.items():
        total[term] = total.get(term, 0.0) + factor * value
    return total


def cosine(first: Mapping[str, float], second: Mapping[str, float]) -> float:
    """The cosine of two unit vectors: their dot product."""
    if len(first) > len(second):
        first, second = second, first
    return sum(value * second.get(term, 0.0) for term, value in first.items())


def overlap(first: Set[str], second: Set[str]) -> float:
    """The overlap coefficient |A ∩ B| / min(|A|, |B|); 0 when either set is empty."""
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))
