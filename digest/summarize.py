"""Article -> key points: whole sentences picked by a sumy summarizer with news-aware signals."""

from __future__ import annotations

import functools
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import punkt
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.summarizers._summarizer import AbstractSummarizer
from sumy.utils import get_stop_words

from digest import nlp
from digest.errors import SummarizeError

# The budget is a ceiling on quoting other people's text, not a length to fill: an editor's teaser
# is one to three sentences (25-30 words in the dev set), and summaries much longer than their
# reference lose ROUGE precision faster than they gain recall. Filling 80 words with 4 points
# scored 22.7 R-1 against 24.0 for the 2-4 points by article length (about 49 words); see
# benchmarks/summ_quality.py, which also tells how to try other limits.
DEFAULT_WORD_BUDGET = 80
MIN_POINTS = 2
MAX_POINTS = 4
MAX_VERSIONS = 6  # versions of one story read for its key points, lead first
SHORT_ARTICLE_WORDS = 400  # below: 2 points
LONG_ARTICLE_WORDS = 1200  # from here: 4 points; 3 in between

# Sentence cleaning: what is not a key point even when it scores well.
MIN_SENTENCE_WORDS = 6
MAX_QUOTED_SHARE = 0.6
DUPLICATE_CONTAINMENT = 0.8

# Scoring: a few interpretable signals, each scaled to [0, 1] within the article.
POSITION_WEIGHT = 1.0
CENTRALITY_WEIGHT = 1.0
TITLE_WEIGHT = 1.0
POSITION_HALF_LIFE = 2.0  # the prior halves every this many candidate sentences
IDEAL_MAX_WORDS = 30  # longer sentences lose score in proportion
LEXRANK_THRESHOLD = 0.1  # tf-idf cosine above which two sentences are linked
LEXRANK_DAMPING = 0.85
LEXRANK_ROUNDS = 30

# Selection: maximal marginal relevance under the word budget.
REDUNDANCY_WEIGHT = 0.7
NEAR_DUPLICATE_SIMILARITY = 0.5

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_TERMINAL = re.compile(r"[.!…:;]['\"“”„«»‚‘’)\]]*\s*$|['\"“”«»’)]\s*$")
_QUOTED = re.compile(r"[„“\"»«‚‘][^„“”\"»«‚‘’]{3,}[“”\"«»‘’]")
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
_SUMY_LANGUAGE = {"de": "german", "en": "english"}


@dataclass(frozen=True, slots=True)
class _Language:
    """Everything language-specific, built once per process: splitter, stop words, stems."""

    code: str
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
    snowball = nlp.stemmer(name)
    stem = functools.lru_cache(maxsize=200_000)(snowball.stem)
    splitter = nlp.split_sentences if code == "de" else _split_english
    return _Language(code, frozenset(get_stop_words(name)), splitter, stem)


# --- building sumy's document from our own sentences -------------------------------------------


def _paragraph_sentences(text: str, language: _Language) -> list[list[str]]:
    """Sentences grouped by paragraph (blank-line separated), each stripped and non-empty."""
    paragraphs = []
    for block in _PARAGRAPH_BREAK.split(text):
        sentences = [s.strip() for s in language.split_sentences(block)]
        sentences = [s for s in sentences if s]
        if sentences:
            paragraphs.append(sentences)
    return paragraphs


def build_document(
    text: str, *, title: str | None = None, language: str = "de"
) -> ObjectDocumentModel:
    """A sumy document of `text` split by our sentence splitter; the title becomes a heading."""
    lang = _language(language)
    paragraphs = [
        Paragraph([Sentence(s, _TOKENIZER) for s in sentences])
        for sentences in _paragraph_sentences(text, lang)
    ]
    if title and title.strip():
        heading = Sentence(title, _TOKENIZER, is_heading=True)
        first = paragraphs[0]._sentences if paragraphs else ()
        paragraphs[:1] = [Paragraph([heading, *first])]
    return ObjectDocumentModel(paragraphs)


