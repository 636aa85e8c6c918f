"""German sentences, words and stems, with the heavy objects built once."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nltk.stem.snowball import SnowballStemmer

_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
_TOKEN = re.compile(r"\w+", re.UNICODE)


def _word_list(text: str) -> list[str]:
    """The whitespace-separated words of a lexicon block."""
    return text.split()


# --- Lexicon -------------------------------------------------------------------------------
# Closed-class words (articles, pronouns, conjunctions, prepositions, sentence adverbs) that
# commonly open a German sentence. After an ambiguous full stop (abbreviation, initial, number)
# a following capitalised word from this list is taken as the start of a new sentence; a
# capitalised word outside it is more likely a noun or name continuing the sentence.
_SENTENCE_STARTERS = frozenset(
    _word_list(
        """
    der die das des dem den ein eine einer eines einem einen
    er sie es wir ich ihr du man
    dies diese dieser dieses diesem diesen jene jener jenes
    dabei dadurch dafür dagegen daher damals damit danach daneben dann darauf daraufhin darin
    darüber darum davon davor dazu dazwischen demnach dennoch deshalb deswegen dort doch
    aber und oder denn sondern allerdings auch außerdem zudem zuvor zuletzt zunächst bisher
    inzwischen mittlerweile nun jetzt heute gestern morgen bereits schon noch nur so
    wie was wer wo wann warum weshalb wieso welche welcher welches
    nach vor seit mit bei beim in im am an auf aus für gegen ohne um unter über von vom zum zur
    zu laut neben trotz während wegen als wenn ob dass weil obwohl da hier alle viele einige
    manche mehrere kein keine keiner sein seine ihre unser unsere mein meine jeder jede jedes
    immer nie niemand zwar vielleicht offenbar insgesamt gleichzeitig zugleich ebenfalls erst
    hinzu allein später stattdessen trotzdem jedoch immerhin schließlich somit also
    anschließend einst zugleich bis ab zwischen hinter statt infolge angesichts
    """
    )
)

_MONTHS = frozenset(
    _word_list(
        """
    januar jänner februar feber märz april mai juni juli august september oktober november
    dezember jan feb febr mär apr jun jul aug sep sept okt nov dez
    """
    )
)

# Words before a number that make "N." an ordinal: "am 3.", "der 2.", "seine 4.", "bis 10.".
_ORDINAL_CUES = frozenset(
    _word_list(
        """
    am im vom zum zur beim der die das des dem den ein eine einer eines einem einen
    seine seiner seines seinem seinen ihre ihrer ihres ihrem ihren unsere unserer unseren
    jeder jede jedes jedem jeden diese dieser dieses diesem diesen
    """
    )
)
# Weaker cues: "bis zum 10." is an ordinal, but "von 10 bis 12. Danach …" ends a sentence.
_WEAK_ORDINAL_CUES = frozenset(_word_list("bis ab seit und oder"))

# Heads of nouns that typically follow an ordinal number ("des 15. Spieltags", "im 19.
# Jahrhundert", "in 2. Lesung"). German compounds end in their head, so a noun is matched by
# its ending after removing a case ending: "Bundesliga", "Parteitags", "Wahlgang".
_ORDINAL_NOUN_HEADS = tuple(
    _word_list(
        """
        jahrhundert jahrtausend tag runde platz liga mal stock etage klasse lesung sitzung
        amtszeit etappe minute woche quartal halbjahr wahlgang durchgang jahrgang versuch
        auflage ausgabe periode krieg armee division brigade sinfonie symphonie kapitel
        strophe instanz senat kammer fc
        """
    )
)
_CASE_ENDING = re.compile(r"(?:es|en|s|n|e)$")

# Abbreviations that do not end a sentence in news prose ("Dr. Müller", "Nr. 5", "z. B. die").
# Multi-part ones are written with their inner dots and no spaces.
_NONFINAL_ABBREVIATIONS = frozenset(
    _word_list(
        """
    dr prof hr fr frl st bzw vgl sog ca ggf evtl inkl exkl zzgl bspw
    insb gem lt ehem mr mrs ms sen jun verh geb gest dipl ing mag päd med jur rer
    nat phil univ hl ggü abt allg bzgl betr eigtl einschl entspr erg frz engl dt ital span
    z.b d.h v.a u.u i.d.r o.ä s.o s.u z.t z.zt u.v.m i.a a.d o.g u.ä m.e i.e e.v
    """
    )
)

# Abbreviations that stand before a number ("Nr. 5", "Art. 5 Abs. 2"); elsewhere they are
# words ("auf diese Art.") and are decided like any other word.
_NUMBER_ABBREVIATIONS = frozenset(_word_list("nr art abs bd kap ziff s rn tz anm"))

# Abbreviations that often stand last in a sentence ("usw.", "5 Mrd.", "v. Chr.").
_FINAL_ABBREVIATIONS = frozenset(
    _word_list(
        """
    usw etc u.a mio mrd tsd chr v.chr n.chr jh jhd std min sek co inc ltd corp jr str tel
    u.ä ff
    """
    )
)

_KNOWN_ABBREVIATIONS = _NONFINAL_ABBREVIATIONS | _FINAL_ABBREVIATIONS | _NUMBER_ABBREVIATIONS

# --- Patterns ------------------------------------------------------------------------------
_OPENERS = "\"'„‚“‘»«([{‹›"
_CLOSERS = "\"'“”‘’»«)]}‹›"
_DASHES = "-–—"

# A candidate end: terminal punctuation, attached closing quotes/brackets, then whitespace.
# A candidate end: terminal punctuation and attached closing quotes/brackets, then whitespace;
# or, where a space was lost ("gesagt.Dann", "schlagen!In"), a word then a capitalised word.
_CANDIDATE = re.compile(
    r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s)"
    r"|(?<=[a-zäöüß][a-zäöüß])[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=[A-ZÄÖÜ][a-zäöüß])"
)
_LINE_BREAK = re.compile(r"\s*\n\s*")
_TOKEN_BEFORE_DOT = re.compile(r"(\S+?)\.+$")
_LAST_TOKEN = re.compile(r"(\S+)$")
_MULTI_PART_ABBREVIATION = re.compile(r"(?:\b\w{1,3}\.\s?)*\b\w{1,4}$")
_NUMBER = re.compile(r"\d{1,3}")
# Initials ("A", "F.A.Z") and Roman numerals ("Benedikt XVI.", "Wilhelm II.").
_INITIALS = re.compile(r"(?:[A-ZÄÖÜ]\.)*[A-ZÄÖÜ]|[IVX]{2,5}")
_NEXT_WORD = re.compile(
    r"\s*[" + re.escape(_OPENERS + _DASHES) + r"\s]*(\S*?)[^\w.]*(?:\s|$)", re.UNICODE
)
_PREVIOUS_WORD = re.compile(r"(\w+)\W*$", re.UNICODE)
_QUOTATION = re.compile(r"„[^„“”\n]*[“”]|»[^»«\n]*«|\"[^\"\n]*\"")


def _words_near(line: str, start: int, end: int) -> tuple[str, str]:
    """The token that ends at the dot at `start` and the word that follows `end`."""
    before = line[max(0, start - 40) : start]
    follow = _NEXT_WORD.match(line, end)
    return before, (follow.group(1) if follow else "")


def _abbreviation_before(before: str) -> str:
    """The (possibly multi-part) abbreviation ending right before the dot, lower-cased."""
    match = _MULTI_PART_ABBREVIATION.search(before)
    if not match:
        return ""
    return match.group(0).replace(" ", "").lower()


def _is_starter(word: str) -> bool:
    return word.lower() in _SENTENCE_STARTERS


def _ends_after_number(number_context: str, following: str) -> bool:
    """Whether "N." ends a sentence, given the text up to the number and the next word."""
    lowered = following.lower()
    if lowered.rstrip(".") in _MONTHS:
        return False
    previous = _PREVIOUS_WORD.search(number_context)
    previous_word = previous.group(1).lower() if previous else ""
    if previous_word in _ORDINAL_CUES:
        return False
    if _is_starter(following):
        return True
    if previous_word in _WEAK_ORDINAL_CUES:
        return False
    return not _is_ordinal_noun(lowered)


def _is_ordinal_noun(lowered: str) -> bool:
    """Whether a lower-cased word looks like a noun that commonly follows an ordinal."""
    return lowered.endswith(_ORDINAL_NOUN_HEADS) or _CASE_ENDING.sub("", lowered).endswith(
        _ORDINAL_NOUN_HEADS
    )


def _ends_after_full_stop(before: str, following: str) -> bool:
    """Decide a '.' followed by whitespace; `before` ends with the token in front of the dot."""
    if not following:
        return True
    first = following[0]
    if first.islower():
        # German nouns and names are capitalised: a lower-case continuation after an ordinary
        # word is a (lower-case) sentence start like "ntv.de", after anything else a continuation.
        found = _TOKEN_BEFORE_DOT.search(before + ".")
        word = found.group(1) if found else ""
        return (
            len(word) > 3
            and word.isalpha()
            and _abbreviation_before(before) not in _KNOWN_ABBREVIATIONS
            and ("." in following or any(c.isupper() for c in following[1:]))
        )
    token_match = _LAST_TOKEN.search(before)
    token = token_match.group(1) if token_match else ""
    bare = token.lstrip(_OPENERS)
    abbreviation = _abbreviation_before(before)
    if abbreviation in _NONFINAL_ABBREVIATIONS:
        return False
    if abbreviation in _NUMBER_ABBREVIATIONS and first.isdigit():
        return False
    if abbreviation in _FINAL_ABBREVIATIONS:
        return _is_starter(following) or not first.isalpha()
    if _NUMBER.fullmatch(bare):
        return _ends_after_number(before[: len(before) - len(token)], following)
    if _INITIALS.fullmatch(bare):
        # "Gruppe C. Diese …" ends; "Taleb A. fest", "L. Weiß" and "F.A.Z. Recherchen" do not.
        return _is_starter(following)
    # A lone lower-case letter ("s. o.", "z.") is part of an abbreviation.
    return not (len(bare) == 1 and bare.isalpha())


def _ends_after_other(following: str) -> bool:
    """Decide '!', '?', '…' (possibly with closing quotes) followed by whitespace."""
    if not following:
        return True
    return not following[0].islower()


def _embedded_quotation_spans(line: str) -> list[tuple[int, int]]:
    """Quotations inside a sentence ("… und „Kämpft! Kämpft!“ gerufen …"): not split inside."""
    spans = []
    for match in _QUOTATION.finditer(line):
        after = line[match.end() : match.end() + 2].lstrip()
        before = line[max(0, match.start() - 2) : match.start()].rstrip()
        if after[:1].islower() and before[-1:].isalpha() and before[-1:].islower():
            spans.append((match.start(), match.end()))
    return spans


def _boundaries_in_line(line: str) -> Iterator[int]:
    """Offsets in `line` (stripped, no newline) at which a sentence ends."""
    embedded = _embedded_quotation_spans(line) if '"' in line or "„" in line or "»" in line else []
    for candidate in _CANDIDATE.finditer(line):
        start, end = candidate.span()
        if any(q_start < start and end < q_end for q_start, q_end in embedded):
            continue
        before, following = _words_near(line, start, end)
        follow_start = line[end:].lstrip()[:2]
        if follow_start[:1] in _DASHES and following[:1].islower():
            continue
        if line[start] == "." and candidate.group(0).rstrip(_CLOSERS) == ".":
            if candidate.group(0) == "." and not _ends_after_full_stop(before, following):
                continue
            if candidate.group(0) != "." and following[:1].islower():
                continue
        elif not _ends_after_other(following):
            continue
        yield end


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of German prose `text`, in order.

    Line breaks always end a sentence (a headline without a stop is a sentence of its own).
    """
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line_break in [*_LINE_BREAK.finditer(text), None]:
        line_end = line_break.start() if line_break else len(text)
        line = text[line_start:line_end]
        offset = line_start + len(line) - len(line.lstrip())
        line = line.strip()
        if line:
            previous = 0
            for boundary in _boundaries_in_line(line):
                spans.append(_stripped(line, offset, previous, boundary))
                previous = boundary
            if previous < len(line):
                spans.append(_stripped(line, offset, previous, len(line)))
        if line_break:
            line_start = line_break.end()
    return [span for span in spans if span[1] > span[0]]


