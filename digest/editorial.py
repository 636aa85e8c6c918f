"""Articles -> editorial judgements (on topic, series, Ressort) by a fitted linear model (pure).

The features of an article are what an editor sees in a feed: the words of its title and teaser
(as stems, pairs of title stems and character 4- and 5-grams, which carry German compounds), the
folders and the slug words of its URL path, the feed's own categories, and the topic lexicon of
topics.toml as counts per topic. Words that most items of one feed share (a programme's constant
teaser line, "Mod.:", "Direkter Link zur Audiodatei") say nothing about one item and are left
out, and a title whose template (digits and dates masked) recurs in the same feed marks a series.

Three linear models read these features: relevance and series are logistic regressions (over
naive-Bayes-scaled features, folded into the weights; relevance the mean of an "on topic" and a
"core" one) with a decision threshold, the Ressort a multinomial one. They are fitted by
training/fit_editorial.py and shipped as plain weights in digest/data/editorial_model.json, so a
build loads no machine learning library.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from digest import nlp
from digest.config import SelectConfig
from digest.errors import ConfigError
from digest.linear import (
    BinaryModel,
    MultinomialModel,
    binary_from_data,
    multinomial_from_data,
)
from digest.models import Article, Judgement
from digest.relevance import Lexicon, Topics, parse_term

DEFAULT_MODEL = Path(__file__).resolve().parent / "data" / "editorial_model.json"
MODEL_FORMAT = 1

CHAR_SIZES = (4, 5)

_DIGITS = re.compile(r"\d+")
_DATE = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.(?:\s?\d{2,4})?|\b\d{4}-\d{2}-\d{2}\b")
_EXTENSION = re.compile(r"\.(?:s?html?|php|aspx?|mp3|mp4|m4a|ogg)$")
_SLUG_SPLIT = re.compile(r"[^a-zäöüß]+")
MAX_SLUG_WORDS = 12
KICKER_WORDS = 2  # a longer text before the first colon is a headline, not a label
_TICKER_MARKS = re.compile(r"\+\+|\+\+\+|liveblog|live-blog|liveticker|live-ticker|newsticker")
_TICKER_TAIL = re.compile(r"(?:live)?blog|(?:live|news)?ticker")


# --- Features ------------------------------------------------------------------------------


def feature_sets(articles: Sequence[Article], topics: Topics) -> list[dict[str, float]]:
    """The features of each article, read against the other items of its own feed."""
    by_source: dict[str, list[int]] = {}
    for index, article in enumerate(articles):
        by_source.setdefault(article.source, []).append(index)
    found: list[dict[str, float]] = [{} for _ in articles]
    for indices in by_source.values():
        members = [articles[i] for i in indices]
        teasers = [_teaser_words(a) for a in members]
        boilerplate = nlp.boilerplate(teasers)
        templates = Counter(title_template(a.title) for a in members)
        for index, article, teaser in zip(indices, members, teasers, strict=True):
            found[index] = features(
                article,
                topics,
                [w for w in teaser if w not in boilerplate],
                repeated=templates[title_template(article.title)] > 1,
                boilerplate_teaser=bool(teaser) and all(w in boilerplate for w in teaser),
            )
    return found


def features(
    article: Article,
    topics: Topics,
    teaser: Sequence[str],
    *,
    repeated: bool = False,
    boilerplate_teaser: bool = False,
) -> dict[str, float]:
    """One article's features (log-scaled counts); `teaser` is its teaser words, boilerplate
    already removed."""
    title = nlp.words(article.title)
    stops = nlp.stop_words(article.language)
    title_content = [w for w in title if w not in stops and not _DIGITS.fullmatch(w)]
    teaser_content = [w for w in teaser if w not in stops and not _DIGITS.fullmatch(w)]
    counts: Counter[str] = Counter()
    title_stems = [nlp.stem(w, article.language) for w in title_content]
    counts.update("t:" + s for s in title_stems)
    counts.update(f"tt:{a}_{b}" for a, b in itertools.pairwise(title_stems))
    counts.update("x:" + nlp.stem(w, article.language) for w in teaser_content)
    counts.update(gram for word in (*title_content, *teaser_content) for gram in _char_grams(word))
    counts.update("u:" + folder for folder in url_folders(article.url))
    slug = url_slug_words(article.url)
    counts.update("g:" + nlp.stem(w, article.language) for w in slug if w not in stops)
    counts.update("k:" + nlp.fold(c)[:40] for c in article.categories)
    lexicon = topics.relevance.get(article.language) or topics.relevance["de"]
    counts.update("lt:" + term.topic for term in lexicon.matches(title) if term.topic)
    counts.update("lx:" + term.topic for term in lexicon.matches(teaser) if term.topic)
    counts.update("lg:" + term.topic for term in lexicon.matches(slug) if term.topic)
    sections = topics.section_terms
    counts.update("sec:" + term.topic for term in sections.matches(title) for _ in (1, 2))
    counts.update("sec:" + term.topic for term in sections.matches(teaser))
    counts.update(_shape(article.title, title))
    if repeated:
        counts["s:repeated-template"] += 1
    if not teaser:
        counts["s:boilerplate-teaser" if boilerplate_teaser else "s:no-teaser"] += 1
    return {name: math.log1p(n) for name, n in counts.items()}


@functools.lru_cache(maxsize=200_000)
def _char_grams(word: str) -> tuple[str, ...]:
    """The character 4- and 5-grams of a word, its edges marked; none for short words and
    numbers."""
    if len(word) < 4 or any(c.isdigit() for c in word):
        return ()
    padded = f"<{nlp.fold(word)}>"
    return tuple(
        "c:" + padded[i : i + size] for size in CHAR_SIZES for i in range(len(padded) - size + 1)
    )


def _teaser_words(article: Article) -> list[str]:
    # A ticker's teaser is its latest entry, which changes all day: its title says what it is.
    if article.text.strip() == article.title.strip() or is_ticker(article):
        return []
    return nlp.words(nlp.lead(article.text))


def url_folders(url: str) -> list[str]:
    """The folders of a URL's path ("/politik/ausland/x-100.html" -> politik, ausland): outlets
    file their items there. The last segment (the item's own name) and numbers are left out."""
    segments = _path_segments(url)[:-1]
    return [s for s in segments if len(s) <= 30 and not any(c.isdigit() for c in s)][:4]


def url_slug_words(url: str) -> list[str]:
    """The words of a URL's slug, its last segment of several words joined by hyphens or
    underscores ("/artikel/470552.abhoeraffaere-russe-hoert-mit.html" -> abhoeraffaere, russe,
    hoert, mit; "/de/reparatur-hub-in-polen/a-65391554" -> reparatur, hub, polen): many outlets
    name the item's subject there, in words a terse or punning headline leaves out. Numbers,
    ids and file extensions are left out."""
    for segment in reversed(_path_segments(url)):
        name = _EXTENSION.sub("", segment)
        words = [w for w in _SLUG_SPLIT.split(name) if len(w) >= 3 and w.isalpha()]
        if len(words) >= 2 and ("-" in name or "_" in name):
            return words[:MAX_SLUG_WORDS]
    return []


def _path_segments(url: str) -> list[str]:
    return [s for s in urlsplit(url).path.lower().split("/") if s]


def title_template(title: str) -> str:
    """A title with its dates, numbers, weekdays and months masked: "Lottozahlen vom 21.12.2024"
    and "Lottozahlen vom 22.12.2024" share one template."""
    masked = _DIGITS.sub("0", _DATE.sub(" D ", title.lower()))
    words = ["W" if w in nlp.WEEKDAYS else "M" if w in nlp.MONTHS else w for w in nlp.words(masked)]
    return " ".join(words)


def is_ticker(article: Article) -> bool:
    """A live blog or news ticker: its teaser changes all day, its title says what it is about."""
    return bool(_TICKER_MARKS.search(article.title.lower()))


def _shape(title: str, words: Sequence[str]) -> list[str]:
    """What a series title looks like: dates, times, ticker marks, its first and last words."""
    shape = []
    lowered = title.lower()
    if _DATE.search(title):
        shape.append("s:date")
    if any(w in nlp.WEEKDAYS for w in words):
        shape.append("s:weekday")
    if any(w in nlp.MONTHS for w in words):
        shape.append("s:month")
    if _TICKER_MARKS.search(lowered):
        shape.append("s:ticker")
    kicker = nlp.words(title.split(":", 1)[0]) if ":" in title else []
    if 0 < len(kicker) <= KICKER_WORDS:
        # "heise-Angebot:", "Anzeige:", "Iran-Liveblog:": the label before the colon says what
        # kind of item this is; its last part generalises across outlets ("Bitfeld-Angebot").
        tail = kicker[-1].rsplit("-", 1)[-1]
        shape.append("s:kicker:" + nlp.stem(tail))
        if "-" in kicker[-1]:
            shape.append("s:kicker-compound")
            if _TICKER_TAIL.fullmatch(tail):
                # "Ukraine-Liveblog:", "Nahost-Ticker:": a standing topic's daily ticker, not
                # one event's ("Liveblog zum Putsch in Niger:").
                shape.append("s:topic-ticker")
    if words:
        shape.append("s:first:" + nlp.stem(words[0]))
        shape.append("s:last:" + ("0" if _DIGITS.fullmatch(words[-1]) else nlp.stem(words[-1])))
    if len(words) <= 3:
        shape.append("s:short-title")
    return shape


# --- Models --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EditorialModel:
    """The fitted decisions, read from one JSON file: relevance, series and Ressort of an
    article, and whether two articles report the same event (digest/cluster.py)."""

    relevance: BinaryModel
    series: BinaryModel
    section: MultinomialModel
    story: BinaryModel
    story_link: float  # the centroid cosine at which two stories merge
    story_common: frozenset[str]  # everyday title words (stems), which name no event
    source: str  # a digest of the file, for the edition fingerprint


def load_model(path: Path | None = None) -> EditorialModel:
    return _load_cached((path or DEFAULT_MODEL).resolve())


@functools.cache
def _load_cached(path: Path) -> EditorialModel:
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except FileNotFoundError:
        raise ConfigError(f"{path}: editorial model not found") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: unreadable editorial model: {error}") from None
    try:
        return model_from_data(data, source=_digest(raw))
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{path}: malformed editorial model: {error}") from None


def model_from_data(data: Mapping, *, source: str = "") -> EditorialModel:
    if data.get("format") != MODEL_FORMAT:
        raise ValueError(f"format {data.get('format')!r}, expected {MODEL_FORMAT}")
    return EditorialModel(
        relevance=binary_from_data(data["relevance"]),
        series=binary_from_data(data["series"]),
        section=multinomial_from_data(data["section"]),
        story=binary_from_data(data["story"]),
        story_link=float(data["story"]["link"]),
        story_common=frozenset(str(w) for w in data["story"]["common_title_words"]),
        source=source,
    )


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# --- Judging -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OperatorTerms:
    """The operator's own lists: a watch-list term always counts as on topic, a block-list term
    always as off topic (the block list wins)."""

    watch: Lexicon | None = None
    block: Lexicon | None = None


def operator_terms(settings: SelectConfig) -> OperatorTerms:
    """The watch and block lists of the config as lexicons (ConfigError for a bad term)."""

    def lexicon(terms: Sequence[str], name: str) -> Lexicon | None:
        if not terms:
            return None
        try:
            return Lexicon("de", tuple(parse_term(t, 1.0, name, "de") for t in terms))
        except ValueError as error:
            raise ConfigError(f"select.{name}: {error}") from None

    return OperatorTerms(
        watch=lexicon(settings.watch, "watch"), block=lexicon(settings.block, "block")
    )


def judge(
    articles: Sequence[Article],
    model: EditorialModel,
    topics: Topics,
    operator: OperatorTerms | None = None,
) -> list[Judgement]:
    """The model's decisions on each article, with the features that weighed most."""
    operator = operator or OperatorTerms()
    judgements = []
    for article, found in zip(articles, feature_sets(articles, topics), strict=True):
        probability = model.relevance.probability(found)
        on_topic = probability >= model.relevance.threshold
        rule = None
        if operator.watch is not None or operator.block is not None:
            words = nlp.words(f"{article.title} {article.text}")
            if operator.block is not None and (hits := operator.block.matches(words)):
                on_topic, rule = False, f"Sperrliste: {hits[0].written}"
            elif operator.watch is not None and (hits := operator.watch.matches(words)):
                on_topic, rule = True, f"Beobachtungsliste: {hits[0].written}"
        series_probability = model.series.probability(found)
        sections = model.section.probabilities(found)
        judgements.append(
            Judgement(
                on_topic=on_topic,
                relevance=round(probability, 4),
                series=series_probability >= model.series.threshold,
                series_probability=round(series_probability, 4),
                sections=tuple(
                    (title, round(p, 4))
                    for title, p in sorted(sections.items(), key=lambda item: -item[1])
                ),
                reasons=model.relevance.reasons(found),
                rule=rule,
            )
        )
    return judgements


def story_section(
    judgements: Sequence[Judgement],
    hints: Sequence[str | None],
    model: EditorialModel,
) -> tuple[str, float, str]:
    """The Ressort of a story from its articles' section probabilities (their mean), the
    probability it got, and why (German, for explain.json).

    An operator's section hint for a feed decides unless the model gives another Ressort more
    than twice its probability; below the model's fitted `min_probability` the story goes to
    the fallback section."""
    section_model = model.section
    totals = dict.fromkeys(section_model.classes, 0.0)
    for judgement in judgements:
        for title, probability in judgement.sections:
            totals[title] = totals.get(title, 0.0) + probability / len(judgements)
    best = max(totals, key=lambda title: (totals[title], title))
    known_hints = [h for h in hints if h is not None]
    if known_hints:
        hint = Counter(known_hints).most_common(1)[0][0]
        if totals.get(hint, 0.0) * 2 >= totals[best]:
            return hint, totals.get(hint, 0.0), "Ressort-Hinweis des Feeds"
    if totals[best] < section_model.min_probability:
        return (
            section_model.fallback,
            totals[best],
            f"Modell unsicher ({best} nur {totals[best]:.2f})",
        )
    return best, totals[best], f"Modell {totals[best]:.2f}"
