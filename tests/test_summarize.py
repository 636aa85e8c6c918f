"""Specification of the key points: sumy summarizers, whole self-contained sentences, short."""

from __future__ import annotations

import dataclasses
import json
import sys
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sumy.summarizers._summarizer import AbstractSummarizer

from digest import nlp, pipeline
from digest.config import DEFAULT_CONFIG, SummarizeConfig, load_config
from digest.errors import ConfigError, SummarizeError
from digest.summarize import (
    DEFAULT_WORD_BUDGET,
    METHODS,
    MODEL_FILE,
    Budget,
    KeyPointSummarizer,
    build_document,
    is_clean_sentence,
    key_points,
    shipped_model,
    story_key_points,
    summarizer,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DEV = ROOT / ".." / "shared" / "eval" / "summ" / "dev.jsonl"
FEEDS = Path(__file__).parent / "data" / "feeds"

ARTICLE_TITLE = "Bundesregierung beschließt neue Hilfe für die Ukraine"
ARTICLE = """\
Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen. \
Es umfasst Luftabwehrsysteme, Munition und Geld für den Wiederaufbau der Energieversorgung.

Von Anna Beispiel

Verteidigungsminister Klaus Muster sagte in Berlin, die Ukraine brauche vor dem Winter \
vor allem Schutz \
gegen Angriffe auf ihre Kraftwerke. Die Lieferungen sollen noch in diesem Jahr beginnen. \
Was bedeutet das für den Haushalt?

Foto: Archivbild einer Flugabwehrstellung

Die Opposition kritisierte, das Paket komme zu spät und sei zu klein. \
Der Haushaltsausschuss des Bundestages muss den Mitteln noch zustimmen. \
Die Abstimmung ist für die kommende Woche angesetzt. \
Beobachter erwarten eine breite Mehrheit für das Hilfspaket im Ausschuss.

Die Ukraine hatte in den vergangenen Wochen wiederholt um zusätzliche Luftabwehr gebeten. \
Russland greift seit Monaten gezielt die Energieinfrastruktur des Landes an. \
Millionen Menschen waren zeitweise ohne Strom und Heizung. \
Die Vereinten Nationen warnen vor einer humanitären Krise im Winter.
"""


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in nlp.split_sentences(text) if s.strip()]


def words_of(points: list[str]) -> int:
    return sum(nlp.word_count(p) for p in points)


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


def test_our_summarizer_also_takes_a_plain_sentence_count_as_sumy_does() -> None:
    document = build_document([(ARTICLE_TITLE, ARTICLE)])
    chosen = KeyPointSummarizer("de")(document, 2)
    assert 1 <= len(chosen) <= 2
    assert all(str(s) in sentences_of(ARTICLE) for s in chosen)


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


# --- what the points look like --------------------------------------------------------------


def test_key_points_stay_within_the_word_budget() -> None:
    for budget in (25, 40, 80):
        points = key_points(ARTICLE, title=ARTICLE_TITLE, word_budget=budget)
        assert words_of(points) <= budget


def test_a_budget_smaller_than_any_sentence_gives_the_two_shortest_eligible_ones_whole() -> None:
    points = key_points(ARTICLE, word_budget=3)
    assert points == [
        "Die Lieferungen sollen noch in diesem Jahr beginnen.",
        "Die Abstimmung ist für die kommende Woche angesetzt.",
    ]


def test_a_text_with_one_eligible_sentence_gives_one_point() -> None:
    only = "Die Bundesregierung hat am Mittwoch ein neues Hilfspaket beschlossen."
    assert key_points(f"{only} Wer zahlt? Die Lage bleibt ernst.") == [only]


def test_max_points_caps_the_number_of_points() -> None:
    assert len(key_points(ARTICLE, max_points=1)) == 1


# Four eligible sentences of 48, 22, 10 and 19 words, in this order.
SIZED = [
    "Die Bundesregierung hat am Mittwoch nach langen Beratungen mit den Ländern, den Kommunen, "
    "den Verbänden der Wirtschaft, den Kirchen und den Gewerkschaften ein umfangreiches Paket zur "
    "Stärkung der zivilen Verteidigung, des Katastrophenschutzes, der Krankenhäuser und der "
    "sicheren Versorgung mit Strom, Gas und Wasser für den kommenden Winter beschlossen.",
    "Der Bundestag soll nach den Plänen der Koalition noch vor der Sommerpause über die nötigen "
    "Gesetze beraten und in einer Sondersitzung abstimmen.",
    "Die Opposition nannte das Vorhaben überfällig und viel zu klein.",
    "Fachleute des Technischen Hilfswerks rechnen mit mehreren Jahren, bis neue Schutzräume, "
    "Sirenen und Notbrunnen in allen Landkreisen wirklich bereitstehen.",
]