def _stripped(line: str, offset: int, start: int, end: int) -> tuple[int, int]:
    piece = line[start:end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece) - len(piece.rstrip())
    return offset + start + lead, offset + end - trail


def split_sentences(text: str) -> list[str]:
    """Split German prose into sentences; each one is a substring of `text`."""
    return [text[start:end] for start, end in sentence_spans(text)]


WEEKDAYS = frozenset(
    _word_list("montag dienstag mittwoch donnerstag freitag samstag sonntag sonnabend")
)
MONTHS = _MONTHS
# Words of the calendar and the clock: every report of a day shares them, whatever its event.
_CALENDAR = (
    WEEKDAYS
    | MONTHS
    | frozenset(
        _word_list(
            "uhr heute gestern morgen vormittag nachmittag abend nacht wochenende jahr jahres"
        )
    )
)


@functools.lru_cache(maxsize=200_000)
def is_calendar_word(word: str) -> bool:
    """A number, a date or time ("2024", "1990er", "20-jährige": a word that begins with a
    digit), a weekday or month name (lower-cased word). A name with digits in it ("log4j",
    "f-35", "g7") is not one: it names the event."""
    return word in _CALENDAR or word[:1].isdigit()


# A word in this share of one feed's items (and in at least BOILERPLATE_ITEMS) is boilerplate.
BOILERPLATE_SHARE = 0.6
BOILERPLATE_ITEMS = 5


