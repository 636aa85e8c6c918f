"""Specification of Termine: which sentences name an event still to come, and on which day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from digest import termine
from digest.models import Article

SATURDAY = date(2026, 11, 28)


def day_of(sentence: str, published: date = SATURDAY) -> date | None:
    return termine.event_day(sentence, published, 7)


def test_an_explicit_date_ahead_is_taken_with_its_year_from_the_publication() -> None:
    assert day_of("Die Gruppe setzte eine Frist bis zum 4. Dezember und drohte mit Folgen.") == (
        date(2026, 12, 4)
    )
    assert day_of("Das Gesetz soll ab dem 3.12.2026 für alle Behörden gelten.") == date(2026, 12, 3)


def test_a_weekday_resolves_forward_only_for_what_is_to_come() -> None:
    assert day_of("Die Minister wollen am Mittwoch in Brüssel beraten.") == date(2026, 12, 2)
    assert day_of("Die Minister hatten sich am Mittwoch in Brüssel verständigt.") is None
    assert day_of("Am kommenden Samstag beginnt die Übung in der Ostsee.") == date(2026, 12, 5)
    assert day_of("Die Zulassungsstelle öffnet ab Montag wieder für alle Bürger.") == date(
        2026, 11, 30
    )


def test_narrative_present_and_names_are_no_dates() -> None:
    assert day_of("Am Montag geht der Ressortchef zu ihm und stellt ihn zur Rede.") is None
    assert day_of("Zu Gast im Studio ist heute Abend Marion Freitag aus Kassel.") is None


def test_vague_and_past_references_name_no_day() -> None:
    assert day_of("Der Ausschuss befasst sich in der kommenden Woche mit dem Bericht.") is None
    assert day_of("Am Wochenende soll es in Sachsen-Anhalt stürmisch werden.") is None
    assert day_of("Die Anlage ist bis heute nicht wieder in Betrieb gegangen.") is None
    assert day_of("Die Wahl findet am 23. Februar statt, wie der Präsident sagte.") is None


def test_morgen_is_tomorrow_but_der_morgen_is_not() -> None:
    assert day_of("Der Plan soll morgen in Berlin veröffentlicht werden.") == date(2026, 11, 29)
    assert day_of("Die Sirenen heulten am Morgen im ganzen Landkreis Leer.") is None


def test_find_termine_keeps_the_window_and_shows_one_event_once() -> None:
    text = (
        "Der Stadtrat wird sich am 9. Dezember mit dem Projekt befassen. "
        "Die Verteidigungsminister wollen am Mittwoch in Brüssel beraten."
    )
    published = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    first = Article("https://a.example/1", "Titel", "A", published, text)
    copy = Article("https://b.example/2", "Titel", "B", published, text)
    found = termine.find_termine(
        [first, copy], day=date(2026, 11, 29), horizon_days=7, timezone="Europe/Berlin"
    )
    assert [(t.day, t.url) for t in found] == [(date(2026, 12, 2), "https://a.example/1")]
    assert found[0].sentence == "Die Verteidigungsminister wollen am Mittwoch in Brüssel beraten."


@given(st.text(max_size=300), st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)))
def test_a_day_found_lies_in_the_window_and_only_with_a_date_word(text: str, day: date) -> None:
    found = termine.event_day(text, day, 7)
    if found is not None:
        assert day <= found <= day + timedelta(days=7)
        lowered = text.lower()
        words = (*termine.WEEKDAYS, *termine.RELATIVE_DAYS, *termine.MONTHS)
        assert any(w in lowered for w in words) or any(c.isdigit() for c in text)