def sized_budget(words: int) -> Budget:
    budget = Budget(build_document([(None, " ".join(SIZED))]), points=4, words=words)
    assert budget.eligible == {0, 1, 2, 3}
    assert budget.word_counts == [48, 22, 10, 19]
    return budget


def test_a_weak_further_point_still_makes_the_second_one() -> None:
    always = sized_budget(60).pick([3, 1, 0, 2], enough=lambda i, chosen: True)
    assert always == [1, 3]  # the stop applies from the third point on


def test_a_second_point_is_taken_even_when_it_resembles_the_first() -> None:
    chosen = sized_budget(60).pick([0, 3, 1, 2], similar=lambda i, chosen: True)
    assert chosen == [0, 2]  # the best-ranked partner that fits beside the first point


def test_a_first_point_without_a_partner_in_the_limit_gives_way_to_a_pair_within_it() -> None:
    assert sized_budget(50).pick([0, 1, 3, 2]) == [1, 3]


def test_when_no_pair_fits_the_limit_the_shortest_pair_goes_beyond_it() -> None:
    budget = sized_budget(25)
    chosen = budget.pick([0, 1, 3, 2])
    assert chosen == [2, 3] and sum(budget.word_counts[i] for i in chosen) == 29


CLEAN_SENTENCES = [*SIZED, *(s for s in sentences_of(ARTICLE) if is_clean_sentence(s))]


# sumy's LexRank divides by zero when no two sentences share a word; its ratings are then all
# NaN, which sort as ties, so the Budget takes them in text order.
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(
    chosen=st.lists(st.sampled_from(CLEAN_SENTENCES), unique=True, min_size=2, max_size=8),
    words=st.integers(min_value=1, max_value=120),
    max_points=st.integers(min_value=2, max_value=4),
    method=st.sampled_from(["keypoints", "lexrank", "luhn"]),
)
def test_two_eligible_sentences_always_give_two_points_within_the_limit_if_any_pair_fits(
    chosen: list[str], words: int, max_points: int, method: str
) -> None:
    text = " ".join(chosen)
    budget = Budget(build_document([(None, text)]), points=max_points, words=words)
    assert len(budget.eligible) >= 2
    points = key_points(text, word_budget=words, max_points=max_points, method=method)
    assert 2 <= len(points) <= max_points
    two_shortest = sorted(budget.word_counts[i] for i in budget.eligible)[:2]
    if sum(two_shortest) <= words:
        assert words_of(points) <= words
    else:
        assert sorted(nlp.word_count(p) for p in points) == two_shortest


def test_the_lead_sentence_that_matches_the_title_is_chosen() -> None:
    points = key_points(ARTICLE, title=ARTICLE_TITLE)
    assert points[0] == (
        "Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen."
    )


def test_key_points_are_stable_across_runs() -> None:
    assert key_points(ARTICLE, title=ARTICLE_TITLE) == key_points(ARTICLE, title=ARTICLE_TITLE)


def test_bylines_captions_and_reader_questions_are_never_key_points() -> None:
    points = key_points(ARTICLE, title=ARTICLE_TITLE, word_budget=500)
    assert not any(p.startswith(("Von Anna", "Foto:")) or p.endswith("?") for p in points)


@pytest.mark.parametrize(
    "sentence",
    [
        "Von Anna Beispiel",
        "(dpa/AFP)",
        "Foto: Archivbild einer Flugabwehrstellung in der Nähe von Kiew.",
        "Was bedeutet das neue Hilfspaket eigentlich für den Haushalt?",
        "Lesen Sie auch unseren Kommentar zum neuen Hilfspaket der Bundesregierung.",
        "Erst wenn Sie hier klicken, werden die Grafiken des Anbieters nachgeladen.",
        "„Wir werden die Ukraine unterstützen, solange es nötig ist“, sagte er in Berlin.",
        "„Wir werden die Ukraine unterstützen, solange es nötig ist, versprochen.“",
        "Er kündigte weitere Lieferungen für das kommende Frühjahr an.",
        "Dabei geht es vor allem um Munition für die Flugabwehr.",
        "Das sei ein wichtiges Signal an die Verbündeten in Osteuropa.",
        "Die Lage bleibt angespannt.",
    ],
)
def test_sentence_cleaning_drops_what_is_not_a_key_point(sentence: str) -> None:
    assert not is_clean_sentence(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Der Haushaltsausschuss des Bundestages muss den Mitteln noch zustimmen.",
        "„Wir werden die Ukraine unterstützen, solange es nötig ist“, sagte Minister Muster.",
        "Das Gericht wies die Klage der Opposition am Dienstag als unzulässig ab.",
    ],
)
def test_sentence_cleaning_keeps_a_sentence_that_stands_alone(sentence: str) -> None:
    assert is_clean_sentence(sentence)


