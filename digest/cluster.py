"""Stories from articles: near-duplicates by MinHash LSH, TF-IDF cosine over candidate pairs."""

from __future__ import annotations

import functools
import heapq
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from datasketch import MinHash, MinHashLSH
from sumy.utils import get_stop_words

from digest import nlp
from digest.models import MARKER_TEASER_ONLY, Article
from digest.relevance import Lexicon, Topics, load_topics, stem

# Agency copies: word 3-shingles whose estimated Jaccard similarity reaches COPY_JACCARD.
SHINGLE_SIZE = 3
NUM_PERM = 64
COPY_JACCARD = 0.5
# Independent reports of one event: TF-IDF cosine over content stems (title words count twice).
SAME_EVENT_COSINE = 0.35
# Lower cosine still merges when the titles agree and rare details (names, numbers) are shared.
SUPPORTED_COSINE = 0.28
SUPPORTING_TITLE_COSINE = 0.15
SHARED_ANCHORS = 2
# Two stories merge only when their centroids are this alike (guards against chaining).
STORY_COSINE = 0.28
# A rare term occurs in at most this share of the articles (and at least in 3).
RARE_SHARE = 0.01
# Candidates for the cosine test: pairs sharing one of their strongest, not too common terms.
SIGNATURE_TERMS = 20
MIN_SHARED_SIGNATURE = 1
MAX_POSTING = 100
MAX_GAP = timedelta(hours=72)
# Second pass: stories with a short item (teaser) merge when their centroids reach
# ATTACH_COSINE; only pairs of articles at least ATTACH_FLOOR alike are looked at.
SHORT_WORDS = 60
ATTACH_COSINE = 0.22
ATTACH_FLOOR = 0.1

_NUMBER = re.compile(r"^\d")
# Compound splitting: words from MIN_COMPOUND letters, heads from MIN_HEAD letters.
MIN_COMPOUND = 8
MIN_HEAD = 4
PART_WEIGHT = 0.5
TOPIC_WEIGHT = 0.5
_SUFFIX_SEAM = re.compile(
    r"(?:(?<=ung)|(?<=heit)|(?<=keit)|(?<=schaft)|(?<=tät)|(?<=ion))s(?=[a-zäöüß]{3})"
)
_LINKING = re.compile(r"(?:es|s)$")


@dataclass(frozen=True, slots=True)
class Link:
    """Why two articles were put in one story: the method and the similarity it measured."""

    first: int
    second: int
    reason: str
    similarity: float


@dataclass(frozen=True, slots=True)
class Clustering:
    """Groups of article indices (each article in exactly one) and the links that made them."""

    groups: tuple[tuple[int, ...], ...]
    links: tuple[Link, ...]


@functools.cache
def _stop_stems(language: str) -> frozenset[str]:
    name = "english" if language == "en" else "german"
    return frozenset(stem(w, language) for w in get_stop_words(name))


def content_stems(text: str, language: str) -> list[str]:
    """Stems of the words that carry content: no stop words, nothing shorter than three letters."""
    stops = _stop_stems(language)
    stems = (stem(w, language) for w in nlp.words(text) if len(w) >= 3 or w.isdigit())
    return [s for s in stems if s not in stops]


def shingles(words: Sequence[str], size: int = SHINGLE_SIZE) -> set[bytes]:
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def compound_parts(word: str, known: frozenset[str] | set[str]) -> list[str]:
    """Parts of a German compound, lower-cased: "rettungsweg" -> ["rettung", "weg"].

    Two heuristics, no dictionary: a linking "s" after a noun suffix that always takes it
    (-ung, -heit, -keit, -schaft, -tät, -ion) marks a seam; and the longest tail of at least
    MIN_HEAD letters whose stem occurs as a word of its own in `known` (the stems of the day's
    words) is the head when the rest, with or without a linking "s"/"es", is such a word too."""
    word = word.lower()
    if len(word) < MIN_COMPOUND:
        return []
    pieces = [p for p in _SUFFIX_SEAM.split(word) if p]
    if len(pieces) > 1:
        return [p for piece in pieces for p in (compound_parts(piece, known) or [piece])]
    for start in range(MIN_HEAD, len(word) - MIN_HEAD + 1):
        head = word[start:]
        if _stem_de(head) not in known:
            continue
        modifier = word[:start]
        unlinked = _LINKING.sub("", modifier)
        for candidate in (modifier, unlinked):
            if len(candidate) >= MIN_HEAD and _stem_de(candidate) in known:
                return [candidate, head]
    return []


def _stem_de(word: str) -> str:
    return stem(word, "de")


