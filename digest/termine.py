"""Termine: dated future events named in the kept articles, resolved to days (pure).

A date is taken only from what a sentence says: an explicit calendar date ("am 4. Dezember",
"3.12.2026"), a weekday ("am Donnerstag", "kommenden Montag", "an diesem Freitag") or "heute",
"morgen", "übermorgen", each resolved against the article's publication day. Nothing that does not
resolve to one day counts ("kommende Woche", "am Wochenende", "in den nächsten Tagen"), and a
weekday in a sentence told in the past tense names a day gone by. The rules and their figures
(precision and recall on a labelled set of real German news sentences) are in
benchmarks/termine.py; dateparser was measured there too and was not precise enough.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from digest import nlp
from digest.models import Article, Termin
from digest.vectors import overlap

MONTHS = {
    "januar": 1,
    "jänner": 1,
    "februar": 2,
    "märz": 3,
    "april": 4,
    "mai": 5,
    "juni": 6,
    "juli": 7,
    "august": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "dezember": 12,
    "jan": 1,
    "feb": 2,
    "febr": 2,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "nov": 11,
    "dez": 12,
}
WEEKDAYS = {
    "montag": 0,
    "dienstag": 1,
    "mittwoch": 2,
    "donnerstag": 3,
    "freitag": 4,
    "samstag": 5,
    "sonnabend": 5,
    "sonntag": 6,
}
RELATIVE_DAYS = {"heute": 0, "morgen": 1, "übermorgen": 2}

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(WEEKDAYS)
# "4. Dezember", "4. Dez. 2026", "19. bis 22. Mai" (the first day counts), "Freitag, 4. Dezember".
_NAMED_DATE = re.compile(
    rf"(?<![\w.])(?P<day>[0-3]?\d)\.(?:\s*(?:bis|und|-|–)\s*[0-3]?\d\.)?\s*"
    rf"(?P<month>{_MONTH})\b\.?(?:\s+(?P<year>(?:19|20)\d\d)\b)?",
    re.IGNORECASE,
)
# "4.12.", "04.12.2026", "4.12.26"; never part of a version number ("7.2.8") or a longer number.
_NUMERIC_DATE = re.compile(
    r"(?<![\w.])(?P<day>[0-3]?\d)\.(?P<month>[01]?\d)\.(?P<year>(?:19|20)?\d\d)?(?![\w.]*\d)"
)
_WEEKDAY_WORD = re.compile(rf"\b(?P<weekday>{_WEEKDAY})(?:s)?\b", re.IGNORECASE)
_RELATIVE_WORD = re.compile(r"\b(?P<word>heute|morgen|übermorgen)\b", re.IGNORECASE)

# Words right before a weekday that say which one is meant.
_NEXT = frozenset("kommenden kommender nächsten nächster".split())
_THIS = frozenset("diesem diesen heutigen".split())
_GONE = frozenset("vergangenen vergangener letzten letzter vorigen voriger seit vom".split())
_BEFORE_A_DAY = _NEXT | _THIS | _GONE | frozenset("am an ab bis zum zu für nach vor".split())
# Words after a weekday that put it into the next week: "Dienstag kommender Woche".
_NEXT_WEEK_AFTER = re.compile(r"^\s+(?:kommender|nächster)\s+woche\b", re.IGNORECASE)
_THIS_WEEK_AFTER = re.compile(r"^\s+(?:dieser)\s+woche\b", re.IGNORECASE)
_LAST_WEEK_AFTER = re.compile(r"^\s+(?:vergangener|letzter|voriger)\s+woche\b", re.IGNORECASE)
# "heute" as "nowadays", "morgen" as the noun or a time of day: no day is meant.
_NOT_A_DAY_BEFORE = frozenset("bis von seit schon noch erst jeden jedem am den guten als".split())
_NOT_A_DAY_AFTER = frozenset("noch schon kaum".split())

# The past tense: auxiliaries and the simple past of reporting verbs. A sentence holding one tells
# what happened; a weekday in it is a day gone by ("hatte am Montag erklärt").
PAST_WORDS = frozenset(
    """
    hatte hatten hattest war waren wurde wurden worden gewesen sagte sagten erklärte erklärten
    teilte teilten berichtete berichteten meldete meldeten kündigte kündigten betonte betonten
    warnte warnten forderte forderten bestätigte bestätigten stimmten stimmte beschloss
    beschlossen kam kamen ging gingen gab gaben stand standen fand fanden begann begannen
    griff griffen zog zogen wies wiesen hieß nannte nannten zuletzt damals einst gestern
    vorgestern bereits zuvor durften durfte konnte konnten musste mussten
    """.split()
)
# A perfect tense: "haben ... gewarnt", "hat ... angenommen".
_PERFECT = re.compile(r"\b(?:hat|haben|habe|ist|sind)\b[^.;:]*\b\w*ge\w+(?:t|en)\b", re.IGNORECASE)
# What marks an event still to come. Verbs of motion ("kommt", "geht") are left out: they tell
# stories in the present tense as often as they announce anything.
FUTURE_WORDS = frozenset(
    """
    wird werden soll sollen will wollen plant planen geplant erwartet beginnt beginnen startet
    starten eröffnet eröffnen tagt tagen berät beraten stattfinden statt gilt gelten greift
    greifen entscheidet entscheiden abstimmen stimmt wählt wählen trifft treffen reist reisen
    besucht besuchen verhandelt verhandeln läuft endet enden
    """.split()
)
# Ab/bis before an explicit date mark a start or a deadline, even in a sentence about the past
# ("Der Bundestag hat beschlossen, dass die Regel ab 1. Mai gilt").
_START_OR_DEADLINE = frozenset("ab bis vom zum".split())

# "Freitag, 4. Dezember", "Montag, dem 10. Dezember": a weekday this close to a calendar date
# (in characters; a date itself is about 12 long) names that date's weekday.
CALENDAR_NEAR_WEEKDAY = 12
MIN_WORDS = 5
_CASED_WORD = re.compile(r"[^\W\d_]+")
MAX_TERMINE = 8


@dataclass(frozen=True, slots=True)
class DateMention:
    """One date a sentence names, resolved to a day, and whether it lies ahead of the article."""

    day: date
    start: int
    ahead: bool


def mentions(sentence: str, published: date) -> list[DateMention]:
    """Every day `sentence` names, resolved against the day it was published, in text order."""
    words = _verb_candidates(sentence)
    past = bool(PAST_WORDS.intersection(words)) or bool(_PERFECT.search(sentence))
    future = bool(FUTURE_WORDS.intersection(words))
    found: list[DateMention] = []
    for day, start, before in _explicit_dates(sentence, published):
        ahead = day >= published and (not past or before in _START_OR_DEADLINE)
        found.append(DateMention(day, start, ahead))
    dates = [m.start for m in found]
    for match in _WEEKDAY_WORD.finditer(sentence):
        if any(
            0 <= start - match.end() <= CALENDAR_NEAR_WEEKDAY
            or 0 <= match.start() - start <= CALENDAR_NEAR_WEEKDAY + 12
            for start in dates
        ):
            continue  # "Freitag, 4. Dezember", "am 26. Oktober, einem Freitag": the date says it
        resolved = _weekday(match, sentence, published, past, future)
        if resolved is not None:
            found.append(DateMention(resolved[0], match.start(), resolved[1]))
    for match in _RELATIVE_WORD.finditer(sentence):
        relative = _relative(match, sentence, published, past, future)
        if relative is not None:
            found.append(DateMention(relative, match.start(), True))
    return sorted(found, key=lambda m: m.start)


def _verb_candidates(sentence: str) -> set[str]:
    """The sentence's words that can be verbs or adverbs, lower-cased: those written in lower
    case, and the first word. A capitalised word inside is a noun ("das Treffen", "der Stand")."""
    words = _CASED_WORD.findall(sentence)
    return {w.lower() for i, w in enumerate(words) if i == 0 or not w[:1].isupper()}


def event_day(sentence: str, published: date, horizon_days: int) -> date | None:
    """The first day ahead (from `published` to `horizon_days` after it) that the sentence names
    for an event still to come; None when it names none."""
    if not _is_statement(sentence):
        return None
    last = published + timedelta(days=horizon_days)
    for mention in mentions(sentence, published):
        if mention.ahead and published <= mention.day <= last:
            return mention.day
    return None


def find_termine(
    articles: Iterable[Article], *, day: date, horizon_days: int, timezone: str
) -> tuple[Termin, ...]:
    """Termine from `day` to `horizon_days` after it, in date order, one sentence per event:
    a sentence told by several outlets (or twice) is shown once, from the first article."""
    zone = ZoneInfo(timezone)
    last = day + timedelta(days=horizon_days)
    termine: list[Termin] = []
    seen: list[tuple[date, frozenset[str]]] = []
    for article in articles:
        published = article.published.astimezone(zone).date()
        for sentence in _sentences(article.text):
            when = event_day(sentence, published, horizon_days + (day - published).days)
            if when is None or not day <= when <= last:
                continue
            words = frozenset(w.lower() for w in nlp.words(sentence) if len(w) > 3)
            if any(d == when and overlap(words, other) >= 0.5 for d, other in seen):
                continue
            seen.append((when, words))
            termine.append(
                Termin(
                    day=when,
                    sentence=sentence,
                    url=article.url,
                    source=article.source,
                    title=article.title,
                )
            )
    ordered = sorted(enumerate(termine), key=lambda pair: (pair[1].day, pair[0]))
    return tuple(termin for _, termin in ordered[:MAX_TERMINE])


def _sentences(text: str) -> Iterator[str]:
    for paragraph in re.split(r"\n\s*\n", text):
        for sentence in nlp.split_sentences(paragraph):
            stripped = " ".join(sentence.split())
            if stripped:
                yield stripped


def _is_statement(sentence: str) -> bool:
    """A whole sentence worth quoting: enough words, a full stop, no question, no dateline."""
    stripped = sentence.strip()
    return len(nlp.words(stripped)) >= MIN_WORDS and stripped[-1:] in '.!"“»)'


def _explicit_dates(sentence: str, published: date) -> Iterator[tuple[date, int, str]]:
    """Calendar dates with their position and the word before them; invalid dates are skipped."""
    for match in _NAMED_DATE.finditer(sentence):
        month = MONTHS[match["month"].lower().rstrip(".")]
        resolved = _calendar(int(match["day"]), month, match["year"], published)
        if resolved is not None:
            yield resolved, match.start(), _word_before(sentence, match.start())
    for match in _NUMERIC_DATE.finditer(sentence):
        year = match["year"]
        if year is not None and len(year) == 2:
            year = "20" + year
        resolved = _calendar(int(match["day"]), int(match["month"]), year, published)
        if resolved is not None:
            yield resolved, match.start(), _word_before(sentence, match.start())


def _calendar(day: int, month: int, year: str | None, published: date) -> date | None:
    """The date; without a year, the one of last, this or next year nearest to publication."""
    years = [int(year)] if year else [published.year - 1, published.year, published.year + 1]
    options = []
    for candidate in years:
        try:
            options.append(date(candidate, month, day))
        except ValueError:
            continue
    if not options:
        return None
    return min(options, key=lambda d: abs((d - published).days))


def _word_before(sentence: str, position: int) -> str:
    before = nlp.words(sentence[:position])
    return before[-1].lower() if before else ""


def _weekday(
    match: re.Match[str], sentence: str, published: date, past: bool, future: bool
) -> tuple[date, bool] | None:
    """The day a weekday names and whether it lies ahead; None when it names no day."""
    weekday = WEEKDAYS[match["weekday"].lower()]
    if match.group(0).lower().endswith("s") and not match["weekday"].lower().endswith("s"):
        # "freitags" is a habit, "des Donnerstags" a genitive: neither names one day.
        return None
    if match.start() > 0 and sentence[match.start() - 1].isalpha():
        return None
    before = _word_before(sentence, match.start())
    after = sentence[match.end() :]
    previous = _CASED_WORD.findall(sentence[: match.start()])
    if previous and previous[-1][:1].isupper() and before not in _BEFORE_A_DAY:
        return None  # "Marion Freitag": after a capitalised word, most likely a name
    ahead_days = (weekday - published.weekday()) % 7
    if before in _GONE or _LAST_WEEK_AFTER.match(after):
        return published - timedelta(days=(7 - ahead_days) % 7 or 7), False
    if before in _NEXT or _NEXT_WEEK_AFTER.match(after):
        return published + timedelta(days=ahead_days or 7), True
    if before == "heutigen":
        return published, True
    following = nlp.words(after)
    starts = before == "ab" or (before == "von" and following[:1] == ["an"])
    # Present tense tells stories too ("Am Montag geht er zu ihm"): a weekday names a day ahead
    # only with a word for what is to come, or as the start of something ("ab Montag").
    ahead = not past and (future or starts)
    if before in _THIS or _THIS_WEEK_AFTER.match(after):
        return published + timedelta(days=ahead_days), ahead
    if not ahead:
        return published - timedelta(days=(7 - ahead_days) % 7), False
    return published + timedelta(days=ahead_days), True


def _relative(
    match: re.Match[str], sentence: str, published: date, past: bool, future: bool
) -> date | None:
    word = match["word"].lower()
    before = _word_before(sentence, match.start())
    following = nlp.words(sentence[match.end() :])
    after = following[0].lower() if following else ""
    if before in _NOT_A_DAY_BEFORE or after in _NOT_A_DAY_AFTER:
        return None
    if word == "morgen" and match["word"][0].isupper() and match.start() > 0:
        return None  # "der Morgen", "am Morgen": the noun
    if past or not future:
        return None  # "heute" as "nowadays", a report of what happened, a weather forecast
    return published + timedelta(days=RELATIVE_DAYS[word])
