"""ROUGE-1, ROUGE-2 and ROUGE-L F1 for German text, our own scorer for the benchmarks."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from nltk.stem.snowball import SnowballStemmer

_TOKEN = re.compile(r"\w+", re.UNICODE)


@functools.cache
def _german_stemmer() -> SnowballStemmer:
    return SnowballStemmer("german")


def rouge_tokens(text: str, *, stem: bool) -> list[str]:
    """Lower-cased word tokens with umlauts and ß kept; German Snowball stems when `stem`."""
    tokens = [token.lower() for token in _TOKEN.findall(text)]
    if stem:
        stemmer = _german_stemmer()
        return [stemmer.stem(token) for token in tokens]
    return tokens


@dataclass(frozen=True, slots=True)
class RougeScores:
    """F1 of ROUGE-1, ROUGE-2 and ROUGE-L, each between 0 and 1."""

    rouge1: float
    rouge2: float
    rougeL: float


def _f1(overlap: float, candidate_total: int, reference_total: int) -> float:
    if overlap == 0 or candidate_total == 0 or reference_total == 0:
        return 0.0
    precision = overlap / candidate_total
    recall = overlap / reference_total
    return 2 * precision * recall / (precision + recall)


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n_f1(candidate: Sequence[str], reference: Sequence[str], n: int) -> float:
    """F1 of clipped n-gram overlap between two token sequences."""
    cand, ref = _ngrams(candidate, n), _ngrams(reference, n)
    overlap = sum((cand & ref).values())
    return _f1(overlap, sum(cand.values()), sum(ref.values()))


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (one row of the dynamic programme kept)."""
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for token_a in a:
        current = [0]
        for j, token_b in enumerate(b, start=1):
            if token_a == token_b:
                current.append(previous[j - 1] + 1)
            else:
                current.append(max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l_f1(candidate: Sequence[str], reference: Sequence[str]) -> float:
    """F1 of the longest common subsequence over the whole token sequences."""
    return _f1(lcs_length(candidate, reference), len(candidate), len(reference))


def score(candidate: str, reference: str, *, stem: bool) -> RougeScores:
    """ROUGE-1/2/L F1 of a candidate summary against one reference summary."""
    cand = rouge_tokens(candidate, stem=stem)
    ref = rouge_tokens(reference, stem=stem)
    return RougeScores(rouge_n_f1(cand, ref, 1), rouge_n_f1(cand, ref, 2), rouge_l_f1(cand, ref))


def greedy_oracle(sentences: Sequence[str], reference: str) -> list[int]:
    """Indices of the sentences whose summary best matches `reference`, chosen greedily.

    Adds the sentence that most raises stemmed ROUGE-1 + ROUGE-2 F1 while one does: the ceiling
    an extractive summary can reach, and the labels our key-point model is fitted to.
    """
    ref = rouge_tokens(reference, stem=True)
    ref1, ref2 = _ngrams(ref, 1), _ngrams(ref, 2)
    tokens = [rouge_tokens(s, stem=True) for s in sentences]
    chosen: list[int] = []
    best = 0.0
    while True:
        found: tuple[float, int] | None = None
        for i in range(len(sentences)):
            if i in chosen:
                continue
            summary = [t for j in sorted([*chosen, i]) for t in tokens[j]]
            cand1, cand2 = _ngrams(summary, 1), _ngrams(summary, 2)
            value = _f1(
                sum((cand1 & ref1).values()), sum(cand1.values()), sum(ref1.values())
            ) + _f1(sum((cand2 & ref2).values()), sum(cand2.values()), sum(ref2.values()))
            if found is None or value > found[0]:
                found = (value, i)
        if found is None or found[0] <= best:
            break
        best = found[0]
        chosen.append(found[1])
    return sorted(chosen)
