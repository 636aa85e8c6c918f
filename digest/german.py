"""German dates, times and labels as readers and operators see them (Babel, never the locale)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time

from digest.models import Continuation

LOCALE = "de_DE"
NBSP = "\u00a0"


def long_date(day: date) -> str:
    """'Sonntag, 29. November 2026'."""
    return format_date(day, format="full", locale=LOCALE)


def day_and_month(day: date) -> str:
    """'Dienstag, 3. Dezember' (the year only when it is not the current one of `day`)."""
    return format_date(day, format="EEEE, d. MMMM", locale=LOCALE)


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """'06:00 Uhr' in the digest's time zone (a no-break space keeps the unit with the time)."""
    return format_time(moment.astimezone(zone), format="HH:mm", locale=LOCALE) + NBSP + "Uhr"


def day_and_clock(moment: datetime, zone: ZoneInfo) -> str:
    """'28.11.2026, 14:30 Uhr'."""
    local = moment.astimezone(zone)
    return f"{format_date(local, format='dd.MM.yyyy', locale=LOCALE)}, {clock(local, zone)}"


def when(moment: datetime, day: date, zone: ZoneInfo) -> str:
    """A time relative to the edition: 'heute, 05:30 Uhr', 'gestern, …', 'Fr., 27. Nov., …'."""
    local = moment.astimezone(zone)
    if local.date() == day:
        prefix = "heute"
    elif local.date() == day - timedelta(days=1):
        prefix = "gestern"
    elif local.year == day.year:
        prefix = format_datetime(local, format="EEE, d. MMM", locale=LOCALE)
    else:
        prefix = format_date(local, format="dd.MM.yyyy", locale=LOCALE)
    return f"{prefix}, {clock(local, zone)}"


def long_datetime(moment: datetime, timezone: str) -> str:
    """'Montag, 30. November 2026, 06:00 Uhr' in the given time zone (`digest status`)."""
    local = moment.astimezone(ZoneInfo(timezone))
    return format_datetime(
        local, "EEEE, d. MMMM y, HH:mm 'Uhr'", tzinfo=local.tzinfo, locale=LOCALE
    )


def continuation_mark(continuation: Continuation, edition: date) -> str:
    """'Fortsetzung – zuletzt am Dienstag, 3. Dezember'."""
    shown = day_and_month(continuation.day)
    if continuation.day.year != edition.year:
        shown += f" {continuation.day.year}"
    return f"Fortsetzung – zuletzt am {shown}"


def count_sources(count: int) -> str:
    """'1 Quelle', '3 Quellen'."""
    return f"{count}{NBSP}Quelle" if count == 1 else f"{count}{NBSP}Quellen"


def count_stories(count: int) -> str:
    """'1 Meldung', '12 Meldungen'."""
    return f"{count}{NBSP}Meldung" if count == 1 else f"{count}{NBSP}Meldungen"


def more_reports(count: int) -> str:
    """' und 3 weitere Berichte', ' und 1 weiterer Bericht'; '' for none."""
    if count <= 0:
        return ""
    return " und 1 weiterer Bericht" if count == 1 else f" und {count} weitere Berichte"


def quoted(text: str) -> str:
    """Wrap text in German quotation marks: „…“."""
    return f"\u201e{text}\u201c"
