"""Article or story -> key points: whole sentences chosen by a sumy summarizer (ours by default).

Every method, ours and sumy's stock ones, gets the same sumy document built from our German
sentence splitter, tokenizer and stemmer, and the same `Budget` as its sentence count: sumy's
summarizers accept a callable count, which here keeps the points whole, self-contained sentences
within a word limit. Ours (`KeyPointSummarizer`) scores sentences with a linear model fitted on
labelled articles (digest/data/keypoints.toml, written by benchmarks/summ_fit.py).
"""

from __future__ import annotations

import functools
import importlib
import math
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import punkt
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.summarizers._summarizer import AbstractSummarizer, SentenceInfo
from sumy.utils import get_stop_words

from digest import nlp
from digest.errors import SummarizeError

DEFAULT_METHOD = "keypoints"
# sumy's own methods by name: module and class, imported on first use (some need numpy).
STOCK_METHODS = {
    "lexrank": ("sumy.summarizers.lex_rank", "LexRankSummarizer"),
    "textrank": ("sumy.summarizers.text_rank", "TextRankSummarizer"),
    "lsa": ("sumy.summarizers.lsa", "LsaSummarizer"),
    "luhn": ("sumy.summarizers.luhn", "LuhnSummarizer"),
    "edmundson": ("sumy.summarizers.edmundson", "EdmundsonSummarizer"),
    "sumbasic": ("sumy.summarizers.sum_basic", "SumBasicSummarizer"),
    "kl": ("sumy.summarizers.kl", "KLSummarizer"),
    "reduction": ("sumy.summarizers.reduction", "ReductionSummarizer"),
}
METHODS = (DEFAULT_METHOD, *STOCK_METHODS)

# A ceiling on quoting other people's text, not a length to fill for its own sake; see the
# README's key-points table for what other limits give.
DEFAULT_WORD_BUDGET = 60
DEFAULT_MAX_POINTS = 4
MIN_POINTS = 2  # the design card's 2-4 key points: one only when one sentence is eligible
MAX_SENTENCES = 200  # sentences read per text: key points come from the first ones
MAX_VERSIONS = 6  # versions of one story read for its key points, lead first
ANTECEDENT_STEPS = 2  # how far back a leaning sentence is traced to one that stands alone

# Sentence cleaning: what is not a key point even when it scores well.
MIN_SENTENCE_WORDS = 6
DUPLICATE_CONTAINMENT = 0.8  # a sentence mostly contained in an earlier one is a repeat
TITLE_CONTAINMENT = 0.7  # a sentence mostly made of the title's words repeats the title
LEXRANK_THRESHOLD = 0.1  # tf-idf cosine above which two sentences are linked
LEXRANK_DAMPING = 0.85
LEXRANK_ROUNDS = 30

MODEL_FILE = Path(__file__).resolve().parent / "data" / "keypoints.toml"

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_TERMINAL = re.compile(r"[.!…:;]['\"“”„«»‚‘’)\]]*\s*$|['\"“”«»’)]\s*$")
_ACRONYM = re.compile(r"\b[A-ZÄÖÜ]{2,}\b")
_DIGIT = re.compile(r"\d")
_CREDIT = re.compile(
    r"(?:^|\W)(?:foto|fotos|bild|bilder|grafik|quelle|video|audio|illustration|"
    r"photo|image|credit|source)\s*:|©|\(c\)\s|copyright",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^\s*(?:von|by|text|autor|autorin|aus)\s*:?\s+[A-ZÄÖÜ][\w.-]*(?:\s+[A-ZÄÖÜ][\w.-]*){0,3}\s*$"
)
_AGENCY_TAG = re.compile(
    r"^[\s(\[]*(?:dpa|afp|ap|reuters|rtr|kna|epd|apa|sda|dts|ots|ddp|sid|afx)"
    r"(?:\s*[/,]\s*[a-z]+)*[)\]\s.]*$",
    re.IGNORECASE,
)
_READER_CALL = re.compile(
    r"^\s*(?:lesen|hören|sehen|schauen|klicken|abonnieren|folgen|melden|registrieren|laden|"
    r"mehr zum thema|mehr dazu|auch interessant|anzeige|"
    r"read more|click|subscribe|sign up|follow us)\b",
    re.IGNORECASE,
)
# Page furniture that extraction lets through: consent notices, embeds, subscriptions.
_FURNITURE = re.compile(
    r"\b(?:klicken|klick|anklicken|cookies?|javascript|newsletter|datenschutzerklärung|"
    r"drittanbieter\w*|externe[nr]? inhalte?|nachgeladen|abonnieren|abonnement|"
    r"click|subscribe|newsletter)\b",
    re.IGNORECASE,
)
_SUMY_LANGUAGE = {"de": "german", "en": "english"}


