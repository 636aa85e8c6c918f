"""Stories from articles: agency copies by MinHash LSH, other pairs by a fitted story model."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from datasketch import MinHash, MinHashLSH

from digest import nlp
from digest.linear import BinaryModel
from digest.models import Article
from digest.relevance import Lexicon, Topics
from digest.vectors import cosine, plus, tfidf, unit, weighted

# Agency copies: word 3-shingles whose estimated Jaccard similarity reaches COPY_JACCARD.
SHINGLE_SIZE = 3
NUM_PERM = 64
COPY_JACCARD = 0.5
# Candidate pairs: those sharing one of their strongest, not too common terms.
SIGNATURE_TERMS = 20
MAX_POSTING = 100
MAX_GAP = timedelta(hours=72)

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
    return frozenset(nlp.stem(w, language) for w in _eventless_words(language))


# Function words sumy's German list lacks. They say something of the topic ("Sanktionen gegen
# Russland"), so the relevance model reads them, but nothing of the event: "Prozess gegen einen
# Syrer" and "Sanktionen gegen Russland" share no more than "gegen".
_GERMAN_FUNCTION_WORDS = frozenset(
    "ab alle allem allen aller alles also andere anderen ans beim bereits damit dann darauf"
    " davon dazu deren denn diese diesem diesen ebenfalls einige einigen etwa etwas gegen"
    " gegenüber habe haben hat hätte ihm ihn ihnen ihrem ihren ihrer ins laut man mehr mich"
    " mir muss müsse neben nichts noch nur ob ohne schon sehr sei seien seinem seinen seiner"
    " seit selbst so solche statt trotz um uns viel viele vielen während war waren wegen weil"
    " welche welcher wurde wurden zudem zwischen".split()
)


@functools.cache
def _eventless_words(language: str) -> frozenset[str]:
    """Words that name no event: the function words (nlp.stop_words, and for German those
    its list lacks)."""
    words = nlp.stop_words(language)
    return words if language == "en" else words | _GERMAN_FUNCTION_WORDS


def content_stems(text: str, language: str) -> list[str]:
    """Stems of the words that carry content: no stop words, nothing shorter than three letters."""
    stops = _stop_stems(language)
    stems = (nlp.stem(w, language) for w in nlp.words(text) if len(w) >= 3 or w.isdigit())
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
        if nlp.stem(head) not in known:
            continue
        modifier = word[:start]
        unlinked = _LINKING.sub("", modifier)
        for candidate in (modifier, unlinked):
            if len(candidate) >= MIN_HEAD and nlp.stem(candidate) in known:
                return [candidate, head]
    return []


def term_frequencies(
    text: str,
    language: str,
    known: frozenset[str],
    topics: Topics | None = None,
    ignored: frozenset[str] = frozenset(),
) -> dict[str, float]:
    """Sublinear frequencies of content stems; for German, compound parts add PART_WEIGHT each
    (so "Rettungszufahrt" and "Rettungsweg" share "rettung" without outweighing whole words).

    Words of the topic lexicon count TOPIC_WEIGHT: they say what the briefing is about and are
    shared by different events of one topic (two attacks, two arrests); the rest (places,
    people, what happened) tells one event from another. Numbers, dates, weekday and month
    names and the words in `ignored` (the feed's boilerplate) never count: every report of a
    day shares them, whatever it is about."""
    stops = _stop_stems(language)
    lexicon = topics.relevance.get(language) if topics is not None else None
    words: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    topical: set[str] = set()
    for word in nlp.words(text):
        if len(word) < 3 or nlp.is_calendar_word(word) or word in ignored:
            continue
        word_stem = nlp.stem(word, language)
        if word_stem in stops:
            continue
        words[word_stem] += 1
        if lexicon is not None and _is_topic_word(lexicon, word):
            topical.add(word_stem)
        if language == "de" and len(word) >= MIN_COMPOUND:
            for part in compound_parts(word, known):
                part_stem = nlp.stem(part)
                if part_stem != word_stem and part_stem not in stops:
                    parts[part_stem] += 1
    frequencies = {
        term: (1.0 + math.log(n)) * (TOPIC_WEIGHT if term in topical else 1.0)
        for term, n in words.items()
    }
    for term, n in parts.items():
        frequencies[term] = frequencies.get(term, 0.0) + PART_WEIGHT * n
    return frequencies


_CAPITALISED = re.compile(r"\b[A-ZÄÖÜ][\w-]+")


def title_names(
    title: str,
    language: str,
    lexicon: Lexicon | None,
    ignored: frozenset[str] = frozenset(),
    lowercase: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """Stems of the title's capitalised words that are neither function, calendar nor topic
    words nor written small elsewhere (`lowercase`): the names, places and things of one event
    ("Magdeburg", "Weihnachtsmarkt"), not what all reports of a topic say ("Anschlag",
    "Russland")."""
    named = set()
    for match in _CAPITALISED.finditer(title):
        word = match.group().lower()
        if (
            len(word) < 3
            or word in _eventless_words(language)
            or word in ignored
            or word in lowercase
            or nlp.is_calendar_word(word)
            or (lexicon is not None and lexicon.match_word(word) is not None)
            or nlp.stem(word, language) in ignored
        ):
            continue
        named.add(nlp.stem(word, language))
    return frozenset(named)


def _is_topic_word(lexicon: Lexicon, word: str) -> bool:
    term = lexicon.match_word(word)
    return term is not None and term.weight > 0


def _known_stems(articles: Sequence[Article], headed: Sequence[str]) -> frozenset[str]:
    """Stems of the words of the day (`headed`: each article's title and lead) at least
    MIN_HEAD letters long: candidate compound heads."""
    return frozenset(
        nlp.stem(w, a.language)
        for a, text in zip(articles, headed, strict=True)
        for w in nlp.words(text)
        if len(w) >= MIN_HEAD and w.isalpha()
    )


def _lowercase_forms(headed: Sequence[str]) -> frozenset[str]:
    """The words the day's titles and leads write with a small initial somewhere, as written: a
    title's first word is capitalised whatever it is ("Mutmaßlicher Spion ..."), and such a
    word names no event. (Forms, not stems: "anschlagen" says nothing of "Anschlag".)"""
    return frozenset(w for text in headed for w in nlp.lowercase_words(text))


@dataclass(frozen=True, slots=True)
class Pairs:
    """The pairs of a batch worth comparing and what was measured of each (see pair_features)."""

    pairs: tuple[tuple[int, int], ...]
    features: tuple[dict[str, float], ...]
    copies: tuple[tuple[int, int, float], ...]  # agency copies: (first, second, Jaccard)
    vectors: tuple[dict[str, float], ...]  # each article's unit TF-IDF vector


def measure(
    articles: Sequence[Article],
    topics: Topics,
    *,
    title_only: frozenset[int] = frozenset(),
    common: frozenset[str] = frozenset(),
    boilerplate: Mapping[str, frozenset[str]] | None = None,
) -> Pairs:
    """Candidate pairs (sharing one of their strongest terms, at most MAX_GAP apart) and their
    features; never all pairs. An article is compared by its title and lead (nlp.lead), where
    reports of an event name it, so a full text and a teaser are measured alike; those in
    `title_only` (live blogs, tickers) by their titles alone. `topics` (the configured
    topic list) marks the topic words, which weigh half in the similarity; `common`
    (stems) are the everyday words of titles, which name no event; `boilerplate` is each
    feed's (feed_boilerplate), best read from all its items, not only from those measured."""
    leads = [nlp.lead(a.text) for a in articles]
    headed = [f"{a.title} {lead}" for a, lead in zip(articles, leads, strict=True)]
    known = _known_stems(articles, headed)
    by_feed = _boilerplate(articles, leads) if boilerplate is None else boilerplate
    ignored = [by_feed.get(a.source, frozenset()) for a in articles]
    bodies = ["" if i in title_only else lead for i, lead in enumerate(leads)]
    titles = [
        term_frequencies(a.title, a.language, known, topics, words)
        for a, words in zip(articles, ignored, strict=True)
    ]
    vectors, idf = tfidf(
        [
            plus(term_frequencies(body, a.language, known, topics, words), title, 2.0)
            for body, a, title, words in zip(bodies, articles, titles, ignored, strict=True)
        ],
        "smooth",
    )
    title_vectors = [weighted(t, idf) for t in titles]
    lexicon = topics.relevance.get("de")
    lowercase = _lowercase_forms(headed)
    names = [
        title_names(a.title, a.language, lexicon, words | common, lowercase)
        for a, words in zip(articles, ignored, strict=True)
    ]
    pairs = tuple(
        (first, second)
        for first, second in _candidate_pairs(vectors)
        if _close_in_time(articles[first], articles[second])
    )
    features = tuple(
        pair_features(
            vectors=(vectors[i], vectors[j]),
            titles=(title_vectors[i], title_vectors[j]),
            names=(names[i], names[j]),
            tickers=(i in title_only) + (j in title_only),
        )
        for i, j in pairs
    )
    copies = tuple(
        (i, j, jaccard)
        for i, j, jaccard in _copy_pairs(_minhashes(articles, bodies))
        if _close_in_time(articles[i], articles[j])
    )
    return Pairs(pairs=pairs, features=features, copies=copies, vectors=tuple(vectors))


PAIR_FEATURES = (
    "cosine",
    "title_cosine",
    "shared_title_names",
    "different_title_names",
    "tickers",
)


def pair_features(
    *,
    vectors: tuple[dict[str, float], dict[str, float]],
    titles: tuple[dict[str, float], dict[str, float]],
    names: tuple[frozenset[str], frozenset[str]],
    tickers: int,
) -> dict[str, float]:
    """What the story model reads of two articles: how alike their words (title and lead) and
    their titles are, how many title names (see title_names) they share or whether both name
    things and share none ("Odessa" and "Charkiw": two strikes of one night) and whether they
    are tickers. Time only decides which pairs are compared (at most MAX_GAP apart).
    Not whether one outlet wrote both: most feeds tell an event once, and a model that read it
    split one feed's reports of its big event (a phishing attack on Signal in three tagesschau
    reports)."""
    return {
        "cosine": cosine(*vectors),
        "title_cosine": cosine(*titles),
        "shared_title_names": math.log1p(len(names[0] & names[1])),
        "different_title_names": float(bool(names[0] and names[1] and not names[0] & names[1])),
        "tickers": float(tickers),
    }


def cluster(
    articles: Sequence[Article],
    story: BinaryModel,
    link: float,
    topics: Topics,
    *,
    title_only: frozenset[int] = frozenset(),
    common: frozenset[str] = frozenset(),
    boilerplate: Mapping[str, frozenset[str]] | None = None,
) -> Clustering:
    """Stories: agency copies always merge; other candidate pairs are scored by the fitted
    `story` model, and a pair at its threshold merges the two stories, most probable pair
    first, when the stories as wholes are alike too: the cosine of their centroids reaches
    `link`. Without that check A~B and B~C chain unrelated
    A and C, and one busy topic swallows a day's news; with it, a big event told from many
    angles (the terms many of its reports share weigh most in its centroid) still gathers
    its reports."""
    measured = measure(
        articles, topics, title_only=title_only, common=common, boilerplate=boilerplate
    )
    probability = {
        pair: story.probability(found)
        for pair, found in zip(measured.pairs, measured.features, strict=True)
    }
    return link_stories(measured, probability, story.threshold, link)


def link_stories(
    measured: Pairs,
    probability: dict[tuple[int, int], float],
    threshold: float,
    link: float,
) -> Clustering:
    """Grouping over scored pairs, checked on story centroids (see cluster)."""
    count = len(measured.vectors)
    parents = list(range(count))
    centroids = {i: dict(v) for i, v in enumerate(measured.vectors)}
    links: list[Link] = []

    def join(first: int, second: int) -> None:
        root_a, root_b = _find(parents, first), _find(parents, second)
        keep, gone = min(root_a, root_b), max(root_a, root_b)
        parents[gone] = keep
        merged = centroids[keep]
        for term, weight in centroids.pop(gone).items():
            merged[term] = merged.get(term, 0.0) + weight

    for first, second, jaccard in measured.copies:
        if _find(parents, first) != _find(parents, second):
            join(first, second)
            links.append(Link(first, second, "Agenturkopie", round(jaccard, 3)))
    ranked = sorted(
        ((p, pair) for pair, p in probability.items() if p >= threshold), key=lambda x: -x[0]
    )
    for p, (first, second) in ranked:
        root_a, root_b = _find(parents, first), _find(parents, second)
        if root_a == root_b:
            continue
        if cosine(unit(centroids[root_a]), unit(centroids[root_b])) >= link:
            join(first, second)
            links.append(Link(first, second, "gleiches Ereignis", round(p, 3)))
    groups: dict[int, list[int]] = {}
    for index in range(count):
        groups.setdefault(_find(parents, index), []).append(index)
    return Clustering(groups=tuple(tuple(g) for g in groups.values()), links=tuple(links))


def _find(parents: list[int], index: int) -> int:
    while parents[index] != index:
        parents[index] = parents[parents[index]]
        index = parents[index]
    return index


def _close_in_time(first: Article, second: Article) -> bool:
    return abs(first.published - second.published) <= MAX_GAP


def feed_boilerplate(articles: Sequence[Article]) -> dict[str, frozenset[str]]:
    """Per feed, the words most of its items' leads share (see nlp.boilerplate). Read it from
    all of a feed's items: among those of one topic, the name of the day's big event is in
    most leads too (14 of the 23 items of one feed on the day of the Magdeburg attack), and
    taken for boilerplate it would no longer tie the event's reports together."""
    return _boilerplate(articles, [nlp.lead(a.text) for a in articles])


def _boilerplate(articles: Sequence[Article], leads: Sequence[str]) -> dict[str, frozenset[str]]:
    by_source: dict[str, list[set[str]]] = {}
    for article, lead in zip(articles, leads, strict=True):
        by_source.setdefault(article.source, []).append(set(nlp.words(lead)))
    return {source: nlp.boilerplate(texts) for source, texts in by_source.items()}


def _minhashes(articles: Sequence[Article], bodies: Sequence[str]) -> list[MinHash]:
    shingle_sets = [
        shingles([w for w in nlp.words(f"{a.title} {body}") if not nlp.is_calendar_word(w)])
        for a, body in zip(articles, bodies, strict=True)
    ]
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
    return sorted(shared)
