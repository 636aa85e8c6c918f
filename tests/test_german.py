"""German dates, times and labels, as the digest and `digest status` show them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from digest import german
from digest.models import Continuation

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)  # 06:00 in Berlin


def test_dates_are_written_out_in_german() -> None:
    assert german.long_date(DAY) == "Sonntag, 29. November 2026"
    assert german.day_and_month(date(2026, 12, 3)) == "Donnerstag, 3. Dezember"


def test_times_are_local_with_a_no_break_space_before_uhr() -> None:
    assert german.clock(datetime(2026, 7, 1, 4, 0, tzinfo=UTC), BERLIN) == "06:00\u00a0Uhr"
    assert german.day_and_clock(NOW, BERLIN) == "29.11.2026, 06:00\u00a0Uhr"
    assert german.long_datetime(NOW, "Europe/Berlin") == "Sonntag, 29. November 2026, 06:00 Uhr"


def test_times_relative_to_the_edition_say_today_yesterday_or_the_day() -> None:
    assert german.when(NOW, DAY, BERLIN) == "heute, 06:00\u00a0Uhr"
    assert german.when(NOW - timedelta(days=1), DAY, BERLIN).startswith("gestern, ")
    assert german.when(NOW - timedelta(days=2), DAY, BERLIN).startswith("Fr., 27. Nov.")
    assert german.when(NOW - timedelta(days=365), DAY, BERLIN).startswith("29.11.2025, ")


def test_a_continuation_names_its_day_and_the_year_only_when_another() -> None:
    same_year = Continuation("https://a.example/1", date(2026, 11, 26), "a", "Titel", 0.5)
    last_year = Continuation("https://a.example/1", date(2025, 12, 30), "a", "Titel", 0.5)
    assert (
        german.continuation_mark(same_year, DAY)
        == "Fortsetzung – zuletzt am Donnerstag, 26. November"
    )
    assert german.continuation_mark(last_year, DAY).endswith("30. Dezember 2025")


def test_counts_take_singular_and_plural() -> None:
    assert german.count_sources(1) == "1\u00a0Quelle"
    assert german.count_sources(3) == "3\u00a0Quellen"
    assert german.count_stories(1) == "1\u00a0Meldung"
    assert german.count_stories(12) == "12\u00a0Meldungen"
    assert german.more_reports(0) == ""
    assert german.more_reports(1) == " und 1 weiterer Bericht"
    assert german.more_reports(3) == " und 3 weitere Berichte"


def test_quotes_are_german_quotation_marks() -> None:
    assert german.quoted("Aspides") == "„Aspides“"
