"""Specification of what may be a key point: whole, self-contained sentences within the limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import nlp
from digest.summarize import key_points
from digest.summary_document import build_document
from digest.summary_rules import Budget, is_clean_sentence
from tests.conftest import ARTICLE, ARTICLE_TITLE, sentences_of, words_of

# --- sentences that are not key points --------------------------------------------------------


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


def test_a_sentence_naming_only_its_author_or_agencies_is_not_clean() -> None:
    assert not is_clean_sentence("Von Dr. Hans-Peter Müller-Lüdenscheidt.")
    assert not is_clean_sentence("(dpa/afp/reuters/kna/epd/apa)")


def test_bylines_captions_and_reader_questions_are_never_key_points() -> None:
    points = key_points(ARTICLE, title=ARTICLE_TITLE, word_budget=500)
    assert not any(p.startswith(("Von Anna", "Foto:")) or p.endswith("?") for p in points)


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


# --- the limits: 2 to 4 points within the word budget -----------------------------------------


def test_key_points_stay_within_the_word_budget() -> None:
    for budget in (25, 40, 80):
        points = key_points(ARTICLE, title=ARTICLE_TITLE, word_budget=budget)
        assert words_of(points) <= budget


def test_max_points_caps_the_number_of_points() -> None:
    assert len(key_points(ARTICLE, max_points=1)) == 1


# Four eligible sentences of 48, 22, 10 and 19 words, in this order.


def test_a_budget_smaller_than_any_sentence_gives_the_two_shortest_eligible_ones_whole() -> None:
    points = key_points(ARTICLE, word_budget=3)
    assert points == [
        "Die Lieferungen sollen noch in diesem Jahr beginnen.",
        "Die Abstimmung ist für die kommende Woche angesetzt.",
    ]


def test_a_text_with_one_eligible_sentence_gives_one_point() -> None:
    only = "Die Bundesregierung hat am Mittwoch ein neues Hilfspaket beschlossen."
    assert key_points(f"{only} Wer zahlt? Die Lage bleibt ernst.") == [only]


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
