"""Our key-point method: sentence features, a fitted linear model, the sumy summarizer using it."""

from __future__ import annotations

import functools
import math
import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sumy.models.dom import ObjectDocumentModel, Sentence
from sumy.summarizers._summarizer import AbstractSummarizer

from digest import nlp
from digest.errors import SummarizeError
from digest.summary_document import content_stems, load_language
from digest.summary_rules import DEFAULT_WORD_BUDGET, Budget, containment
from digest.vectors import Vector, cosine, tfidf

LEXRANK_THRESHOLD = 0.1  # tf-idf cosine above which two sentences are linked
LEXRANK_DAMPING = 0.85
LEXRANK_ROUNDS = 30

MODEL_FILE = Path(__file__).resolve().parent / "data" / "keypoints.toml"  # summ_fit --write

_ACRONYM = re.compile(r"\b[A-ZÄÖÜ]{2,}\b")
_DIGIT = re.compile(r"\d")

FEATURES = (
    "first",  # the first eligible sentence of its version
    "position",  # halves every two eligible sentences
    "relative_position",  # place among all sentences of the version, 0 to 1
    "paragraph_start",
    "centrality",  # LexRank among the eligible sentences, scaled to the best one
    "centroid",  # tf-idf cosine with the whole version, scaled to the best one
    "title",  # share of the title's content stems the sentence contains
    "title_parts",  # the same, a stem also counting inside a compound ("Hilfe", "Hilfspaket")
    "content_share",  # content words per word: dense sentences carry more facts
    "specificity",  # mean rarity (idf) of the content words within the version, scaled
    "number",  # contains a digit
    "acronym",  # contains an all-capitals word (NATO, EU, SPD)
    "quote",  # share of the sentence inside quotation marks
    "short",  # fewer than 10 words
    "length",  # words / 30, at most 2
    "long",  # words beyond 25, per 25
)


@dataclass(frozen=True, slots=True)
class Model:
    """A linear model over FEATURES with the selection settings fitted with it."""

    weights: tuple[float, ...]
    intercept: float
    near_duplicate: float  # tf-idf cosine from which a sentence repeats a chosen one
    min_odds: float  # a point beyond the second must score this share of the best one's odds
    replace_leaning: bool  # rank leaning sentences too, standing in their antecedents

    def __post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise SummarizeError(f"model has {len(self.weights)} weights for {len(FEATURES)}")

    def score(self, features: Sequence[float]) -> float:
        total = self.intercept
        for weight, value in zip(self.weights, features, strict=True):
            total += weight * value
        return total


def model_from_data(data: dict[str, Any]) -> Model:
    """A Model from the tables of keypoints.toml; the feature names must be ours, in order."""
    names = tuple(data["features"]["names"])
    if names != FEATURES:
        raise SummarizeError(f"the key-point model is for other features: {names}")
    selection = data["selection"]
    return Model(
        weights=tuple(float(w) for w in data["features"]["weights"]),
        intercept=float(data["features"]["intercept"]),
        near_duplicate=float(selection["near_duplicate"]),
        min_odds=float(selection["min_odds"]),
        replace_leaning=bool(selection["replace_leaning"]),
    )


@functools.cache
def shipped_model() -> Model:
    with MODEL_FILE.open("rb") as handle:
        return model_from_data(tomllib.load(handle))


def _tfidf(bags: Sequence[Counter[str]]) -> tuple[list[Vector], dict[str, float]]:
    """Log-scaled term frequency times inverse sentence frequency, at unit length."""
    return tfidf([{t: 1 + math.log(tf) for t, tf in bag.items()} for bag in bags], "plain")


def _mean_idf(bag: Counter[str], idf: dict[str, float]) -> float:
    return sum(idf[t] for t in bag) / len(bag) if bag else 0.0


def _parts_found(parts: Sequence[str], words: Sequence[str]) -> float:
    """Share of `parts` (title stems) found inside some word of the sentence."""
    if not parts:
        return 0.0
    return sum(1 for part in parts if any(part in word for word in words)) / len(parts)


def _lexrank(vectors: Sequence[dict[str, float]]) -> list[float]:
    """LexRank with a damping factor; sums run in list order, so every process agrees."""
    count = len(vectors)
    postings: dict[str, list[tuple[int, float]]] = {}
    for i, vector in enumerate(vectors):
        for term, value in vector.items():
            postings.setdefault(term, []).append((i, value))
    links = []
    for i, vector in enumerate(vectors):
        dots: dict[int, float] = {}
        for term, value in vector.items():
            for j, other in postings[term]:
                dots[j] = dots.get(j, 0.0) + value * other
        links.append(sorted(j for j, dot in dots.items() if j != i and dot > LEXRANK_THRESHOLD))
    rank = [1.0 / count] * count
    for _ in range(LEXRANK_ROUNDS):
        spread = sum(rank[i] for i in range(count) if not links[i]) / count
        new = [(1 - LEXRANK_DAMPING) / count + LEXRANK_DAMPING * spread] * count
        for i in range(count):
            for j in links[i]:
                new[j] += LEXRANK_DAMPING * rank[i] / len(links[i])
        rank = new
    return rank