def test_a_point_leaning_on_the_sentence_before_gives_way_to_that_sentence() -> None:
    text = (
        "Der Kanzler traf am Montag in Paris den französischen Präsidenten zu Gesprächen.\n\n"
        "Ein Sprecher nannte das Treffen lang geplant und freundlich im Ton.\n\n"
        "Die Nachbarländer beobachten das Treffen mit großer Aufmerksamkeit.\n\n"
        "Die beiden Politiker sprachen über die Lage der Flugabwehr in Europa und die Ukraine.\n"
        "Dabei ging es um eine gemeinsame Flugabwehr für Europa, Munition und die Ukraine."
    )
    points = key_points(text, title="Gemeinsame Flugabwehr für Europa und die Ukraine")
    assert not any(p.startswith("Dabei") for p in points)
    assert (
        "Die beiden Politiker sprachen über die Lage der Flugabwehr in Europa und die Ukraine."
        in points
    )


def test_no_point_repeats_the_title() -> None:
    title = "Die NATO verlegt weitere Truppen nach Litauen"
    text = f"Die NATO verlegt weitere Truppen nach Litauen.\n\n{ARTICLE}"
    points = key_points(text, title=title)
    assert "Die NATO verlegt weitere Truppen nach Litauen." not in points


def test_a_sentence_repeated_as_a_pull_quote_is_chosen_at_most_once() -> None:
    repeated = "Die Lieferungen sollen noch in diesem Jahr beginnen, sagte der Minister in Berlin."
    points = key_points(f"{repeated}\n\n{ARTICLE}\n\n{repeated}", word_budget=500)
    assert points.count(repeated) <= 1


# --- stories of several outlets -------------------------------------------------------------

OTHER_VERSION = """\
Berlin schickt der Ukraine weitere Luftabwehrsysteme und Munition. \
Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen. \
Der Haushaltsausschuss muss noch zustimmen, die Abstimmung ist für nächste Woche geplant. \
Kiew hatte seit Wochen um mehr Schutz für seine Kraftwerke gebeten.
"""


def test_story_key_points_never_repeat_a_sentence_across_versions() -> None:
    points = story_key_points(
        [(ARTICLE_TITLE, ARTICLE), ("Mehr Luftabwehr für Kiew", OTHER_VERSION)], word_budget=500
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
        select=dataclasses.replace(base.select, threshold=0.0, max_total=100, max_per_section=100),
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


# --- the shipped model is what its script fits ----------------------------------------------


@pytest.mark.skipif(not SHARED_DEV.exists(), reason="needs ../shared/eval/summ/dev.jsonl")
def test_refitting_on_the_dev_set_reproduces_the_shipped_model() -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks import summ_fit
    from benchmarks.summ_quality import load_dev

    with MODEL_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    shipped = shipped_model()
    setting = summ_fit.Setting(
        target=data["fit"]["target"],
        l2=data["fit"]["l2"],
        near_duplicate=shipped.near_duplicate,
        min_odds=shipped.min_odds,
        replace_leaning=shipped.replace_leaning,
    )
    tuning, _ = summ_fit.split(load_dev(SHARED_DEV))
    refitted = summ_fit.fit_model([summ_fit.prepare(a) for a in tuning], setting)
    assert refitted.intercept == pytest.approx(shipped.intercept, abs=1e-5)
    assert refitted.weights == pytest.approx(shipped.weights, abs=1e-5)


def test_the_shipped_model_names_our_features_in_order() -> None:
    data = json.loads(json.dumps(tomllib.loads(MODEL_FILE.read_text(encoding="utf-8"))))
    assert len(data["features"]["weights"]) == len(shipped_model().weights)
