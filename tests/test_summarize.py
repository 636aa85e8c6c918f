"""Specification of the key-point summarizer: whole sentences, in order, short, stable, clean."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import nlp
from digest.errors import SummarizeError
from digest.summarize import (
    IN_PROCESS_LIMIT,
    KeyPointSummarizer,
    build_document,
    is_clean_sentence,
    key_points,
    key_points_many,
    story_key_points,
)

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


def test_key_points_are_whole_sentences_of_the_article() -> None:
    points = key_points(ARTICLE, title=ARTICLE_TITLE)
    sentences = sentences_of(ARTICLE)
    assert points and all(point in sentences for point in points)


def test_key_points_keep_article_order() -> None:
    points = key_points(ARTICLE, title=ARTICLE_TITLE)
    positions = [ARTICLE.index(point) for point in points]
    assert positions == sorted(positions)


def test_an_article_with_enough_sentences_gives_two_to_four_points() -> None:
    assert 2 <= len(key_points(ARTICLE, title=ARTICLE_TITLE, max_points=4)) <= 4


def test_max_points_caps_the_number_of_points() -> None:
    assert len(key_points(ARTICLE, max_points=1)) == 1


def test_key_points_stay_within_the_word_budget() -> None:
    for budget in (25, 40, 80):
        points = key_points(ARTICLE, title=ARTICLE_TITLE, word_budget=budget)
        assert sum(len(nlp.words(p)) for p in points) <= budget


def test_a_budget_smaller_than_any_sentence_still_gives_one_whole_sentence() -> None:
    points = key_points(ARTICLE, word_budget=3)
    assert len(points) == 1 and points[0] in sentences_of(ARTICLE)


def test_key_points_are_stable_across_runs() -> None:
    assert key_points(ARTICLE, title=ARTICLE_TITLE) == key_points(ARTICLE, title=ARTICLE_TITLE)


def test_bylines_captions_and_reader_questions_are_never_key_points() -> None:
    points = key_points(ARTICLE, title=ARTICLE_TITLE, max_points=4, word_budget=500)
    assert not any(p.startswith(("Von Anna", "Foto:")) or p.endswith("?") for p in points)


def test_the_lead_sentence_that_matches_the_title_is_chosen() -> None:
    points = key_points(ARTICLE, title=ARTICLE_TITLE)
    assert (
        points[0]
        == "Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen."
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "Von Anna Beispiel",
        "(dpa/AFP)",
        "Foto: Archivbild einer Flugabwehrstellung in der Nähe von Kiew.",
        "Was bedeutet das neue Hilfspaket eigentlich für den Haushalt?",
        "Lesen Sie auch unseren Kommentar zum neuen Hilfspaket der Bundesregierung.",
        "„Wir werden die Ukraine unterstützen, solange es nötig ist, versprochen“, sagte er.",
        "Die Lage bleibt angespannt.",
    ],
)
def test_sentence_cleaning_drops_what_is_not_a_key_point(sentence: str) -> None:
    assert not is_clean_sentence(sentence, len(nlp.words(sentence)))


def test_sentence_cleaning_keeps_an_ordinary_news_sentence() -> None:
    sentence = "Der Haushaltsausschuss des Bundestages muss den Mitteln noch zustimmen."
    assert is_clean_sentence(sentence, len(nlp.words(sentence)))


def test_a_sentence_repeated_as_a_pull_quote_is_chosen_at_most_once() -> None:
    repeated = "Die Lieferungen sollen noch in diesem Jahr beginnen, sagte der Minister in Berlin."
    text = f"{repeated}\n\n{ARTICLE}\n\n{repeated}"
    points = key_points(text, max_points=4, word_budget=500)
    assert points.count(repeated) <= 1


def test_the_sumy_summarizer_picks_the_same_sentences_as_key_points() -> None:
    document = build_document(ARTICLE, title=ARTICLE_TITLE)
    chosen = KeyPointSummarizer("de")(document, 2)  # a short article: key_points also takes 2
    assert [str(s) for s in chosen] == key_points(ARTICLE, title=ARTICLE_TITLE, max_points=4)


def test_a_text_of_one_sentence_yields_that_sentence() -> None:
    assert key_points("Die NATO verlegt Truppen nach Litauen.") == [
        "Die NATO verlegt Truppen nach Litauen."
    ]


def test_a_single_question_is_still_returned_rather_than_nothing() -> None:
    assert key_points("Wer schützt Europa?") == ["Wer schützt Europa?"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t "])
def test_an_empty_text_raises_summarize_error(text: str) -> None:
    with pytest.raises(SummarizeError, match="empty"):
        key_points(text)


def test_an_unsupported_language_raises_summarize_error() -> None:
    with pytest.raises(SummarizeError, match="language"):
        key_points(ARTICLE, language="xx")


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
    "Die der das Regierung Bundeswehr NATO sagte am Montag in Berlin Straße Größe Übung "
    "„Wir“ – z. B. Nr. 3 1.000 Euro ? ! . , : ; ( ) dpa Foto: Von"
)
GERMAN_WORDS = st.sampled_from(GERMAN_VOCABULARY.split(" "))
GERMAN_ISH_TEXT = st.lists(
    st.one_of(GERMAN_WORDS, st.text(max_size=6), st.sampled_from([". ", "\n\n", "? ", "\n"])),
    max_size=80,
).map(" ".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=GERMAN_ISH_TEXT, title=st.one_of(st.none(), st.text(max_size=30)))
def test_german_ish_text_gives_whole_sentences_or_summarize_error(
    text: str, title: str | None
) -> None:
    try:
        points = key_points(text, title=title)
    except SummarizeError:
        return
    assert 1 <= len(points) <= 3
    cursor = 0
    for point in points:  # each point is a piece of the text found after the previous one
        found = text.find(point, cursor)
        assert point.strip() and found >= 0
        cursor = found + len(point)


OTHER_VERSION = """\
Berlin schickt der Ukraine weitere Luftabwehrsysteme und Munition. \
Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen. \
Der Haushaltsausschuss muss noch zustimmen, die Abstimmung ist für nächste Woche geplant. \
Kiew hatte seit Wochen um mehr Schutz für seine Kraftwerke gebeten.
"""


def test_story_key_points_never_repeat_a_sentence_across_versions() -> None:
    points = story_key_points(
        [(ARTICLE_TITLE, ARTICLE), ("Mehr Luftabwehr für Kiew", OTHER_VERSION)]
    )
    assert len(points) == len(set(points))
    shared = "Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen."
    assert points.count(shared) == 1


def test_story_key_points_skip_near_duplicates_from_other_versions() -> None:
    near_copy = (
        "Am Mittwoch hat die Bundesregierung ein neues Hilfspaket für die Ukraine beschlossen."
    )
    other = OTHER_VERSION.replace(
        "Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen.",
        near_copy,
    )
    points = story_key_points(
        [(ARTICLE_TITLE, ARTICLE), (None, other)], max_points=4, word_budget=500
    )
    lead_sentence = (
        "Die Bundesregierung hat am Mittwoch ein neues Hilfspaket für die Ukraine beschlossen."
    )
    assert not (lead_sentence in points and near_copy in points)


def test_story_key_points_draw_from_every_version_when_they_add_facts() -> None:
    points = story_key_points(
        [(ARTICLE_TITLE, ARTICLE), ("Mehr Luftabwehr für Kiew", OTHER_VERSION)],
        max_points=4,
        word_budget=500,
    )
    all_sentences = sentences_of(ARTICLE) + sentences_of(OTHER_VERSION)
    assert all(point in all_sentences for point in points)
    assert any(point in sentences_of(OTHER_VERSION) and point not in ARTICLE for point in points)


def test_story_without_text_raises_summarize_error() -> None:
    with pytest.raises(SummarizeError):
        story_key_points([("Titel", "  "), (None, "")])


def _articles(count: int) -> list[tuple[str | None, str]]:
    paragraphs = ARTICLE.split("\n\n")
    return [
        (
            f"Meldung {n}",
            "\n\n".join(paragraphs[n % len(paragraphs) :] + paragraphs[: n % len(paragraphs)]),
        )
        for n in range(count)
    ]


def test_the_process_pool_gives_the_same_results_as_one_process() -> None:
    items = [*_articles(IN_PROCESS_LIMIT + 8), (None, "   ")]
    single = key_points_many(items, processes=1)
    pooled = key_points_many(items, processes=2)
    assert [str(r) if isinstance(r, SummarizeError) else r for r in single] == [
        str(r) if isinstance(r, SummarizeError) else r for r in pooled
    ]
    assert isinstance(pooled[-1], SummarizeError)
    assert pooled[0] == key_points(items[0][1], title=items[0][0])


def test_a_few_articles_are_summarised_in_process_in_input_order() -> None:
    items = _articles(3)
    assert key_points_many(items) == [key_points(text, title=title) for title, text in items]