def term_frequencies(
    text: str, language: str, known: frozenset[str], topics: Topics | None = None
) -> dict[str, float]:
    """Sublinear frequencies of content stems; for German, compound parts add PART_WEIGHT each
    (so "Rettungszufahrt" and "Rettungsweg" share "rettung" without outweighing whole words).

    Words of the topic lexicon count TOPIC_WEIGHT: they say what the briefing is about and are
    shared by different events of one topic (two attacks, two arrests); the rest (places,
    people, numbers, what happened) tells one event from another."""
    stops = _stop_stems(language)
    lexicon = topics.relevance.get(language) if topics is not None else None
    words: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    topical: set[str] = set()
    for word in nlp.words(text):
        if len(word) < 3 and not word.isdigit():
            continue
        word_stem = stem(word, language)
        if word_stem in stops:
            continue
        words[word_stem] += 1
        if lexicon is not None and _is_topic_word(lexicon, word):
            topical.add(word_stem)
        if language == "de" and len(word) >= MIN_COMPOUND:
            for part in compound_parts(word, known):
                part_stem = _stem_de(part)
                if part_stem != word_stem and part_stem not in stops:
                    parts[part_stem] += 1
    frequencies = {
        term: (1.0 + math.log(n)) * (TOPIC_WEIGHT if term in topical else 1.0)
        for term, n in words.items()
    }
    for term, n in parts.items():
        frequencies[term] = frequencies.get(term, 0.0) + PART_WEIGHT * n
    return frequencies


def _is_topic_word(lexicon: Lexicon, word: str) -> bool:
    term = lexicon.match_word(word)
    return term is not None and term.weight > 0


def _known_stems(articles: Sequence[Article]) -> frozenset[str]:
    """Stems of the words of the day at least MIN_HEAD letters long: candidate compound heads."""
    return frozenset(
        stem(w, a.language)
        for a in articles
        for w in nlp.words(f"{a.title} {a.text}")
        if len(w) >= MIN_HEAD and w.isalpha()
    )


def cluster(articles: Sequence[Article], topics: Topics | None = None) -> Clustering:
    """Merge agency copies and independent reports of the same event; never compare all pairs.

    `topics` (default: the packaged topics.toml) marks the topic words that weigh less."""
    topics = topics if topics is not None else load_topics()
    known = _known_stems(articles)
    texts = [term_frequencies(a.text, a.language, known) for a in articles]
    titles = [term_frequencies(a.title, a.language, known) for a in articles]
    vectors, idf = _tfidf(
        [_plus(text, title, 2.0) for text, title in zip(texts, titles, strict=True)]
    )
    # The second pass compares stories with topic words weighing less (see term_frequencies).
    event_vectors, _ = _tfidf(
        [
            _plus(
                term_frequencies(a.text, a.language, known, topics),
                term_frequencies(a.title, a.language, known, topics),
                2.0,
            )
            for a in articles
        ]
    )
    title_vectors = [_weighted(t, idf) for t in titles]
    rare_idf = _idf_of(max(3, int(RARE_SHARE * len(articles))), len(articles))
    parents = list(range(len(articles)))
    links: list[Link] = []

    # Each story's centroid (sum of its members' unit vectors): a link between two articles
    # merges their stories only when the stories as wholes are alike too. Without this check,
    # A~B and B~C chain unrelated A and C, and one busy topic swallows a whole day's news.
    centroids: dict[int, dict[str, float]] = {i: _unit(v) for i, v in enumerate(vectors)}
    event_centroids = {i: _unit(v) for i, v in enumerate(event_vectors)}

    def join(first: int, second: int, reason: str, similarity: float, *, checked: bool) -> None:
        root_a, root_b = _find(parents, first), _find(parents, second)
        if root_a == root_b:
            return
        if checked and _cosine(_unit(centroids[root_a]), _unit(centroids[root_b])) < STORY_COSINE:
            return
        keep, gone = min(root_a, root_b), max(root_a, root_b)
        parents[gone] = keep
        merged = centroids[keep]
        for term, weight in centroids.pop(gone).items():
            merged[term] = merged.get(term, 0.0) + weight
        merged = event_centroids[keep]
        for term, weight in event_centroids.pop(gone).items():
            merged[term] = merged.get(term, 0.0) + weight
        links.append(Link(first, second, reason, round(similarity, 3)))

    minhashes = _minhashes(articles)
    for first, second, jaccard in _copy_pairs(minhashes):
        if _close_in_time(articles[first], articles[second]):
            join(first, second, "Agenturkopie", jaccard, checked=False)
    pairs = [
        (first, second)
        for first, second in _candidate_pairs(vectors)
        if _close_in_time(articles[first], articles[second])
    ]
    for first, second in pairs:
        if _find(parents, first) == _find(parents, second):
            continue
        similarity = _cosine(vectors[first], vectors[second])
        if similarity >= SAME_EVENT_COSINE:
            join(first, second, "gleiches Ereignis", similarity, checked=True)
        elif similarity >= SUPPORTED_COSINE:
            title_similarity = _cosine(title_vectors[first], title_vectors[second])
            anchors = _shared_anchors(vectors[first], vectors[second], idf, rare_idf)
            if title_similarity >= SUPPORTING_TITLE_COSINE and anchors >= SHARED_ANCHORS:
                join(first, second, "gleiches Ereignis (Titel, Details)", similarity, checked=True)

    # Second pass, for short items: a teaser says too little for a pairwise test, but the
    # reports already joined into a story say together what the event is (terms many of
    # them share weigh most in the centroid). Stories with a short member are merged,
    # most alike first, while their centroids agree.
    short = [_is_short(article) for article in articles]

    def story_similarity(first: int, second: int) -> float:
        return _cosine(_unit(event_centroids[first]), _unit(event_centroids[second]))

    queue = [
        (-_cosine(event_vectors[first], event_vectors[second]), first, second)
        for first, second in pairs
        if short[first] or short[second]
    ]
    queue = [entry for entry in queue if -entry[0] >= ATTACH_FLOOR]
    heapq.heapify(queue)
    while queue:
        expected, first, second = heapq.heappop(queue)
        root_a, root_b = _find(parents, first), _find(parents, second)
        if root_a == root_b:
            continue
        similarity = story_similarity(root_a, root_b)
        if similarity < ATTACH_COSINE:
            continue
        if similarity < -expected - 1e-9:
            heapq.heappush(queue, (-similarity, first, second))
            continue
        join(first, second, "gleiche Story (Kernbegriffe)", similarity, checked=False)
    groups: dict[int, list[int]] = {}
    for index in range(len(articles)):
        groups.setdefault(_find(parents, index), []).append(index)
    return Clustering(groups=tuple(tuple(g) for g in groups.values()), links=tuple(links))


