"""Weighted term lists from topics.toml and what they say of an article: relevance, Ressort."""

from __future__ import annotations

import functools
import math
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest import nlp
from digest.errors import ConfigError
from digest.models import FALLBACK_SECTION, Article

DEFAULT_TOPICS = Path(__file__).resolve().parent / "data" / "topics.toml"


@dataclass(frozen=True, slots=True)
class Term:
    """One entry of a term list: how it was written, how it matches, what it weighs."""

    written: str
    kind: str  # "stem", "prefix", "suffix", "infix" or "phrase"
    fragment: str
    weight: float
    topic: str


def parse_term(written: str, weight: float, topic: str, language: str) -> Term:
    """Read the star notation of topics.toml: "Wort", "Wort*", "*wort", "*wort*", "zwei Wörter"."""
    core = written.strip().strip("*")
    if not core or not any(c.isalnum() for c in core):
        raise ValueError(f"empty term {written!r}")
    starts, ends = written.strip().startswith("*"), written.strip().endswith("*")
    if " " in core:
        return Term(
            written, "phrase", " ".join(nlp.stem(w, language) for w in core.split()), weight, topic
        )
    if starts and ends:
        return Term(written, "infix", nlp.fold(core).replace("-", ""), weight, topic)
    if ends:
        return Term(written, "prefix", nlp.fold(core).replace("-", ""), weight, topic)
    if starts:
        return Term(written, "suffix", nlp.stem(core.replace("-", ""), language), weight, topic)
    return Term(written, "stem", nlp.stem(core.replace("-", ""), language), weight, topic)


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Terms indexed for lookups by stem, by prefix, suffix and infix of a word, and by phrase."""

    language: str
    terms: tuple[Term, ...]

    @functools.cached_property
    def _by_kind(self) -> dict[str, dict[str, Term]]:
        index: dict[str, dict[str, Term]] = {k: {} for k in ("stem", "prefix", "suffix", "infix")}
        for term in self.terms:
            if term.kind == "phrase":
                continue
            known = index[term.kind].get(term.fragment)
            if known is None or abs(term.weight) > abs(known.weight):
                index[term.kind][term.fragment] = term
        return index

    @functools.cached_property
    def _phrases(self) -> dict[str, tuple[tuple[tuple[str, ...], Term], ...]]:
        by_first: dict[str, list[tuple[tuple[str, ...], Term]]] = {}
        for term in self.terms:
            if term.kind == "phrase":
                stems = tuple(term.fragment.split())
                by_first.setdefault(stems[0], []).append((stems, term))
        return {k: tuple(v) for k, v in by_first.items()}

    def match_word(self, word: str) -> Term | None:
        """The most specific term (longest fragment) matching one word or its hyphenated parts."""
        return self._lookup(word)[1]

    @functools.cached_property
    def _seen(self) -> dict[str, tuple[str, Term | None]]:
        return {}

    def _lookup(self, word: str) -> tuple[str, Term | None]:
        """The word's stem and best term, remembered: news vocabulary repeats a lot."""
        known = self._seen.get(word)
        if known is not None:
            return known
        variants = [word.replace("-", "")]
        if "-" in word:
            variants += [part for part in word.split("-") if part]
        found = [term for variant in variants for term in self._matches_of(variant)]
        best = max(found, key=lambda t: (len(t.fragment), abs(t.weight))) if found else None
        result = (nlp.stem(word, self.language), best)
        if len(self._seen) < 500_000:
            self._seen[word] = result
        return result

    @functools.cached_property
    def _fragment_lengths(self) -> dict[str, tuple[int, ...]]:
        return {
            kind: tuple(sorted({len(fragment) for fragment in terms}))
            for kind, terms in self._by_kind.items()
        }

    def _matches_of(self, word: str) -> Iterable[Term]:
        index, lengths = self._by_kind, self._fragment_lengths
        folded, stemmed = nlp.fold(word), nlp.stem(word, self.language)
        if (term := index["stem"].get(stemmed)) is not None:
            yield term
        for size in lengths["prefix"]:
            if size <= len(folded) and (term := index["prefix"].get(folded[:size])) is not None:
                yield term
        for size in lengths["suffix"]:
            if size <= len(stemmed) and (term := index["suffix"].get(stemmed[-size:])):
                yield term
        for size in lengths["infix"]:
            for start in range(len(folded) - size + 1):
                if (term := index["infix"].get(folded[start : start + size])) is not None:
                    yield term

    def matches(self, words: Sequence[str]) -> list[Term]:
        """Every term occurring in a word sequence; a word counts once, a phrase takes its words."""
        hits: list[Term] = []
        phrases = self._phrases
        looked_up = [self._lookup(word) for word in words]
        position = 0
        while position < len(looked_up):
            word_stem, term = looked_up[position]
            step = 1
            for stems, phrase in phrases.get(word_stem, ()):
                window = looked_up[position : position + len(stems)]
                if tuple(s for s, _ in window) == stems:
                    term, step = phrase, len(stems)
                    break
            if term is not None:
                hits.append(term)
            position += step
        return hits


