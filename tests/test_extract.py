"""Specification of digest.extract: page HTML -> main text, metadata and paywall flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.errors import ExtractError
from digest.extract import (
    choose_text,
    clean_text,
    detect_language,
    extract_page,
    extract_page_or_error,
    is_paywalled,
)
from digest.models import MARKER_PAYWALL, MARKER_TEASER_ONLY, ExtractedPage
from digest.textrules import strip_caption_credits

PAGES = Path(__file__).parent / "data" / "pages"


def page_bytes(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def page(
    text: str = "Ein Text.", *, paywalled: bool = False, language: str | None = "de"
) -> ExtractedPage:
    return ExtractedPage(
        title="Titel", author=None, date=None, text=text, language=language, paywalled=paywalled
    )


# --- extract_page on a German article page with furniture ------------------------------------


@pytest.fixture(scope="module")
def german_article() -> ExtractedPage:
    return extract_page(page_bytes("nachrichten_article.html"), url="https://example.org/a")


def test_main_text_of_german_article_is_extracted(german_article: ExtractedPage) -> None:
    text = german_article.text
    assert "eine der größten Übungen zur Luftverteidigung" in text
    assert "Kritik aus der Opposition" in text
    assert text.rstrip().endswith("Erste Lieferungen würden noch in diesem Jahr erwartet.")


def test_lead_above_the_body_column_is_kept(german_article: ExtractedPage) -> None:
    assert german_article.text.startswith("Mehr als 2000 Soldatinnen und Soldaten")


@pytest.mark.parametrize(
    "furniture",
    [
        "Cookies",  # cookie banner
        "Startseite",  # navigation
        "Lesen Sie auch",  # see-also box heading
        "Haushaltsstreit um Verteidigungsausgaben",  # see-also link
        "Newsletter",  # newsletter prompt
        "Leser123",  # comments
        "ist Redakteurin im Ressort Politik",  # author bio
        "picture alliance",  # photo credit
        "Flugabwehrsystem vom Typ Patriot",  # photo caption
        "WhatsApp",  # share bar
        "Impressum",  # footer
        "Von Anna Muster",  # byline
        "(dpa)",  # agency tag
    ],
)
def test_furniture_of_german_article_is_gone(german_article: ExtractedPage, furniture: str) -> None:
    assert furniture not in german_article.text


def test_paragraphs_are_separated_by_blank_lines(german_article: ExtractedPage) -> None:
    paragraphs = german_article.text.split("\n\n")
    assert len(paragraphs) >= 6
    assert all(p.strip() == p and p for p in paragraphs)


def test_metadata_of_german_article(german_article: ExtractedPage) -> None:
    assert german_article.title == "Bundeswehr übt Luftverteidigung an der Ostsee"
    assert german_article.author == "Anna Muster"
    assert german_article.date == datetime(2024, 5, 14, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    assert german_article.language == "de"
    assert german_article.paywalled is False


# --- paywall, language, empty pages ----------------------------------------------------------


def test_paywalled_article_is_flagged_and_prompt_removed() -> None:
    extracted = extract_page(page_bytes("paywalled_article.html"))
    assert extracted.paywalled is True
    assert "Brigade dauerhaft in Litauen" in extracted.text
    assert "abonnieren" not in extracted.text.lower()
    assert "Sie haben bereits ein Abo" not in extracted.text


def test_date_from_json_ld_is_aware() -> None:
    extracted = extract_page(page_bytes("paywalled_article.html"))
    assert extracted.date is not None
    assert extracted.date.astimezone(UTC) == datetime(2024, 6, 2, 5, 15, tzinfo=UTC)


def test_date_from_json_ld_is_read_as_json_escapes_and_nesting_included() -> None:
    # Some JSON writers escape "+" as \u002B; the date sits inside an @graph here.
    page = (
        page_bytes("paywalled_article.html")
        .replace(
            b'{"@type":"NewsArticle","headline"',
            b'{"@graph":[{"@type":"WebPage"},{"@type":"NewsArticle","headline"',
        )
        .replace(
            b'"datePublished":"2024-06-02T07:15:00+02:00"',
            b'"datePublished":"2024-06-02T07:15:00\\u002B02:00"',
        )
    )
    page = page.replace(b'"name":"Jan Beispiel"}}</script>', b'"name":"Jan Beispiel"}}]}</script>')
    extracted = extract_page(page)
    assert extracted.date == datetime(2024, 6, 2, 5, 15, tzinfo=UTC)


def test_english_article_is_detected_as_english_without_link_list() -> None:
    extracted = extract_page(page_bytes("english_article.html"))
    assert extracted.language == "en"
    assert "buy artillery ammunition together" in extracted.text
    assert "NATO summit to focus on air defence" not in extracted.text
    assert "Reuters" not in extracted.text
    assert extracted.paywalled is False


def test_page_without_article_raises_extract_error() -> None:
    with pytest.raises(ExtractError, match="no main text"):
        extract_page(page_bytes("empty_article.html"))


@pytest.mark.parametrize(
    "empty",
    [
        "",
        b"",
        "   \n ",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    ],
)
def test_empty_input_raises_extract_error(empty: str | bytes) -> None:
    with pytest.raises(ExtractError):
        extract_page(empty)


def test_compressed_bytes_are_refused_never_inflated_here() -> None:
    """The HTTP edge inflates gzip under its size cap; what still arrives compressed (or only
    starts like gzip) is no page, and inflating it here would escape that cap."""
    import gzip

    with pytest.raises(ExtractError, match="compressed"):
        extract_page(gzip.compress(page_bytes("english_article.html")))
    with pytest.raises(ExtractError, match="compressed"):
        extract_page(b"\x1f\x8b\x08 not gzip at all " + page_bytes("english_article.html"))


def test_any_parser_exception_on_one_page_becomes_that_pages_error() -> None:
    deep = b"<html><body>" + b"<div>" * 200_000 + b"<p>Text</p></body></html>"
    outcome = extract_page_or_error((deep, "https://tief.example/a"))
    assert isinstance(outcome, (ExtractError, ExtractedPage))


def test_control_characters_never_reach_the_extracted_text() -> None:
    html = page_bytes("english_article.html").replace(b"artillery", b"artil\x01lery&#1;")
    extracted = extract_page(html)
    assert "buy artillery ammunition together" in extracted.text
    assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in extracted.text)


def test_extracted_page_requires_aware_date() -> None:
    with pytest.raises(ValueError):
        ExtractedPage(
            title=None,
            author=None,
            date=datetime(2024, 1, 1),
            text="x",
            language=None,
            paywalled=False,
        )


# --- clean_text --------------------------------------------------------------------------------


def test_byline_line_is_dropped() -> None:
    text = "Von Anna Muster, Berlin\n\nDie Regierung hat entschieden."
    assert clean_text(text) == "Die Regierung hat entschieden."


def test_leading_agency_tag_with_place_is_dropped() -> None:
    assert (
        clean_text("Berlin (AFP) - Die Regierung hat entschieden.")
        == "Die Regierung hat entschieden."
    )
    assert clean_text("(dpa) Die Regierung hat entschieden.") == "Die Regierung hat entschieden."


def test_every_agency_of_the_one_list_is_dropped_as_a_tag() -> None:
    for agency in ("Reuters", "Xinhua", "dpa-AFX", "SDA", "ots", "ddp"):
        assert clean_text(f"Bern ({agency}) - Der Rat tagt.") == "Der Rat tagt."


def test_trailing_agency_tag_is_dropped() -> None:
    assert (
        clean_text("Die Regierung hat entschieden. (dpa/AFP)") == "Die Regierung hat entschieden."
    )


@pytest.mark.parametrize(
    "credit",
    [
        "Foto: Max Beispiel/dpa",
        "Bild: picture alliance/Geisler-Fotopress",
        "© imago images",
        "Quelle: AFP",
    ],
)
def test_photo_credit_line_is_dropped(credit: str) -> None:
    assert (
        clean_text(f"Die Regierung hat entschieden.\n\n{credit}")
        == "Die Regierung hat entschieden."
    )


@pytest.mark.parametrize(
    "prompt",
    [
        "Mehr zum Thema",
        "Lesen Sie auch: Streit um den Haushalt",
        "Wir verwenden Cookies. Klicken Sie auf Akzeptieren, um zuzustimmen.",
        "Abonnieren Sie unseren Newsletter und erhalten Sie jeden Morgen eine E-Mail.",
        "Read more",
    ],
)
def test_see_also_cookie_and_newsletter_lines_are_dropped(prompt: str) -> None:
    assert (
        clean_text(f"Die Regierung hat entschieden.\n\n{prompt}")
        == "Die Regierung hat entschieden."
    )


@given(st.text(st.characters(codec="utf-8"), max_size=200))
def test_cutting_caption_credits_only_shortens_lines(text: str) -> None:
    cut = strip_caption_credits(text).split("\n")
    lines = text.split("\n")
    assert len(cut) == len(lines)
    assert all(line.startswith(kept) for kept, line in zip(cut, lines, strict=True))


def test_a_caption_credit_is_cut_but_a_sentence_about_a_photo_is_not() -> None:
    assert strip_caption_credits("Soldaten bei der Übung | Bild: dpa/B. Beispiel") == (
        "Soldaten bei der Übung"
    )
    prose = "Das Foto: Es zeigt, was die Regierung verschwieg."
    assert strip_caption_credits(prose) == prose


def test_prose_that_mentions_a_source_is_kept() -> None:
    text = "Quelle: Die Regierung sagte am Montag, sie werde das Gesetz ändern. Das sei nötig."
    assert clean_text(text) == text


def test_prose_about_a_photographer_is_kept() -> None:
    text = "Von den Protesten berichteten viele Fotografen, die Polizei hielt sich zurück."
    assert clean_text(text) == text


def _is_subsequence(short: str, long: str) -> bool:
    remaining = iter(long)
    return all(char in remaining for char in short)


@given(st.text())
def test_clean_text_never_raises_and_never_adds_text(text: str) -> None:
    cleaned = clean_text(text)
    assert len(cleaned) <= len(text)
    assert _is_subsequence("".join(cleaned.split()), "".join(text.split()))


@given(
    st.lists(
        st.sampled_from(["Von Anna Muster", "Foto: dpa", "Ein Satz.", "(AFP)", "\n\n", "\n", " "])
    )
)
def test_clean_text_is_idempotent_on_typical_pieces(pieces: list[str]) -> None:
    once = clean_text("".join(pieces))
    assert clean_text(once) == once


# --- is_paywalled -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "Jetzt abonnieren und weiterlesen.",
        "Weiterlesen mit SZ Plus",
        "Sie haben bereits ein Abo? Hier anmelden.",
        "Dieser Artikel ist exklusiv für Abonnenten.",
        "F+",
        "Subscribe now to continue reading.",
    ],
)
def test_text_ending_in_subscription_prompt_is_paywalled(prompt: str) -> None:
    assert is_paywalled(f"Die Regierung hat entschieden.\n\n{prompt}")


def test_text_that_mentions_subscriptions_in_the_middle_is_not_paywalled() -> None:
    text = (
        "Jetzt abonnieren viele Leser Zeitungen digital.\n\nDer Verlag meldete Zuwächse.\n\n"
        "Die Auflage stieg.\n\nDer Vorstand zeigte sich zufrieden."
    )
    assert not is_paywalled(text)


def test_plain_article_is_not_paywalled() -> None:
    assert not is_paywalled("Die Regierung hat entschieden.\n\nDer Bundestag stimmt am Freitag ab.")


# --- detect_language ----------------------------------------------------------------------------


def test_german_text_is_detected_as_german() -> None:
    assert (
        detect_language("Die Bundesregierung hat am Montag neue Waffenlieferungen beschlossen.")
        == "de"
    )


def test_english_text_is_detected_as_english() -> None:
    assert detect_language("The federal government approved new arms deliveries on Monday.") == "en"


@pytest.mark.parametrize("short", ["", "ok", "Ja", "12:30 Uhr"])
def test_too_short_text_has_no_language(short: str) -> None:
    assert detect_language(short) is None


# --- choose_text --------------------------------------------------------------------------------


def test_page_text_is_used_when_longer_than_teaser() -> None:
    full = page("Ein langer Artikeltext mit vielen Sätzen. " * 5)
    assert choose_text("Kurzer Anriss.", full) == (full.text, ())


def test_teaser_is_used_when_page_is_missing() -> None:
    assert choose_text("Kurzer Anriss.", None) == ("Kurzer Anriss.", (MARKER_TEASER_ONLY,))


def test_teaser_is_used_when_page_is_shorter() -> None:
    short = page("Kurz.")
    assert choose_text("Ein längerer Anriss aus dem Feed.", short) == (
        "Ein längerer Anriss aus dem Feed.",
        (MARKER_TEASER_ONLY,),
    )


def test_paywalled_page_text_is_used_with_paywall_marker() -> None:
    walled = page("Der frei lesbare Anfang des Artikels ist länger als der Anriss.", paywalled=True)
    assert choose_text("Anriss.", walled) == (walled.text, (MARKER_PAYWALL,))


def test_paywalled_page_shorter_than_teaser_gives_teaser_with_both_markers() -> None:
    walled = page("Anfang.", paywalled=True)
    assert choose_text("Ein längerer Anriss aus dem Feed.", walled) == (
        "Ein längerer Anriss aus dem Feed.",
        (MARKER_TEASER_ONLY, MARKER_PAYWALL),
    )
