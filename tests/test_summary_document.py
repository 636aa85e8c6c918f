"""Specification of the sumy document: our own sentences, words and stems, and where each stands."""

from __future__ import annotations

import pytest

from digest.errors import SummarizeError
from digest.summary_document import (
    MAX_SENTENCES,
    build_document,
    content_stems,
    layout_of,
    load_language,
)
from tests.conftest import ARTICLE, ARTICLE_TITLE, OTHER_TITLE, OTHER_VERSION, sentences_of


def test_the_document_holds_our_splitters_sentences_of_every_version_in_order() -> None:
    document = build_document([(ARTICLE_TITLE, ARTICLE), (OTHER_TITLE, OTHER_VERSION)])
    assert [str(s) for s in document.sentences] == (
        sentences_of(ARTICLE) + sentences_of(OTHER_VERSION)
    )


def test_each_version_opens_with_its_title_and_one_without_sentences_is_left_out() -> None:
    document = build_document(
        [
            (
                "Der Rat tagt",
                "Die Regierung tagt heute. Der Rat tagt morgen.\n\nDas Parlament berät.",
            ),
            ("Leer", "  \n "),
            (None, "Noch ein Satz folgt hier."),
        ]
    )
    layout = layout_of(document)
    assert layout.titles == ("Der Rat tagt", "")
    assert layout.version == (0, 0, 0, 1)
    assert layout.paragraph_start == (True, False, True, True)


def test_a_version_is_read_up_to_its_first_sentences() -> None:
    text = " ".join(f"Der Satz mit der Nummer {n} steht hier." for n in range(MAX_SENTENCES + 50))
    document = build_document([(None, text), (None, "Ein zweiter Text hat einen Satz.")])
    assert len(document.sentences) == MAX_SENTENCES + 1
    assert str(document.sentences[-1]) == "Ein zweiter Text hat einen Satz."


def test_english_text_is_split_with_the_english_model() -> None:
    document = build_document(
        [(None, "Mr. Smith went to Washington on Monday. He stayed for two days.")], language="en"
    )
    assert [str(s) for s in document.sentences] == [
        "Mr. Smith went to Washington on Monday.",
        "He stayed for two days.",
    ]


def test_an_unsupported_language_is_a_summarize_error_naming_the_supported_ones() -> None:
    with pytest.raises(SummarizeError, match=r"'xx'.*'de', 'en'"):
        load_language("xx")


def test_content_stems_count_stems_without_stop_words_or_numbers() -> None:
    stems = content_stems(["die", "Regierung", "3", "Regierungen", "tagt"], load_language("de"))
    assert stems == {"regier": 2, "tagt": 1}