# --- sentence cleaning --------------------------------------------------------------------------


def _quoted_share(sentence: str) -> float:
    quoted = sum(len(m.group()) for m in _QUOTED.finditer(sentence))
    return quoted / max(len(sentence), 1)


def is_clean_sentence(sentence: str, word_count: int) -> bool:
    """False for fragments, bylines, agency tags, captions, reader calls, questions and quotes."""
    stripped = sentence.strip()
    return not (
        word_count < MIN_SENTENCE_WORDS
        or stripped.endswith("?")
        or not _TERMINAL.search(stripped)
        or _CREDIT.search(stripped)
        or _BYLINE.match(stripped)
        or _AGENCY_TAG.match(stripped)
        or _READER_CALL.match(stripped)
        or _quoted_share(stripped) > MAX_QUOTED_SHARE
    )


def _containment(inner: Counter[str], outer: Counter[str]) -> float:
    if not inner:
        return 1.0
    return sum((inner & outer).values()) / sum(inner.values())


# --- scoring ------------------------------------------------------------------------------------


def _content_stems(words: Iterable[str], language: _Language) -> Counter[str]:
    return Counter(
        language.stem(w) for w in words if w not in language.stop_words and not w.isdigit()
    )


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


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b[t] for t, v in a.items() if t in b)


def _lexrank(vectors: Sequence[dict[str, float]]) -> list[float]:
    """LexRank with a damping factor: stationary rank over the graph of similar sentences.

    Sums run in list order, so the result is the same in every process (sumy's own LexRank
    sums over sets, whose order changes with the hash seed).
    """
    count = len(vectors)
    links = [
        [j for j in range(count) if j != i and _cosine(vectors[i], vectors[j]) > LEXRANK_THRESHOLD]
        for i in range(count)
    ]
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


def _position_prior(ordinal: int) -> float:
    return 0.5 ** (ordinal / POSITION_HALF_LIFE)


def _length_factor(word_count: int) -> float:
    return min(1.0, IDEAL_MAX_WORDS / word_count) if word_count else 0.0


@dataclass(frozen=True, slots=True)
class _Candidate:
    index: int  # position among all sentences of the document
    text: str
    word_count: int
    vector: dict[str, float]
    score: float


def _score_candidates(
    sentences: Sequence[str], title: str | None, language: _Language
) -> tuple[list[_Candidate], list[int]]:
    """Scored clean candidates, and the indices of all sentences (fallback when none is clean)."""
    tokens = [nlp.words(s) for s in sentences]
    bags = [_content_stems(t, language) for t in tokens]
    vectors = _tfidf(bags)
    clean: list[int] = []
    for i, (sentence, bag) in enumerate(zip(sentences, bags, strict=True)):
        if not is_clean_sentence(sentence, len(tokens[i])):
            continue
        if any(_containment(bag, bags[j]) >= DUPLICATE_CONTAINMENT for j in clean):
            continue
        clean.append(i)
    if not clean:
        return [], list(range(len(sentences)))
    centrality = _scaled(_lexrank([vectors[i] for i in clean]))
    title_bag = _content_stems(nlp.words(title), language) if title else Counter()
    title_overlap = _scaled([_containment(title_bag, bags[i]) if title_bag else 0.0 for i in clean])
    candidates = []
    for ordinal, i in enumerate(clean):
        relevance = (
            POSITION_WEIGHT * _position_prior(ordinal)
            + CENTRALITY_WEIGHT * centrality[ordinal]
            + TITLE_WEIGHT * title_overlap[ordinal]
        )
        score = round(relevance * _length_factor(len(tokens[i])), 9)
        candidates.append(_Candidate(i, sentences[i], len(tokens[i]), vectors[i], score))
    return candidates, clean


def points_for_length(word_count: int) -> int:
    """How many key points an article of `word_count` words deserves: 2 to 4."""
    if word_count < SHORT_ARTICLE_WORDS:
        return MIN_POINTS
    if word_count < LONG_ARTICLE_WORDS:
        return 3
    return MAX_POINTS