@dataclass(frozen=True, slots=True)
class _Language:
    """Everything language-specific, built once per process: splitter, stop words, stems."""

    code: str
    name: str
    stop_words: frozenset[str]
    split_sentences: Callable[[str], list[str]]
    stem: Callable[[str], str]


class _WordTokenizer:
    """The tokenizer object sumy's Sentence asks for: only `to_words` is needed."""

    def to_words(self, text: str) -> tuple[str, ...]:
        return tuple(nlp.words(text))


_TOKENIZER = _WordTokenizer()


@functools.cache
def _english_splitter() -> punkt.PunktSentenceTokenizer:
    return punkt.PunktSentenceTokenizer(punkt.load_model("english"))


def _split_english(text: str) -> list[str]:
    return [text[start:end] for start, end in _english_splitter().span_tokenize(text)]


@functools.cache
def _language(code: str) -> _Language:
    if code not in _SUMY_LANGUAGE:
        raise SummarizeError(
            f"no summarizer for language {code!r}; supported: {sorted(_SUMY_LANGUAGE)}"
        )
    name = _SUMY_LANGUAGE[code]
    stem = functools.lru_cache(maxsize=200_000)(nlp.stemmer(name).stem)
    splitter = nlp.split_sentences if code == "de" else _split_english
    return _Language(code, name, frozenset(get_stop_words(name)), splitter, stem)


# --- sumy's document, built from our own sentences ----------------------------------------------


def _paragraphs(text: str, language: _Language, room: int) -> list[list[Sentence]]:
    """Sentences grouped by paragraph (blank-line separated), at most `room` of them."""
    paragraphs = []
    for block in _PARAGRAPH_BREAK.split(text):
        if room <= 0:
            break
        sentences = [s.strip() for s in language.split_sentences(block)]
        kept = [Sentence(s, _TOKENIZER) for s in sentences if s][:room]
        if kept:
            paragraphs.append(kept)
            room -= len(kept)
    return paragraphs