def boilerplate(texts: Sequence[Collection[str]]) -> frozenset[str]:
    """The words (of word collections, one per item of a feed) that most items share: what a
    feed says every time (a programme's constant line, an outlet's sign-off), not the item."""
    if len(texts) < BOILERPLATE_ITEMS:
        return frozenset()
    counts = Counter(word for text in texts for word in set(text))
    limit = max(BOILERPLATE_ITEMS, BOILERPLATE_SHARE * len(texts))
    return frozenset(word for word, n in counts.items() if n >= limit)


LEAD_WORDS = 60


@functools.cache
def stop_words(language: str = "de") -> frozenset[str]:
    """Function words (sumy's list): they say how an outlet writes, not what an item is about."""
    from sumy.utils import get_stop_words  # sumy is imported once stop words are asked for

    return frozenset(get_stop_words("english" if language == "en" else "german"))


def lead(text: str, count: int = LEAD_WORDS) -> str:
    """The opening of a text up to its `count`-th word: what a teaser says, and what the lead
    paragraph of a full article says."""
    for number, match in enumerate(_WORD.finditer(text), start=1):
        if number == count:
            return text[: match.end()]
    return text


def words(text: str, *, compounds: bool = True) -> list[str]:
    """The words of `text`, lower-cased, umlauts and ß kept. A compound written with hyphens or
    an apostrophe ("NATO-Gipfel", "Covid-19-Zeit") is one word; with `compounds=False` each of
    its runs of letters and digits is a word of its own, as `word_count` counts them."""
    return [w.lower() for w in (_WORD if compounds else _TOKEN).findall(text)]