def _select(candidates: Sequence[_Candidate], count: int, word_budget: int) -> list[_Candidate]:
    """Greedy maximal marginal relevance: best score minus redundancy, skipping near-duplicates."""
    chosen: list[_Candidate] = []
    taken: set[int] = set()
    used = 0
    while len(chosen) < count:
        best: tuple[float, int] | None = None
        best_candidate = None
        for candidate in candidates:
            if candidate.index in taken or used + candidate.word_count > word_budget:
                continue
            overlap = max((_cosine(candidate.vector, c.vector) for c in chosen), default=0.0)
            if overlap >= NEAR_DUPLICATE_SIMILARITY:
                continue
            key = (round(candidate.score - REDUNDANCY_WEIGHT * overlap, 9), -candidate.index)
            if best is None or key > best:
                best, best_candidate = key, candidate
        if best_candidate is None:
            break
        chosen.append(best_candidate)
        taken.add(best_candidate.index)
        used += best_candidate.word_count
    return chosen


def _fallback(candidates: Sequence[_Candidate]) -> _Candidate:
    """When no candidate fits the budget: the shortest of the well-scored ones (never cut)."""
    top = max(c.score for c in candidates)
    return min(
        (c for c in candidates if c.score >= 0.5 * top), key=lambda c: (c.word_count, c.index)
    )


class KeyPointSummarizer(AbstractSummarizer):
    """A sumy summarizer: position prior, LexRank, title overlap; MMR under a word budget."""

    def __init__(self, language: str = "de", *, word_budget: int = DEFAULT_WORD_BUDGET) -> None:
        self._language = _language(language)
        super().__init__(self._language.stem)
        self.word_budget = word_budget

    def __call__(self, document: ObjectDocumentModel, sentences_count: int) -> tuple[Sentence, ...]:
        sentences = document.sentences
        title = " ".join(str(h) for h in document.headings) or None
        chosen = _choose(
            [str(s) for s in sentences], title, sentences_count, self.word_budget, self._language
        )
        return tuple(sentences[i] for i in chosen)


def _choose(
    sentences: Sequence[str], title: str | None, count: int, word_budget: int, language: _Language
) -> list[int]:
    """Indices (in article order) of the chosen key-point sentences; at least one."""
    if not sentences:
        return []
    candidates, clean = _score_candidates(sentences, title, language)
    if not candidates:  # nothing passed cleaning: a one-liner or a list of fragments
        return [min(clean, key=lambda i: (len(nlp.words(sentences[i])) > word_budget, i))]
    chosen = _select(candidates, count, word_budget) or [_fallback(candidates)]
    return sorted(c.index for c in chosen)


# --- public interface ---------------------------------------------------------------------------


def _require_text(text: str) -> None:
    if not text or not text.strip():
        raise SummarizeError("cannot summarise an empty text: the article has no words")


def key_points(
    text: str,
    *,
    title: str | None = None,
    max_points: int = 3,
    language: str = "de",
    word_budget: int = DEFAULT_WORD_BUDGET,
) -> list[str]:
    """2 to `max_points` whole sentences of `text`, in article order, within `word_budget` words.

    Fewer points when the article is short or its sentences are long; never fewer than one.
    Raises SummarizeError for an empty text.
    """
    _require_text(text)
    lang = _language(language)
    sentences = [s for paragraph in _paragraph_sentences(text, lang) for s in paragraph]
    if not sentences:
        raise SummarizeError("cannot summarise the text: no sentence found in it")
    count = max(1, min(max_points, points_for_length(len(nlp.words(text)))))
    return [sentences[i] for i in _choose(sentences, title, count, word_budget, lang)]


