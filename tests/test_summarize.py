"""Specification of the key points: every method a sumy summarizer, one call for any story."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sumy.summarizers._summarizer import AbstractSummarizer

from digest import nlp, pipeline
from digest.config import DEFAULT_CONFIG, SummarizeConfig, load_config
from digest.errors import ConfigError, SummarizeError
from digest.summarize import METHODS, key_points, story_key_points, summarizer
from digest.summary_document import build_document
from digest.summary_rules import DEFAULT_WORD_BUDGET, Budget
from digest.summary_scorer import KeyPointSummarizer
from tests.conftest import (
    ARTICLE,
    ARTICLE_TITLE,
    OTHER_TITLE,
    OTHER_VERSION,
    sentences_of,
    words_of,
)

FEEDS = Path(__file__).parent / "data" / "feeds"

# --- one interface: sumy summarizers --------------------------------------------------------


def test_every_method_is_a_sumy_summarizer_built_once() -> None:
    for method in METHODS:
        assert isinstance(summarizer(method), AbstractSummarizer)
        assert summarizer(method) is summarizer(method)
    assert isinstance(summarizer(), KeyPointSummarizer)


def test_key_points_are_what_the_sumy_summarizer_returns_for_the_document() -> None:
    document = build_document([(ARTICLE_TITLE, ARTICLE)])
    budget = Budget(document, points=4, words=DEFAULT_WORD_BUDGET)
    chosen = summarizer()(document, budget)
    assert [str(s) for s in chosen] == key_points(ARTICLE, title=ARTICLE_TITLE)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_whole_clean_sentences_in_order_within_the_limits(
    method: str,
) -> None:
    points = key_points(ARTICLE, title=ARTICLE_TITLE, method=method)
    sentences = sentences_of(ARTICLE)
    assert 1 <= len(points) <= 4
    assert all(point in sentences for point in points)
    assert [sentences.index(p) for p in points] == sorted(sentences.index(p) for p in points)
    assert words_of(points) <= DEFAULT_WORD_BUDGET
    assert not any(nlp.opens_with_back_reference(p) for p in points)


def test_an_unknown_method_raises_summarize_error_naming_the_known_ones() -> None:
    with pytest.raises(SummarizeError, match="lexrank"):
        key_points(ARTICLE, method="bart")


def test_an_unknown_method_in_the_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"summarize\.method"):
        SummarizeConfig(method="bart")


def test_the_sample_config_uses_our_method_with_sixty_words() -> None:
    config = load_config(DEFAULT_CONFIG).summarize
    assert (config.method, config.word_budget) == ("keypoints", 60)


# --- stories of several outlets -------------------------------------------------------------


def test_story_key_points_never_repeat_a_sentence_across_versions() -> None:
    points = story_key_points(
        [(ARTICLE_TITLE, ARTICLE), (OTHER_TITLE, OTHER_VERSION)], word_budget=500
    )
    assert len(points) == len(set(points))
    shared = "Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen."
    assert points.count(shared) <= 1
    all_sentences = sentences_of(ARTICLE) + sentences_of(OTHER_VERSION)
    assert all(point in all_sentences for point in points)


@pytest.mark.parametrize("method", ["keypoints", "lexrank"])
def test_a_story_goes_through_the_same_summarizer_as_one_article(method: str) -> None:
    points = story_key_points([(ARTICLE_TITLE, ARTICLE), (None, OTHER_VERSION)], method=method)
    all_sentences = sentences_of(ARTICLE) + sentences_of(OTHER_VERSION)
    assert points and all(point in all_sentences for point in points)
    assert words_of(points) <= DEFAULT_WORD_BUDGET


def test_story_without_text_raises_summarize_error() -> None:
    with pytest.raises(SummarizeError):
        story_key_points([("Titel", "  "), (None, "")])


# --- bad input: clear results or clear errors, in bounded time -------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t "])
def test_an_empty_text_raises_summarize_error(text: str) -> None:
    with pytest.raises(SummarizeError, match="empty"):
        key_points(text)


def test_an_unsupported_language_raises_summarize_error() -> None:
    with pytest.raises(SummarizeError, match="language"):
        key_points(ARTICLE, language="xx")


def test_a_text_of_one_word_or_one_question_is_returned_whole() -> None:
    assert key_points("Krieg") == ["Krieg"]
    assert key_points("Wer schützt Europa?") == ["Wer schützt Europa?"]


def test_english_articles_are_summarised_with_english_resources() -> None:
    text = (
        "The government approved a new aid package for Ukraine on Wednesday. "
        "It includes air defence systems, ammunition and money for the power grid. "
        "The opposition said the package came too late and was too small. "
        "Parliament's budget committee still has to approve the funds next week."
    )
    points = key_points(text, title="Government approves new aid for Ukraine", language="en")
    assert points[0] == "The government approved a new aid package for Ukraine on Wednesday."


GERMAN_VOCABULARY = (
    "Die der das Regierung Bundeswehr NATO sagte am Montag in Berlin Straße Größe Übung Er "
    "Dabei „Wir“ – z. B. Nr. 3 1.000 Euro ? ! . , : ; ( ) dpa Foto: Von - * 1."
)
GERMAN_WORDS = st.sampled_from(GERMAN_VOCABULARY.split(" "))
GERMAN_ISH_TEXT = st.lists(
    st.one_of(GERMAN_WORDS, st.text(max_size=6), st.sampled_from([". ", "\n\n", "? ", "\n"])),
    max_size=80,
).map(" ".join)
BOUNDED = settings(
    max_examples=60, deadline=timedelta(seconds=3), suppress_health_check=[HealthCheck.too_slow]
)


def _assert_whole_sentences_in_order(text: str, points: list[str]) -> None:
    assert 1 <= len(points) <= 4
    cursor = 0
    for point in points:  # each point is a piece of the text found after the previous one
        found = text.find(point, cursor)
        assert point.strip() and found >= 0
        cursor = found + len(point)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=GERMAN_ISH_TEXT, title=st.one_of(st.none(), st.text(max_size=30)))
def test_german_ish_text_gives_whole_sentences_or_summarize_error(
    text: str, title: str | None
) -> None:
    try:
        points = key_points(text, title=title)
    except SummarizeError:
        return
    _assert_whole_sentences_in_order(text, points)


@BOUNDED
@given(words=st.lists(GERMAN_WORDS.filter(str.isalpha), min_size=1, max_size=3000))
def test_a_text_without_punctuation_gives_itself_or_a_line_of_it(words: list[str]) -> None:
    text = " ".join(words)
    _assert_whole_sentences_in_order(text, key_points(text))


@BOUNDED
@given(
    items=st.lists(st.lists(GERMAN_WORDS, min_size=1, max_size=8).map(" ".join), min_size=1),
    bullet=st.sampled_from(["- ", "* ", "• ", "1. ", ""]),
)
def test_a_text_that_is_only_a_list_gives_whole_items(items: list[str], bullet: str) -> None:
    text = "\n".join(bullet + item for item in items)
    try:
        points = key_points(text)
    except SummarizeError:
        assert not "".join(items).strip(" -*•")
        return
    _assert_whole_sentences_in_order(text, points)


@settings(max_examples=5, deadline=timedelta(seconds=10))
@given(count=st.integers(min_value=1000, max_value=5000), method=st.sampled_from(["keypoints"]))
def test_thousands_of_sentences_are_summarised_in_bounded_time(count: int, method: str) -> None:
    sentences = sentences_of(ARTICLE)
    text = " ".join(sentences[i % len(sentences)] + f" Punkt {i}." for i in range(count))
    points = key_points(text, method=method)
    assert 1 <= len(points) <= 4 and words_of(points) <= DEFAULT_WORD_BUDGET


# --- the pipeline's key points --------------------------------------------------------------


@pytest.mark.parametrize("method", ["keypoints", "lexrank"])
def test_an_edition_built_with_a_method_has_whole_sentences_of_its_articles(
    tmp_path: Path, method: str
) -> None:
    base = load_config(DEFAULT_CONFIG)
    config = dataclasses.replace(
        base,
        feeds=FEEDS / "list.toml",
        out_dir=tmp_path / "out",
        state_dir=tmp_path / "state",
        select=dataclasses.replace(base.select, max_total=100, max_per_section=100),
        summarize=dataclasses.replace(base.summarize, method=method),
    )
    now = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    result = pipeline.build(config, day=date(2026, 11, 29), now=now)
    stories = result.digest.stories
    assert stories and all(story.key_points for story in stories)
    for story in stories:
        sentences = {s for article in story.articles for s in sentences_of(article.text)}
        assert all(point in sentences for point in story.key_points), story.lead.title
        assert words_of(list(story.key_points)) <= DEFAULT_WORD_BUDGET