# --- Stems ---------------------------------------------------------------------------------
_STEMMER_NAMES = {"de": "german", "en": "english"}
_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})


def lowercase_words(text: str) -> list[str]:
    """The words of `text` written with a small initial: in German, no noun or name is."""
    return [w for w in _WORD.findall(text) if w[0].islower()]


def fold(word: str) -> str:
    """Lower case with umlauts and ß written out the way the Snowball stemmer writes them."""
    return word.lower().translate(_FOLD)


def stem(word: str, language: str = "de", *, fold_umlauts: bool = True) -> str:
    """The Snowball stem of `word` in `language` ("de", "en"; any other is stemmed as German).

    The German stemmer writes umlauts and ß out itself; `fold_umlauts` does so for every
    language, so an English stem of "Müller" is "muller". The selection (term lists, stories,
    continuity) folds; the summarizer's stems keep what the stemmer gives (fold_umlauts=False),
    which differs for English texts only.
    """
    return _stem(word.lower(), _STEMMER_NAMES.get(language, "german"), fold_umlauts)


@functools.lru_cache(maxsize=200_000)
def _stem(word: str, stemmer_name: str, fold_umlauts: bool) -> str:
    stemmed = _stemmer(stemmer_name).stem(word)
    return fold(stemmed) if fold_umlauts else stemmed


@functools.cache
def _stemmer(name: str) -> SnowballStemmer:
    from nltk.stem.snowball import SnowballStemmer  # nltk is imported once a word is stemmed

    return SnowballStemmer(name)


def word_count(text: str) -> int:
    """Words as a reader (and ROUGE) counts them: every run of letters and digits.

    Stricter than `words`: "Covid-19-Zeit" and "1.000" count as three and two words, so a
    length limit kept by this count holds under any usual way of counting.
    """
    return len(_TOKEN.findall(text))