def build_document(
    versions: Sequence[tuple[str | None, str]], *, language: str = "de"
) -> ObjectDocumentModel:
    """A sumy document of one or more versions of a story, each given as (title, text).

    Each version's first paragraph opens with a heading (its title, empty when it has none), so
    headings mark where a version begins; a version without sentences is left out.
    """
    lang = _language(language)
    paragraphs: list[Paragraph] = []
    for title, text in versions:
        found = _paragraphs(text or "", lang, MAX_SENTENCES)
        if not found:
            continue
        heading = Sentence(title or "", _TOKENIZER, is_heading=True)
        found[0].insert(0, heading)
        paragraphs.extend(Paragraph(sentences) for sentences in found)
    return ObjectDocumentModel(paragraphs)


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each sentence of a document stands: its version, paragraph start, the titles."""

    sentences: tuple[Sentence, ...]
    version: tuple[int, ...]
    paragraph_start: tuple[bool, ...]
    titles: tuple[str, ...]


def _layout(document: ObjectDocumentModel) -> _Layout:
    version: list[int] = []
    starts: list[bool] = []
    titles: list[str] = []
    for paragraph in document.paragraphs:
        if paragraph.headings or not titles:
            titles.append(" ".join(str(h) for h in paragraph.headings))
        for number, _ in enumerate(paragraph.sentences):
            version.append(len(titles) - 1)
            starts.append(number == 0)
    return _Layout(tuple(document.sentences), tuple(version), tuple(starts), tuple(titles))


# --- what may be a key point --------------------------------------------------------------------


def is_clean_sentence(sentence: str) -> bool:
    """False for fragments, bylines, agency tags, captions, reader calls, page furniture,
    questions, exclamations, quotes without their speaker and sentences leaning on the one
    before them."""
    stripped = sentence.strip()
    return not (
        nlp.word_count(stripped) < MIN_SENTENCE_WORDS
        or stripped.endswith(("?", "!"))
        or not _TERMINAL.search(stripped)
        or _CREDIT.search(stripped)
        or _BYLINE.match(stripped)
        or _AGENCY_TAG.match(stripped)
        or _READER_CALL.match(stripped)
        or _FURNITURE.search(stripped)
        or not nlp.quote_has_speaker(stripped)
        or nlp.opens_with_back_reference(stripped)
    )


def _content_stems(words: Iterable[str], language: _Language) -> Counter[str]:
    return Counter(
        language.stem(w) for w in words if w not in language.stop_words and not w.isdigit()
    )


def _containment(inner: Counter[str], outer: Counter[str]) -> float:
    if not inner:
        return 1.0
    return sum((inner & outer).values()) / sum(inner.values())


def _set_containment(inner: frozenset[str], outer: frozenset[str]) -> float:
    if not inner:
        return 1.0
    return len(inner & outer) / len(inner)


class Budget:
    """sumy's sentence count for one document: at most `points` whole sentences, `words` words.

    sumy's summarizers call it with their sentences best-rated first and keep what it returns.
    A sentence that is not clean, repeats the title or an earlier sentence is passed over; one
    that leans on the sentence before it ("Er ...", "Dabei ...") is replaced by the nearest
    sentence before it that stands alone. A document with two eligible sentences or more gets
    at least two points (when `points` allows): within the word limit when some pair fits it,
    else the two shortest eligible sentences, whole, even beyond it.
    When nothing is eligible at all (a one-liner, a list of fragments), the first sentence that
    fits stands in; when no sentence fits the word limit, the shortest one does, whole.
    """

    def __init__(
        self, document: ObjectDocumentModel, *, points: int, words: int, language: str = "de"
    ) -> None:
        if points < 1 or words < 1:
            raise SummarizeError("key points need a limit of at least one point and one word")
        self.points = points
        self.least = min(MIN_POINTS, points)
        self.words = words
        self.language = _language(language)
        self.layout = _layout(document)
        sentences = [str(s) for s in self.layout.sentences]
        self.word_counts = [nlp.word_count(s) for s in sentences]
        self.bags = [_content_stems(s.words, self.language) for s in self.layout.sentences]
        stems = [frozenset(bag) for bag in self.bags]
        titles = [_content_stems(nlp.words(t), self.language) for t in self.layout.titles]
        eligible: list[int] = []
        leaning: list[bool] = []
        for i, sentence in enumerate(sentences):
            leaning.append(nlp.opens_with_back_reference(sentence))
            title = titles[self.layout.version[i]]
            if not is_clean_sentence(sentence):
                continue
            if title and _containment(self.bags[i], title) >= TITLE_CONTAINMENT:
                continue
            if any(_set_containment(stems[i], stems[j]) >= DUPLICATE_CONTAINMENT for j in eligible):
                continue
            eligible.append(i)
        self.eligible = frozenset(eligible)
        self.leaning = tuple(leaning)
        # Sentences that may be ranked: the eligible ones and those leaning on one of them.
        self.candidates = tuple(i for i in range(len(sentences)) if self.stand_in(i) is not None)

    def stand_in(self, index: int) -> int | None:
        """The sentence that can be a key point in place of `index`, if any."""
        if index in self.eligible:
            return index
        if not self.leaning[index]:
            return None
        version = self.layout.version[index]
        for back in range(index - 1, max(-1, index - 1 - ANTECEDENT_STEPS), -1):
            if self.layout.version[back] != version:
                return None
            if back in self.eligible:
                return back
            if not self.leaning[back]:
                return None
        return None

    def pick(
        self,
        ranked: Iterable[int],
        *,
        similar: Callable[[int, Sequence[int]], bool] | None = None,
        enough: Callable[[int, Sequence[int]], bool] | None = None,
    ) -> list[int]:
        """Indices (in document order) chosen from `ranked`, best first, within the limits.

        `similar(i, chosen)` passes over a sentence saying what the chosen ones say;
        `enough(i, chosen)` stops adding points before the limits are reached, once there are
        at least `least` of them.
        """
        ranked = list(ranked)
        chosen: list[int] = []
        used = 0
        for index in ranked:
            if len(chosen) >= self.points:
                break
            target = self.stand_in(index)
            if target is None or target in chosen:
                continue
            if used + self.word_counts[target] > self.words:
                continue
            if similar is not None and chosen and similar(target, chosen):
                continue
            if enough is not None and len(chosen) >= self.least and enough(index, chosen):
                break
            chosen.append(target)
            used += self.word_counts[target]
        if len(chosen) < self.least and len(self.eligible) >= self.least:
            chosen = self._pair(chosen, ranked)
        if not chosen and self.word_counts:
            chosen = [self._fallback()]
        return sorted(chosen)

    def _pair(self, chosen: list[int], ranked: Sequence[int]) -> list[int]:
        """Two eligible sentences: the chosen one with its best-ranked partner within the word
        limit, else the best-ranked pair within it, else (no pair fits) the two shortest."""
        order = list(dict.fromkeys(t for t in map(self.stand_in, ranked) if t is not None))
        order += sorted(self.eligible - set(order))
        shortest = sorted(order, key=lambda i: (self.word_counts[i], i))[:2]
        for anchor in chosen + [i for i in order if i not in chosen]:
            other = shortest[1] if anchor == shortest[0] else shortest[0]
            if self.word_counts[anchor] + self.word_counts[other] > self.words:
                continue  # no partner fits beside this one
            room = self.words - self.word_counts[anchor]
            return [anchor, next(i for i in order if i != anchor and self.word_counts[i] <= room)]
        return shortest

    def _fallback(self) -> int:
        pool = sorted(self.eligible) or range(len(self.word_counts))
        fitting = [i for i in pool if self.word_counts[i] <= self.words]
        if fitting:
            return fitting[0]
        return min(pool, key=lambda i: (self.word_counts[i], i))

    def __call__(self, infos: Sequence[SentenceInfo]) -> list[SentenceInfo]:
        ranked = sorted(infos, key=lambda info: (-info.rating, info.order))
        chosen = self.pick(info.order for info in ranked)
        rating = {info.order: info.rating for info in infos}
        return [SentenceInfo(self.layout.sentences[i], i, rating.get(i, 0.0)) for i in chosen]


# --- our scorer: features of each sentence, a fitted linear model -------------------------------

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


def _tfidf(bags: Sequence[Counter[str]]) -> list[dict[str, float]]:
    """Log-scaled term frequency times smoothed inverse sentence frequency, L2-normalised."""
    frequency: Counter[str] = Counter()
    for bag in bags:
        frequency.update(bag.keys())
    count = len(bags)
    vectors = []
    for bag in bags:
        vector = {
            t: (1 + math.log(tf)) * math.log(1 + count / frequency[t]) for t, tf in bag.items()
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({t: v / norm for t, v in vector.items()})
    return vectors


def _idf(bags: Sequence[Counter[str]]) -> dict[str, float]:
    frequency: Counter[str] = Counter()
    for bag in bags:
        frequency.update(bag.keys())
    return {t: math.log(1 + len(bags) / f) for t, f in frequency.items()}


def _mean_idf(bag: Counter[str], idf: dict[str, float]) -> float:
    return sum(idf[t] for t in bag) / len(bag) if bag else 0.0


def _parts_found(parts: Sequence[str], words: Sequence[str]) -> float:
    """Share of `parts` (title stems) found inside some word of the sentence."""
    if not parts:
        return 0.0
    return sum(1 for part in parts if any(part in word for word in words)) / len(parts)


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b[t] for t, v in a.items() if t in b)


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
        tfidf = _tfidf([budget.bags[i] for i in members])
        tfidf_idf = _idf([budget.bags[i] for i in members])
        vector_of = dict(zip(members, tfidf, strict=True))
        centroid_vector: dict[str, float] = {}
        for vector in tfidf:
            for term, value in vector.items():
                centroid_vector[term] = centroid_vector.get(term, 0.0) + value
        centrality = _scaled(_lexrank([vector_of[i] for i in candidates]))
        to_centroid = _scaled([_cosine(vector_of[i], centroid_vector) for i in candidates])
        title_bag = _content_stems(nlp.words(title), budget.language)
        title_parts = [t for t in title_bag if len(t) >= 4]
        specificity = _scaled([_mean_idf(budget.bags[i], tfidf_idf) for i in candidates])
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
                    _containment(title_bag, budget.bags[i]) if title_bag else 0.0,
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
        self._language = _language(language)
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
            return any(_cosine(vectors[i], vectors[j]) >= near for j in chosen)

        top = score[ranked[0]] if ranked else 0.0

        def enough(i: int, chosen: Sequence[int]) -> bool:
            return math.exp(score[i] - top) < self.model.min_odds

        return budget.pick(ranked, similar=similar, enough=enough)


# --- the summarizers by name, and the calls the pipeline makes ----------------------------------


@functools.cache
def summarizer(method: str = DEFAULT_METHOD, language: str = "de") -> AbstractSummarizer:
    """The summarizer of `method` for `language`, built once, with our stemmer and stop words."""
    lang = _language(language)
    if method == DEFAULT_METHOD:
        return KeyPointSummarizer(language)
    if method not in STOCK_METHODS:
        raise SummarizeError(f"unknown summarize method {method!r}; known: {', '.join(METHODS)}")
    module, name = STOCK_METHODS[method]
    stock: Any = getattr(importlib.import_module(module), name)(lang.stem)
    if method == "edmundson":
        # Title and location only: the cue and key methods need hand-made word lists.
        stock = stock.__class__(
            lang.stem, cue_weight=0.0, key_weight=0.0, title_weight=1.0, location_weight=1.0
        )
        stock.null_words = lang.stop_words
    else:
        stock.stop_words = lang.stop_words
    return stock


def story_key_points(
    versions: Sequence[tuple[str | None, str]],
    *,
    max_points: int = DEFAULT_MAX_POINTS,
    language: str = "de",
    word_budget: int = DEFAULT_WORD_BUDGET,
    method: str = DEFAULT_METHOD,
) -> list[str]:
    """Key points of a story told in one or more (title, text) versions, lead version first.

    Whole sentences in (version, text) order, at most `max_points` and `word_budget` words, none
    repeating another; at least two when two are eligible (see Budget), else one. Raises
    SummarizeError when no version has a sentence.
    """
    usable = [(title, text) for title, text in versions if text and text.strip()][:MAX_VERSIONS]
    if not usable:
        raise SummarizeError("cannot summarise an empty text: the article has no words")
    chosen_summarizer = summarizer(method, language)
    document = build_document(usable, language=language)
    if not document.sentences:
        raise SummarizeError("cannot summarise the text: no sentence found in it")
    budget = Budget(document, points=max_points, words=word_budget, language=language)
    return [str(s) for s in chosen_summarizer(document, budget)]


def key_points(
    text: str,
    *,
    title: str | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    language: str = "de",
    word_budget: int = DEFAULT_WORD_BUDGET,
    method: str = DEFAULT_METHOD,
) -> list[str]:
    """Whole sentences of `text`, in text order: at most `max_points` and `word_budget` words.

    Raises SummarizeError for an empty text or an unknown language or method.
    """
    return story_key_points(
        [(title, text)],
        max_points=max_points,
        language=language,
        word_budget=word_budget,
        method=method,
    )
