"""Specification of digest.nlp: German sentence splitting, words and stems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.nlp import (
    fold,
    is_calendar_word,
    lowercase_words,
    opens_with_back_reference,
    quote_has_speaker,
    sentence_spans,
    split_sentences,
    stem,
    word_count,
    words,
)

FIXTURES = Path(__file__).resolve().parent / "data" / "sentences"
SHARED_DEV = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "sentences" / "dev.jsonl"
)


# --- Words ---------------------------------------------------------------------------------


def test_lowercase_words_are_those_written_with_a_small_initial() -> None:
    text = "Mutmaßlicher Spion gefasst: der mutmaßliche Täter schwieg in Köln."
    assert lowercase_words(text) == ["gefasst", "der", "mutmaßliche", "schwieg", "in"]


@given(st.text(max_size=200))
def test_lowercase_words_are_words_of_the_text(text: str) -> None:
    found = lowercase_words(text)
    assert all(w[0].islower() for w in found)
    assert {w.lower() for w in found} <= set(words(text))


# --- Ordinals, dates and numbers -------------------------------------------------------------


def test_ordinal_before_month_does_not_end_sentence() -> None:
    text = "Die Gespräche beginnen am 3. Oktober in Genf. Beide Seiten reisen an."
    assert split_sentences(text) == [
        "Die Gespräche beginnen am 3. Oktober in Genf.",
        "Beide Seiten reisen an.",
    ]


def test_ordinal_after_article_does_not_end_sentence() -> None:
    assert split_sentences("Der 2. Weltkrieg endete 1945. Das ist lange her.") == [
        "Der 2. Weltkrieg endete 1945.",
        "Das ist lange her.",
    ]


def test_ordinal_without_month_does_not_end_sentence() -> None:
    text = "Vor dem Anpfiff des 15. Spieltags steht der Verein unter Druck."
    assert split_sentences(text) == [text]


def test_ordinal_range_does_not_end_sentence() -> None:
    text = "Der Gipfel findet vom 12. bis 14. Juni statt."
    assert split_sentences(text) == [text]


def test_cardinal_number_at_sentence_end_ends_sentence() -> None:
    assert split_sentences("Sie beendeten die Saison auf Platz 3. Die Fans sind enttäuscht.") == [
        "Sie beendeten die Saison auf Platz 3.",
        "Die Fans sind enttäuscht.",
    ]


def test_date_and_thousands_separators_do_not_end_sentence() -> None:
    text = "Am 24.02.2022 flohen 35.000 Menschen. Viele kamen nach Polen."
    assert split_sentences(text) == [
        "Am 24.02.2022 flohen 35.000 Menschen.",
        "Viele kamen nach Polen.",
    ]


# --- Abbreviations and initials --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Das betrifft z. B. die Bahn.",
        "Es kamen u. a. Vertreter aus Polen.",
        "Das gilt v. a. für Kinder, d. h. für alle unter 14 Jahren.",
        "Laut Dr. Müller ist das falsch.",
        "Er arbeitet bzw. lebt in Berlin.",
        "Die Linie Nr. 5 fährt nicht.",
        "Nach Art. 5 Abs. 2 GG ist das erlaubt.",
        "Der FC St. Pauli gewann.",
        "Prof. Dr. Anna Schmidt leitet die Kommission.",
        "Die Polizei nahm Taleb A. fest.",
        "Von L. Weiß und T. Kleinjung.",
    ],
)
def test_abbreviation_or_initial_inside_sentence_does_not_end_it(text: str) -> None:
    assert split_sentences(text) == [text]


def test_initialism_at_sentence_end_ends_sentence() -> None:
    assert split_sentences("Das sagte er der F.A.Z. Neben ihm stand ein Soldat.") == [
        "Das sagte er der F.A.Z.",
        "Neben ihm stand ein Soldat.",
    ]


def test_single_letter_before_sentence_starter_ends_sentence() -> None:
    assert split_sentences("Sie spielen in Gruppe C. Diese Teams kennen sich.") == [
        "Sie spielen in Gruppe C.",
        "Diese Teams kennen sich.",
    ]


def test_word_that_is_also_an_abbreviation_can_end_sentence() -> None:
    assert split_sentences("Er gründete die Galerie Eigen + Art. Alle kamen.") == [
        "Er gründete die Galerie Eigen + Art.",
        "Alle kamen.",
    ]


# --- Quotations ------------------------------------------------------------------------------


def test_closing_quote_stays_with_its_sentence() -> None:
    text = "„Wir kommen wieder.“ Das sagte der Minister."
    assert split_sentences(text) == ["„Wir kommen wieder.“", "Das sagte der Minister."]


def test_question_in_quotes_followed_by_comma_does_not_end_sentence() -> None:
    text = "„Wie lange noch?“, fragte sie. Niemand antwortete."
    assert split_sentences(text) == ["„Wie lange noch?“, fragte sie.", "Niemand antwortete."]


def test_straight_quotes_follow_the_same_rules() -> None:
    text = 'Er fragte: "Ist das alles?", schrieb Trump. "Nein." Danach schwieg er.'
    assert split_sentences(text) == [
        'Er fragte: "Ist das alles?", schrieb Trump.',
        '"Nein."',
        "Danach schwieg er.",
    ]


def test_multi_sentence_quotation_is_split_inside() -> None:
    text = '"Ich habe sie gesehen. Sie fuhren nach Osten", sagt der Fahrer.'
    assert split_sentences(text) == [
        '"Ich habe sie gesehen.',
        'Sie fuhren nach Osten", sagt der Fahrer.',
    ]


def test_exclamation_quoted_inside_a_sentence_does_not_end_it() -> None:
    text = "Die Menge rief »Frieden jetzt!« und zog weiter."
    assert split_sentences(text) == [text]
    text = 'Er hatte zuvor "Kämpft! Kämpft! Kämpft!" gerufen.'
    assert split_sentences(text) == [text]


def test_exclamation_before_dash_and_lower_case_does_not_end_sentence() -> None:
    text = "Die Lage ist ernst – daran besteht kein Zweifel! – sagte er."
    assert split_sentences(text) == [text]


# --- Lines, headlines, edge cases ------------------------------------------------------------


def test_headline_line_without_stop_is_its_own_sentence() -> None:
    text = "Bundeswehr verlegt Soldaten nach Litauen\n\nDie ersten Einheiten sind angekommen."
    assert split_sentences(text) == [
        "Bundeswehr verlegt Soldaten nach Litauen",
        "Die ersten Einheiten sind angekommen.",
    ]


def test_single_line_break_ends_sentence() -> None:
    assert split_sentences("Erste Zeile\nZweite Zeile") == ["Erste Zeile", "Zweite Zeile"]


def test_lost_space_after_stop_still_ends_sentence() -> None:
    assert split_sentences("Das war gut.Dann ging er.") == ["Das war gut.", "Dann ging er."]


def test_domain_name_at_sentence_start_is_not_an_end() -> None:
    assert split_sentences("Beide sind dabei. ntv.de hat sie gesprochen.") == [
        "Beide sind dabei.",
        "ntv.de hat sie gesprochen.",
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "..."])
def test_empty_or_punctuation_only_text(text: str) -> None:
    assert split_sentences(text) == ([] if not text.strip() else [text.strip()])


def test_spans_point_at_the_sentences() -> None:
    text = "  Erster Satz.  Zweiter Satz!\n"
    assert [text[a:b] for a, b in sentence_spans(text)] == ["Erster Satz.", "Zweiter Satz!"]


# --- Fixtures and gold data ------------------------------------------------------------------


def _gold(path: Path) -> list[tuple[str, list[str]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [(row["text"], row["sentences"]) for row in rows]


@pytest.mark.parametrize(("text", "expected"), _gold(FIXTURES / "news_cases.jsonl"))
def test_news_cases_split_as_annotated(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_shared_dev_set_boundary_f1_is_at_least_098() -> None:
    if not SHARED_DEV.exists():
        pytest.skip("shared evaluation data is not available")
    true_positives = predicted_total = expected_total = 0
    for text, expected in _gold(SHARED_DEV):
        predicted = _boundary_set(text, split_sentences(text))
        gold = _boundary_set(text, expected)
        true_positives += len(predicted & gold)
        predicted_total += len(predicted)
        expected_total += len(gold)
    precision = true_positives / predicted_total
    recall = true_positives / expected_total
    assert 2 * precision * recall / (precision + recall) >= 0.98


def _boundary_set(text: str, sentences: list[str]) -> set[int]:
    ends, position = [], 0
    for sentence in sentences:
        position = text.index(sentence, position) + len(sentence)
        ends.append(len("".join(text[:position].split())))
    return set(ends[:-1])


# --- Properties ------------------------------------------------------------------------------

GERMAN_PIECES = st.sampled_from(
    [
        "Der",
        "die",
        "am",
        "3.",
        "Oktober",
        "z. B.",
        "u. a.",
        "Dr.",
        "Nr.",
        "5",
        "F.A.Z.",
        "„",
        "“",
        "»",
        "«",
        '"',
        "'",
        "(",
        ")",
        "–",
        "-",
        ".",
        "!",
        "?",
        "…",
        ",",
        ":",
        "24.02.2022",
        "35.000",
        "Taleb",
        "A.",
        "ntv.de",
        "Müller",
        "sagte",
        "Er",
        "\n",
        "\n\n",
        "ß",
        "St.",
        "Mrd.",
        " ",
        "  ",
        "\t",
        "\u00a0",
        "\u00ad",
        "Spieltags",
        "des",
        "15.",
    ]
)
GERMANISH_TEXT = st.lists(GERMAN_PIECES, max_size=60).map(" ".join) | st.lists(
    GERMAN_PIECES, max_size=60
).map("".join)


def _check_invariants(text: str) -> None:
    sentences = split_sentences(text)
    position = 0
    for sentence in sentences:
        assert sentence, "sentences are non-empty"
        assert sentence == sentence.strip(), "sentences carry no surrounding whitespace"
        found = text.find(sentence, position)
        assert found >= position, "each sentence is a substring, in order, not overlapping"
        position = found + len(sentence)
    assert "".join("".join(sentences).split()) == "".join(text.split()), "no text is lost"


@settings(max_examples=300)
@given(GERMANISH_TEXT)
def test_germanish_text_is_covered_in_order(text: str) -> None:
    _check_invariants(text)


@settings(max_examples=300)
@given(st.text())
def test_arbitrary_unicode_is_covered_in_order(text: str) -> None:
    _check_invariants(text)


@given(st.text())
def test_spans_and_sentences_agree(text: str) -> None:
    assert [text[a:b] for a, b in sentence_spans(text)] == split_sentences(text)


# --- Words and stems -------------------------------------------------------------------------


def test_words_are_lower_cased_and_keep_umlauts() -> None:
    assert words("Größere Übungen in Nord-Ost!") == ["größere", "übungen", "in", "nord-ost"]


@given(st.from_regex(r"[0-9][0-9a-zäöüß.-]{0,12}", fullmatch=True))
def test_a_word_that_begins_with_a_digit_is_a_number(word: str) -> None:
    assert is_calendar_word(word)


def test_calendar_words_are_weekdays_months_and_times_but_no_names_with_digits() -> None:
    assert all(is_calendar_word(w) for w in ("samstag", "dezember", "uhr", "gestern", "1990er"))
    assert not any(is_calendar_word(w) for w in ("log4j-lücke", "f-35", "g7", "covid-19-zeit"))


def test_words_without_compounds_split_at_hyphens_and_apostrophes() -> None:
    assert words("Die Covid-19-Zeit und Putin's Plan", compounds=False) == [
        "die", "covid", "19", "zeit", "und", "putin", "s", "plan"
    ]  # fmt: skip
    assert words("Die Covid-19-Zeit") == ["die", "covid-19-zeit"]


def test_stems_are_german_snowball_stems_of_any_case() -> None:
    assert stem("Soldaten") == stem("soldat") == "soldat"
    assert stem("Übungen") == stem("übung") == "ubung"
    assert stem("Straße") == "strass"
    assert stem("Soldaten", "xx") == stem("Soldaten", "de")


def test_folding_umlauts_changes_english_stems_only() -> None:
    assert stem("Müller", "en") == "muller"
    assert stem("Müller", "en", fold_umlauts=False) == "müller"
    for word in ("Übungen", "Größere", "Straßen", "Bündnisse"):
        assert stem(word, fold_umlauts=False) == stem(word)


def test_fold_writes_umlauts_and_sharp_s_out() -> None:
    assert fold("Größe Übung") == "grosse ubung"


def test_word_count_counts_every_run_of_letters_and_digits() -> None:
    assert word_count("Die Covid-19-Zeit kostete 1.000 Euro.") == 8
    assert word_count("") == 0


# --- Reference and quotation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Er kündigte weitere Schritte an.",
        "„Sie kommen zu spät“, hieß es.",
        "Dabei geht es um Munition.",
        "Zudem soll die Hilfe wachsen.",
        "Doch die Lage bleibt schwierig.",
        "Diese Entscheidung fiel am Montag.",
        "Das sei ein Fehler gewesen.",
        "– Außerdem fehlt Geld.",
    ],
)
def test_sentences_pointing_back_are_recognised(sentence: str) -> None:
    assert opens_with_back_reference(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Das Gericht entschied am Montag.",
        "Die Regierung hat neue Hilfe beschlossen.",
        "Erst am Abend kam die Nachricht.",
        "Siemens meldete einen Gewinn.",
        "",
    ],
)
def test_sentences_standing_alone_are_not_taken_for_pointing_back(sentence: str) -> None:
    assert not opens_with_back_reference(sentence)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("„Wir bleiben an der Seite der Ukraine“, sagte Ministerin Muster.", True),
        ("Müller sagte: „Wir bleiben an der Seite der Ukraine.“", True),
        ("„Wir bleiben an der Seite der Ukraine“, so der Minister.", True),
        ("„Wir bleiben an der Seite der Ukraine“, sagte er in Berlin.", False),
        ("„Wir bleiben an der Seite der Ukraine.“", False),
        ("Die Regierung sprach von einer „Zeitenwende“.", True),
        ("Die Regierung hat neue Hilfe beschlossen.", True),
    ],
)
def test_a_quotation_needs_its_speaker_named_beside_it(sentence: str, expected: bool) -> None:
    assert quote_has_speaker(sentence) is expected


@given(st.text())
def test_reference_and_quotation_checks_accept_any_text(text: str) -> None:
    assert isinstance(opens_with_back_reference(text), bool)
    assert isinstance(quote_has_speaker(text), bool)
    assert word_count(text) >= 0