# --- Reference and quotation ---------------------------------------------------------------
# Words that open a sentence which leans on the one before it: personal and possessive
# pronouns, demonstratives, pronominal adverbs and connectives. A sentence opening with one
# of them does not stand alone as a key point ("Er kündigte an ...", "Dabei ...", "Zudem ...").
_BACK_REFERENCES = frozenset(
    _word_list(
        """
    er sie es ihm ihn ihnen ihr ihre ihrer ihren ihrem ihres sein seine seiner seinen seinem
    seines dessen deren dies diese dieser dieses diesem diesen derselbe dieselbe dasselbe
    solche solcher solches solchen beide beiden letzterer letztere letzteres ersterer erstere
    dabei dadurch dafür dagegen daher damit danach daneben daran darauf daraufhin daraus darin
    darüber darum darunter davon davor dazu dementsprechend demnach demzufolge dennoch deshalb
    deswegen trotzdem stattdessen außerdem zudem ferner weiterhin überdies ebenfalls ebenso
    gleichfalls auch doch aber allerdings jedoch hingegen indes indessen somit also folglich
    hierbei hierzu hierfür hiermit hierin dort damals dann anschließend zuvor zugleich
    gleichzeitig denn sondern und oder nämlich insofern so sonst zusätzlich weiter
    """
    )
)
# "Das sei ein Fehler": an article word followed by a finite verb is a demonstrative pronoun.
_DEMONSTRATIVE_ARTICLES = frozenset(_word_list("das der die dem den"))
_FINITE_VERBS = frozenset(
    _word_list(
        """
    ist sei war wäre sind seien waren wären hat habe hatte hätte haben hatten hätten wird
    werde wurde würde werden wurden würden kann könne konnte könnte können konnten soll solle
    sollte sollen sollten muss müsse musste müsste müssen mussten will wolle wollte wollen
    wollten darf dürfe durfte dürfte zeigt zeigte zeigen bedeutet bedeute bedeutete gilt
    gelte galt geht gehe ging sorgt sorgte führt führte macht machte betrifft betraf passiert
    passierte bestätigte bestätigt erklärte erklärt sagte sagt teilte teilt kam kommt stieß
    stößt löste löst blieb bleibt
    """
    )
)
_OPENING = re.compile(r"[\s" + re.escape(_OPENERS + _DASHES) + r"]*(\w+)(?:\W+(\w+))?")


def opens_with_back_reference(sentence: str) -> bool:
    """Whether `sentence` opens with a word pointing back to what came before it."""
    match = _OPENING.match(sentence)
    if not match:
        return False
    first = match.group(1).lower()
    if first in _BACK_REFERENCES:
        return True
    second = match.group(2) or ""
    return first in _DEMONSTRATIVE_ARTICLES and second in _FINITE_VERBS


# A quotation is a quoted span of at least three words; shorter ones are names and terms.
_QUOTE_SPAN = re.compile(r"„[^„“”]*[“”]|»[^»«]*«|«[^«»]*»|\"[^\"]*\"|‚[^‚‘’]*[‘’]")
_SPEECH_CUES = frozenset(
    _word_list(
        """
    sagte sagt sagten sagen erklärte erklärt erklärten betonte betont betonten meinte meint
    warnte warnt forderte fordert kritisierte kritisiert schrieb schreibt schrieben teilte
    teilt so laut zufolge räumte fügte ergänzte ergänzt kündigte versprach verspricht
    bekräftigte unterstrich erläuterte berichtete berichtet heißt hieß sprach spricht
    antwortete zitiert zitierte mahnte mahnt appellierte rief urteilte resümierte
    """
    )
)
_PERSONAL_PRONOUNS = frozenset(_word_list("er sie es ich wir ihr du man"))


def quotations(sentence: str) -> list[str]:
    """The quotations of three words or more in `sentence`."""
    return [q for q in _QUOTE_SPAN.findall(sentence) if len(_TOKEN.findall(q)) >= 3]


def quote_has_speaker(sentence: str) -> bool:
    """Whether a sentence quoting someone also names who said it (not just "sagte er").

    True for sentences without a quotation. Outside the quotes a speech cue ("sagte", "so",
    "laut" ...) must stand next to a name or noun: within the three words after it (unless
    the first is a personal pronoun) or right before it ("Müller sagte").
    """
    quoted = quotations(sentence)
    if not quoted:
        return True
    rest = sentence
    for quote in quoted:
        rest = rest.replace(quote, " ")
    tokens = _TOKEN.findall(rest)

    def named(token: str) -> bool:
        return token[:1].isupper() and token.lower() not in _PERSONAL_PRONOUNS

    for k, token in enumerate(tokens):
        if token.lower() not in _SPEECH_CUES:
            continue
        after = tokens[k + 1 : k + 4]
        if after and after[0].lower() in _PERSONAL_PRONOUNS:
            continue
        if any(named(t) for t in after) or (k > 0 and named(tokens[k - 1])):
            return True
    return False
