"""Article or story -> key points: whole sentences chosen by a sumy summarizer (ours by default)."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sumy.summarizers._summarizer import AbstractSummarizer

from digest import continuity
from digest.config import SUMMARIZE_METHODS, SummarizeConfig
from digest.errors import SummarizeError
from digest.models import Continuation, EarlierStory, Failure, Section, Story
from digest.summary_document import build_document, load_language
from digest.summary_rules import DEFAULT_MAX_POINTS, DEFAULT_WORD_BUDGET, Budget
from digest.summary_scorer import KeyPointSummarizer

METHODS = SUMMARIZE_METHODS
DEFAULT_METHOD = METHODS[0]
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
MAX_VERSIONS = 6  # versions of one story read for its key points, lead first


@functools.cache
def summarizer(method: str = DEFAULT_METHOD, language: str = "de") -> AbstractSummarizer:
    """The summarizer of `method` for `language`, built once, with our stemmer and stop words."""
    lang = load_language(language)
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
    SummarizeError when no version has a sentence. Every method, ours and sumy's stock ones,
    gets the same sumy document (our sentences, words and stems) and the same Budget as its
    sentence count, so the rules of a key point hold whichever method ranks the sentences.
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
    """Whole sentences of `text`, in text order, as `story_key_points` gives them for one version.

    Raises SummarizeError for an empty text or an unknown language or method.
    """
    return story_key_points(
        [(title, text)],
        max_points=max_points,
        language=language,
        word_budget=word_budget,
        method=method,
    )


def summarize_sections(
    sections: Sequence[Section],
    settings: SummarizeConfig,
    *,
    continued: Sequence[Continuation] = (),
    earlier: Sequence[EarlierStory] = (),
    only_new: bool = True,
) -> tuple[tuple[Section, ...], list[Failure]]:
    """Key points for every story, and a Failure for each story that gave none. With `only_new`,
    a continued story's are drawn only from sentences not sent before (an unchanged one gets
    none: it is listed as "Weiterhin in den Nachrichten", not told again)."""
    by_story = {c.story: c for c in continued} if only_new else {}
    failures: list[Failure] = []
    done = []
    for section in sections:
        stories = []
        for story in section.stories:
            continuation = by_story.get(story.lead.url)
            if continuation is None:
                points = _story_points(story, settings, failures)
            elif continuation.unchanged:
                points = ()
            else:
                sent = continuity.matched_stories(continuation, earlier)
                fresh = continuity.fresh_texts(story, sent)
                points = _story_points(story, settings, failures, fresh)
            stories.append(replace(story, key_points=points))
        done.append(replace(section, stories=tuple(stories)))
    return tuple(done), failures


def _story_points(
    story: Story,
    settings: SummarizeConfig,
    failures: list[Failure],
    versions: Sequence[tuple[str, str]] | None = None,
) -> tuple[str, ...]:
    """Key points drawn across every version of the story in the lead's language, lead first;
    `versions` ((title, text) pairs) replaces the articles' own texts."""
    lead = story.lead
    try:
        points = story_key_points(
            versions
            if versions is not None
            else [(a.title, a.text) for a in story.articles if a.language == lead.language],
            max_points=settings.max_points,
            language=lead.language,
            word_budget=settings.word_budget,
            method=settings.method,
        )
    except SummarizeError as error:
        failures.append(Failure(source=lead.source, stage="summarize", message=str(error)))
        return ()
    return tuple(points)