def _scaled(values: Sequence[float]) -> list[float]:
    top = max(values, default=0.0)
    return [v / top if top > 0 else 0.0 for v in values]


def _quoted_share(sentence: str) -> float:
    quoted = sum(len(q) for q in nlp.quotations(sentence))
    return quoted / max(len(sentence), 1)


@dataclass(frozen=True, slots=True)
class Scored:
    """The candidate sentences of a document with their features and tf-idf vectors."""

    indices: tuple[int, ...]
    features: tuple[tuple[float, ...], ...]
    vectors: dict[int, dict[str, float]]


def sentence_features(budget: Budget) -> Scored:
    """FEATURES of every candidate sentence, each version of the document scored on its own."""
    layout = budget.layout
    candidate_set = set(budget.candidates)
    indices: list[int] = []
    rows: list[tuple[float, ...]] = []
    vectors: dict[int, dict[str, float]] = {}
    for version, title in enumerate(layout.titles):
        members = [i for i, v in enumerate(layout.version) if v == version]
        candidates = [i for i in members if i in candidate_set]
        if not candidates:
            continue
        version_vectors, idf = _tfidf([budget.bags[i] for i in members])
        vector_of = dict(zip(members, version_vectors, strict=True))
        centroid_vector: dict[str, float] = {}
        for vector in version_vectors:
            for term, value in vector.items():
                centroid_vector[term] = centroid_vector.get(term, 0.0) + value
        centrality = _scaled(_lexrank([vector_of[i] for i in candidates]))
        to_centroid = _scaled([cosine(vector_of[i], centroid_vector) for i in candidates])
        title_bag = content_stems(nlp.words(title), budget.language)
        title_parts = [t for t in title_bag if len(t) >= 4]
        specificity = _scaled([_mean_idf(budget.bags[i], idf) for i in candidates])
        span = max(1, len(members) - 1)
        for ordinal, i in enumerate(candidates):
            text = str(layout.sentences[i])
            words = budget.word_counts[i]
            sentence_words = layout.sentences[i].words
            rows.append(
                (
                    1.0 if ordinal == 0 else 0.0,
                    0.5 ** (ordinal / 2),
                    (i - members[0]) / span,
                    1.0 if layout.paragraph_start[i] else 0.0,
                    centrality[ordinal],
                    to_centroid[ordinal],
                    containment(title_bag, budget.bags[i]) if title_bag else 0.0,
                    _parts_found(title_parts, sentence_words),
                    sum(budget.bags[i].values()) / max(1, words),
                    specificity[ordinal],
                    1.0 if _DIGIT.search(text) else 0.0,
                    1.0 if _ACRONYM.search(text) else 0.0,
                    _quoted_share(text),
                    1.0 if words < 10 else 0.0,
                    min(words / 30, 2.0),
                    max(0, words - 25) / 25,
                )
            )
            indices.append(i)
            vectors[i] = vector_of[i]
    return Scored(tuple(indices), tuple(rows), vectors)


class KeyPointSummarizer(AbstractSummarizer):
    """Our sumy summarizer: a fitted linear score of each sentence, then the Budget's rules with
    near-duplicates passed over and no further point much weaker than the best one."""

    def __init__(self, language: str = "de", *, model: Model | None = None) -> None:
        self._language = load_language(language)
        super().__init__(self._language.stem)
        self.model = model or shipped_model()

    def __call__(self, document: ObjectDocumentModel, sentences_count: Any) -> tuple[Sentence, ...]:
        budget = (
            sentences_count
            if isinstance(sentences_count, Budget)
            else Budget(
                document,
                points=int(sentences_count),
                words=DEFAULT_WORD_BUDGET,
                language=self._language.code,
            )
        )
        return tuple(budget.layout.sentences[i] for i in self.choose(budget))

    def choose(self, budget: Budget, scored: Scored | None = None) -> list[int]:
        """Indices of the chosen sentences, in document order."""
        scored = scored or sentence_features(budget)
        score = {
            i: self.model.score(f)
            for i, f in zip(scored.indices, scored.features, strict=True)
            if self.model.replace_leaning or i in budget.eligible
        }
        ranked = sorted(score, key=lambda i: (-score[i], i))
        vectors = scored.vectors
        near = self.model.near_duplicate

        def similar(i: int, chosen: Sequence[int]) -> bool:
            return any(cosine(vectors[i], vectors[j]) >= near for j in chosen)

        top = score[ranked[0]] if ranked else 0.0

        def enough(i: int, chosen: Sequence[int]) -> bool:
            return math.exp(score[i] - top) < self.model.min_odds

        return budget.pick(ranked, similar=similar, enough=enough)