def _is_short(article: Article) -> bool:
    return MARKER_TEASER_ONLY in article.markers or len(nlp.words(article.text)) < SHORT_WORDS


def _find(parents: list[int], index: int) -> int:
    while parents[index] != index:
        parents[index] = parents[parents[index]]
        index = parents[index]
    return index


def _close_in_time(first: Article, second: Article) -> bool:
    return abs(first.published - second.published) <= MAX_GAP


def _minhashes(articles: Sequence[Article]) -> list[MinHash]:
    shingle_sets = [shingles(nlp.words(f"{a.title} {a.text}")) for a in articles]
    return list(MinHash.bulk([list(s) for s in shingle_sets], num_perm=NUM_PERM))


def _copy_pairs(minhashes: Sequence[MinHash]) -> list[tuple[int, int, float]]:
    lsh = MinHashLSH(threshold=COPY_JACCARD, num_perm=NUM_PERM)
    for index, minhash in enumerate(minhashes):
        lsh.insert(index, minhash, check_duplication=False)
    pairs = []
    for index, minhash in enumerate(minhashes):
        for other in lsh.query(minhash):
            if other > index:
                jaccard = minhash.jaccard(minhashes[other])
                if jaccard >= COPY_JACCARD:
                    pairs.append((index, other, jaccard))
    return pairs


def _idf_of(document_frequency: int, count: int) -> float:
    return math.log((1 + count) / (1 + document_frequency)) + 1.0


def _plus(first: dict[str, float], second: dict[str, float], factor: float) -> dict[str, float]:
    total = dict(first)
    for term, value in second.items():
        total[term] = total.get(term, 0.0) + factor * value
    return total


def _tfidf(
    documents: Sequence[dict[str, float]],
) -> tuple[list[dict[str, float]], dict[str, float]]:
    frequencies = Counter(term for document in documents for term in document)
    count = len(documents)
    idf = {term: _idf_of(df, count) for term, df in frequencies.items()}
    return [_weighted(document, idf) for document in documents], idf


def _weighted(frequencies: dict[str, float], idf: dict[str, float]) -> dict[str, float]:
    vector = {term: tf * idf.get(term, 1.0) for term, tf in frequencies.items()}
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {term: value / norm for term, value in vector.items()}


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {term: w / norm for term, w in vector.items()}


def _cosine(first: dict[str, float], second: dict[str, float]) -> float:
    if len(first) > len(second):
        first, second = second, first
    return sum(value * second.get(term, 0.0) for term, value in first.items())


def _candidate_pairs(vectors: Sequence[dict[str, float]]) -> list[tuple[int, int]]:
    """Pairs sharing a signature term (one of each article's strongest TF-IDF terms).

    Terms carried by more than MAX_POSTING articles are too common to point at one event."""
    postings: dict[str, list[int]] = {}
    for index, vector in enumerate(vectors):
        strongest = sorted(vector.items(), key=lambda item: -item[1])[:SIGNATURE_TERMS]
        for term, _ in strongest:
            postings.setdefault(term, []).append(index)
    shared: Counter[tuple[int, int]] = Counter()
    for documents in postings.values():
        if len(documents) < 2 or len(documents) > MAX_POSTING:
            continue
        for position, first in enumerate(documents):
            for second in documents[position + 1 :]:
                shared[(first, second)] += 1
    return sorted(pair for pair, n in shared.items() if n >= MIN_SHARED_SIGNATURE)


def _shared_anchors(
    first: dict[str, float], second: dict[str, float], idf: dict[str, float], rare: float
) -> int:
    """Shared numbers and rare terms (names, places): details that reports of one event share."""
    common = set(first) & set(second)
    return sum(1 for term in common if _NUMBER.match(term) or idf.get(term, 0.0) >= rare)