def story_key_points(
    versions: Sequence[tuple[str | None, str]],
    *,
    max_points: int = 3,
    language: str = "de",
    word_budget: int = DEFAULT_WORD_BUDGET,
) -> list[str]:
    """Key points for one story told by several outlets, lead version first; no fact twice.

    Each version's sentences are scored within that version; a sentence also earns credit for
    being backed by the other versions. Chosen points come out in (version, article) order, and a
    sentence too similar to one already chosen is skipped.
    """
    # The lead and a few more versions carry every fact worth a key point; comparing sentences
    # across all versions is quadratic, so a story told by dozens of sites stays cheap.
    usable = [(title, text) for title, text in versions if text and text.strip()][:MAX_VERSIONS]
    if not usable:
        raise SummarizeError("cannot summarise a story without text in any version")
    lang = _language(language)
    pooled: list[tuple[int, _Candidate]] = []
    fallback: list[str] = []
    for number, (title, text) in enumerate(usable):
        sentences = [s for paragraph in _paragraph_sentences(text, lang) for s in paragraph]
        candidates, _ = _score_candidates(sentences, title, lang)
        pooled.extend((number, c) for c in candidates)
        fallback.extend(sentences[:1])
    if not pooled:
        if not fallback:
            raise SummarizeError("cannot summarise the story: no sentence found in any version")
        return fallback[:1]
    support = _cross_version_support(pooled)
    lead_bonus = {number: 1.0 / (1 + number) for number in range(len(usable))}
    merged = [
        _Candidate(
            index=position,
            text=c.text,
            word_count=c.word_count,
            vector=c.vector,
            score=round(c.score * (0.5 + 0.5 * lead_bonus[number]) + support[position], 9),
        )
        for position, (number, c) in enumerate(pooled)
    ]
    total_words = sum(c.word_count for c in merged)
    count = max(1, min(max_points, points_for_length(total_words // len(usable))))
    chosen = _select(merged, count, word_budget) or [_fallback(merged)]
    return [c.text for c in sorted(chosen, key=lambda c: c.index)]


def _cross_version_support(pooled: Sequence[tuple[int, _Candidate]]) -> list[float]:
    """For each sentence, the best similarity to a sentence of another version (0 when alone)."""
    support = []
    for number, candidate in pooled:
        backing = [_cosine(candidate.vector, other.vector) for n, other in pooled if n != number]
        support.append(0.5 * max(backing, default=0.0))
    return support


# --- many articles ------------------------------------------------------------------------------

SummaryRequest = tuple[str | None, str]
SummaryResult = list[str] | SummarizeError

IN_PROCESS_LIMIT = 64  # fewer articles than this are summarised without starting processes


def _summarise_one(
    item: SummaryRequest, max_points: int, language: str, word_budget: int
) -> SummaryResult:
    title, text = item
    try:
        return key_points(
            text, title=title, max_points=max_points, language=language, word_budget=word_budget
        )
    except SummarizeError as error:
        return error


def _summarise_chunk(
    chunk: Sequence[SummaryRequest], max_points: int, language: str, word_budget: int
) -> list[SummaryResult]:
    return [_summarise_one(item, max_points, language, word_budget) for item in chunk]


def key_points_many(
    items: Sequence[SummaryRequest],
    *,
    max_points: int = 3,
    language: str = "de",
    word_budget: int = DEFAULT_WORD_BUDGET,
    processes: int | None = None,
) -> list[SummaryResult]:
    """Key points for many (title, text) articles, in input order, using every core.

    An article that cannot be summarised yields its SummarizeError in its place instead of
    stopping the others. Small inputs (or processes=1) stay in this process; results are
    identical either way.
    """
    _language(language)  # fail early on an unsupported language
    workers = processes or os.cpu_count() or 1
    if workers <= 1 or len(items) < IN_PROCESS_LIMIT:
        return _summarise_chunk(items, max_points, language, word_budget)
    chunk_size = max(8, math.ceil(len(items) / (workers * 4)))
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    results: list[SummaryResult] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        jobs = [
            pool.submit(_summarise_chunk, chunk, max_points, language, word_budget)
            for chunk in chunks
        ]
        for job in jobs:
            results.extend(job.result())
    return results