@dataclass(frozen=True)
class Topics:
    """Everything topics.toml holds: relevance lexicons per language and the Ressorts in order."""

    relevance: dict[str, Lexicon]
    sections: tuple[tuple[str, Lexicon], ...]
    fallback_section: str
    title_weight: float
    reference_words: int
    min_section_score: float
    hint_margin: float

    @functools.cached_property
    def section_terms(self) -> Lexicon:
        """Every Ressort's terms in one lexicon; a term's topic is its Ressort."""
        return Lexicon("de", tuple(term for _, lexicon in self.sections for term in lexicon.terms))


@dataclass(frozen=True, slots=True)
class Score:
    """An article's relevance and the terms that made it, strongest first, for explain.txt."""

    value: float
    terms: tuple[str, ...]


def score_text(title: str, text: str, lexicon: Lexicon, topics: Topics) -> Score:
    """Title terms count title_weight times; text terms per sqrt(length / reference_words)."""
    title_hits = lexicon.matches(_words(title))
    text_words = _words(text)
    text_hits = lexicon.matches(text_words)
    length_factor = math.sqrt(max(len(text_words), topics.reference_words) / topics.reference_words)
    value = topics.title_weight * _damped_sum(title_hits) + _damped_sum(text_hits) / length_factor
    weights: dict[str, float] = defaultdict(float)
    for term in title_hits:
        weights[term.written] += term.weight * topics.title_weight
    for term in text_hits:
        weights[term.written] += term.weight / length_factor
    strongest = sorted(weights.items(), key=lambda item: (-abs(item[1]), item[0]))
    return Score(value=round(value, 3), terms=tuple(f"{w}({v:+.1f})" for w, v in strongest[:6]))


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    """The words of a text, kept for the next lexicon: every article meets ten of them."""
    return tuple(nlp.words(text))


def _damped_sum(hits: Sequence[Term]) -> float:
    """Sum of weights; n repeats of a term count 1 + ln n times, against keyword stuffing."""
    counts = Counter(hits)
    return sum(term.weight * (1.0 + math.log(count)) for term, count in counts.items())


def relevance(article: Article, topics: Topics) -> Score:
    lexicon = topics.relevance.get(article.language) or topics.relevance["de"]
    return score_text(article.title, article.text, lexicon, topics)


# --- Loading -------------------------------------------------------------------------------


def load_topics(path: Path | None = None) -> Topics:
    return _load_topics_cached((path or DEFAULT_TOPICS).resolve())


@functools.cache
def _load_topics_cached(path: Path) -> Topics:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: topics file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: malformed TOML: {error}") from None
    try:
        return _topics_from(data)
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{path}: {error}") from None


def _topics_from(data: dict[str, Any]) -> Topics:
    known = {
        "title_weight",
        "reference_words",
        "fallback_section",
        "min_score",
        "hint_margin",
        "terms",
        "sections",
    }
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown key {sorted(unknown)[0]!r}")
    by_language: dict[str, list[Term]] = {}
    for group in data.get("terms", []):
        language = str(group.get("language", "de"))
        weight = float(group["weight"])
        topic = str(group.get("topic", ""))
        by_language.setdefault(language, []).extend(
            parse_term(w, weight, topic, language) for w in _strings(group["words"])
        )
    if "de" not in by_language:
        raise ValueError("no [[terms]] with language = 'de'")
    sections = tuple(
        (
            str(table["title"]),
            Lexicon(
                "de",
                tuple(
                    parse_term(w, float(table.get("weight", 1.0)), str(table["title"]), "de")
                    for w in _strings(table["words"])
                ),
            ),
        )
        for table in data.get("sections", [])
    )
    return Topics(
        relevance={lang: Lexicon(lang, tuple(terms)) for lang, terms in by_language.items()},
        sections=sections,
        fallback_section=str(data.get("fallback_section", FALLBACK_SECTION)),
        title_weight=float(data.get("title_weight", 2.0)),
        reference_words=int(data.get("reference_words", 30)),
        min_section_score=float(data.get("min_score", 1.0)),
        hint_margin=float(data.get("hint_margin", 2.0)),
    )


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("'words' must be a list of strings")
    return value
