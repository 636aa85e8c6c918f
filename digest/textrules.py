"""Line-level text rules, German and English: bylines, agency tags, photo credits, see-also,
cookie and newsletter prompts, subscription prompts (pure)."""

from __future__ import annotations

import re

# ---------------------------------------------------------------------------------------------
# Characters no text of ours may hold: those XML 1.0 forbids (C0 controls but tab, LF and CR;
# lone surrogates; U+FFFE and U+FFFF) and those HTML parsers report as errors (DEL, the C1
# controls, every other noncharacter). Feed and page text loses them where it enters, so that
# feed.xml stays well-formed and digest.html clean whatever a source sends.

_NONCHARACTERS = "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_FORBIDDEN_CHARS = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NONCHARACTERS}]+"
)


def strip_forbidden_chars(text: str) -> str:
    """`text` without the characters XML forbids or HTML reports as errors (see above)."""
    return _FORBIDDEN_CHARS.sub("", text)


# ---------------------------------------------------------------------------------------------
# Text rules, German and English: lines that are never part of an article's prose.

# News agencies, as they sign a report: "(dpa)", "Berlin (AFP/Reuters) -", "Quelle: KNA". The one
# list of them: the summarizer's rules ask is_byline_or_agency too.
_AGENCY_NAMES = (
    "dpa", "AFP", "AP", "Reuters", "KNA", "epd", "dts", "sid", "SID", "APA", "Xinhua", "AFX",
    "dpa-AFX", "ANSA", "EFE", "Bloomberg", "RTR", "SDA", "ots", "ddp",
)  # fmt: skip
_AGENCIES = "(?:" + "|".join(re.escape(a) for a in _AGENCY_NAMES) + ")"
_AGENCY_GROUP = rf"\(\s*{_AGENCIES}(?:\s*[/,]\s*[\w.-]+)*\s*\)"
_LEADING_AGENCY = re.compile(
    rf"^(?:[A-ZÄÖÜ][\w.-]*(?:[ /][A-ZÄÖÜ][\w.-]*){{0,2}}\s*)?{_AGENCY_GROUP}\s*[-–—:]?\s*"
)
_TRAILING_AGENCY = re.compile(rf"\s*{_AGENCY_GROUP}\s*$")
_AGENCY_ONLY = re.compile(rf"^\(?\s*(?:Quelle:\s*)?{_AGENCIES}(?:\s*[/,]\s*[\w.-]+)*\s*\)?\.?$")
_BYLINE = re.compile(
    r"^(?:(?:Ein\s+)?(?:Kommentar|Gastbeitrag|Analyse|Interview|Essay|Bericht)\s+)?"
    r"(?:[Vv]on|By|Text:|Autor(?:in)?:)\s+[A-ZÄÖÜ][\w.'-]+(?:[\s,]+(?:und|and|&|[A-ZÄÖÜ][\w.'-]*))*"
    r"\s*[,|]?\s*(?:[A-ZÄÖÜ][\w-]+)?\s*$"
)
_CREDIT = (
    r"(?:Fotos?|Bild(?:er|quelle)?|Photo|Image|Credit|Grafik|Illustration|Quelle|Source|Copyright|©)"
    r"\s*:?\s*[^\n]{0,80}"
)
_CREDIT_LINE = re.compile(rf"^{_CREDIT}$", re.IGNORECASE)
CAPTION_CREDIT = re.compile(r"^(?:Fotos?|Bild(?:quelle)?|Photo|Image|Quelle|Source)\s*:", re.I)
# A credit may name a photographer by initial ("Foto: A. Muster/dpa"); a sentence ends it.
_CAPTION_WITH_CREDIT = re.compile(
    r"(?:Fotos?|Bild|Photo)\s*:\s*(?:\b[A-ZÄÖÜ]\.|[^.!?]){1,60}"
    r"(?:/|picture alliance|imago|dpa|AFP|Reuters|getty)"
    r"(?:\b[A-ZÄÖÜ]\.|[^.!?]){0,40}$",
    re.IGNORECASE,
)
# The same credit at the end of a caption line, with the mark that sets it off ("•", "|", "-").
_TRAILING_CAPTION_CREDIT = re.compile(
    r"\s*[•·|–—-]?\s*\b" + _CAPTION_WITH_CREDIT.pattern, re.IGNORECASE | re.MULTILINE
)
_CREDIT_OWNERS = re.compile(
    r"picture[ -]alliance|imago(?: images)?|getty images|shutterstock|istock|AFP via Getty", re.I
)
_SEE_ALSO = re.compile(
    r"^(?:[-•»›▶]\s*)?(?:Mehr zum Thema|Mehr zu(?:m|r)?\b.{0,60}\b(?:lesen|finden) Sie|"
    r"Lesen Sie (?:auch|mehr|hier)|Auch interessant|Das könnte Sie auch interessieren|"
    r"Weitere Artikel|Weiterlesen|Ähnliche(?: Artikel| Themen)?:|"
    r"Zum Thema|Mehr dazu|Mehr lesen|Lesetipp|Empfehlungen der Redaktion|Aktuelle Meldungen zu|"
    r"Read more|Read also|Related(?: articles| stories)?:|More on this|See also|Recommended)\b",
    re.IGNORECASE,
)
_CONSENT = re.compile(
    r"\b(?:Cookies?|Datenschutz\w*|Einwilligung|Zustimmung|Tracking|consent|privacy)\b", re.I
)
_CONSENT_ACTION = re.compile(
    r"\b(?:klicken|aktivieren|akzeptieren|zustimmen|nachgeladen|externe[rn]? (?:Inhalte?|Server)|"
    r"Drittanbieter|widerrufen|click|accept|third[- ]party|enable)\b",
    re.I,
)
_NEWSLETTER = re.compile(r"\bNewsletter\b", re.I)
_NEWSLETTER_ACTION = re.compile(
    r"\b(?:abonnieren|anmelden|bestellen|E-Mail|Postfach|kostenlos|subscribe|sign up|inbox)\b", re.I
)
_SOCIAL = re.compile(
    r"^(?:Teilen|Share|Folgen Sie uns|Follow us|Twitter|X|Facebook|WhatsApp|Instagram|Telegram|"
    r"LinkedIn|E-Mail|Mail|Drucken|Print|Link kopieren|Kopieren|Kommentare?|Merken)"
    r"(?:\s*[|,/·•]\s*\w[\w-]*)*\s*:?$",
    re.I,
)
_MEDIA_TEASER = re.compile(r"(?:\d{1,2}:\d{2}\s*min|\|\s*(?:Video|Audio|Podcast))\s*\.?$", re.I)
_LABEL_ONLY = re.compile(
    r"^(?:FAQ|Embed|Anzeige|Werbung|Video|Audio|Grafik|Infografik|Podcast|Liveblog|Bildergalerie|"
    r"Galerie|Advertisement|Sponsored|Exklusiv|Eilmeldung|Update|[\w-]+ Infografik)$",
    re.I,
)
_FEEDBACK = re.compile(
    r"^(?:Fehler\b.{0,40}\bentdeckt\?|Haben Sie einen Fehler|Inhaltliches Feedback\?|"
    r"Wir freuen uns über (?:eine Mail|Ihr Feedback)|Spotted an error|Report an error)",
    re.I,
)
_NO_WORDS = re.compile(r"^[\W_]*$")


def _is_boilerplate_line(line: str) -> bool:
    """True for a whole line that is page furniture rather than article prose."""
    stripped = line.strip().lstrip("-•*» ").strip()
    if _NO_WORDS.match(stripped):
        return True
    words = stripped.split()
    short = len(words) <= 14
    if short and (_CREDIT_LINE.match(stripped) and looks_like_credit(stripped)):
        return True
    if short and (_BYLINE.match(stripped) or _AGENCY_ONLY.match(stripped)):
        return True
    if _CAPTION_WITH_CREDIT.search(stripped) or (short and _CREDIT_OWNERS.search(stripped)):
        return True
    if _SEE_ALSO.match(stripped) or _FEEDBACK.match(stripped):
        return True
    if _CONSENT.search(stripped) and _CONSENT_ACTION.search(stripped) and len(words) < 120:
        return True
    if _NEWSLETTER.search(stripped) and _NEWSLETTER_ACTION.search(stripped) and len(words) < 60:
        return True
    if short and (_SOCIAL.match(stripped) or _LABEL_ONLY.match(stripped)):
        return True
    return bool(_MEDIA_TEASER.search(stripped))


def is_byline_or_agency(line: str) -> bool:
    """True for a line that only names who wrote it: "Von Anna Schmidt", "(dpa)", "AFP/Reuters"."""
    stripped = line.strip()
    return bool(_BYLINE.match(stripped) or _AGENCY_ONLY.match(stripped))


def looks_like_credit(line: str) -> bool:
    """True for "Foto: dpa" or "Quelle: AFP"; False for "Quelle: Die Regierung sagte, ..."."""
    _, _, rest = line.partition(":")
    if not rest:
        return line.startswith("©")
    return not re.search(r"[.!?]\s+\S", rest) and len(rest.split()) <= 8


def strip_caption_credits(text: str) -> str:
    """`text` with the photo credit cut from the end of each line ("... am 15. Juni • Foto: A.
    Name/Reuters" -> "... am 15. Juni"): a feed whose teaser is an image caption keeps the
    caption's words, which clean_text would drop with the credit."""
    return _TRAILING_CAPTION_CREDIT.sub("", text)


def _strip_agency(line: str) -> str:
    previous = None
    while previous != line:
        previous = line
        line = _TRAILING_AGENCY.sub("", _LEADING_AGENCY.sub("", line, count=1))
    return line


def clean_text(text: str, *, language: str = "de") -> str:
    """Drop bylines, agency tags, photo credits, see-also, cookie and newsletter lines from `text`.

    Only removes: every character of the result appears, in order, in `text`. Paragraphs
    (blocks separated by blank lines) stay separated by one blank line. `language` is accepted
    for callers that know it; the rules cover German and English phrasing at once.
    """
    del language  # the phrase lists are bilingual; kept for a stable signature
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [_strip_agency(line.strip()).strip() for line in block.splitlines()]
        kept = [line for line in lines if line and not _is_boilerplate_line(line)]
        if kept:
            paragraphs.append("\n".join(kept))
    return "\n\n".join(paragraphs)


# ---------------------------------------------------------------------------------------------
# Paywall: the text ends in a subscription prompt.

PAYWALL_PROMPT = re.compile(
    r"Jetzt (?:abonnieren|weiterlesen|testen|Abo abschließen|freischalten)|"
    r"Weiterlesen mit \w+\s?(?:Plus|\+)|Sie haben bereits ein (?:Abo|Abonnement|Digitalabo)|"
    r"exklusiv für (?:Abonnenten|Abonnentinnen|Abonnent\*innen)|"
    r"(?:Dieser|Der) (?:Artikel|Beitrag|Inhalt) ist (?:nur )?(?:für )?"
    r"(?:Abonnenten|Abonnentinnen|zahlende)|"
    r"mit (?:einem|Ihrem) (?:Abo|Abonnement)\b.{0,40}\b(?:lesen|weiterlesen|freischalten)|"
    r"(?:Abo|Abonnement) abschließen|Zum Weiterlesen|"
    r"Um (?:den|diesen) (?:Artikel|Beitrag) (?:weiter|vollständig)? ?zu lesen|"
    r"\b(?:[A-Z]{1,4}|Plus|Pur) ?\+ ?(?:Artikel|Abo|lesen)\b|^\s*[A-Z]\+\s*$|\bF\+|"
    r"Subscribe (?:now|to (?:continue|read))|(?:Already|Are you) a subscriber|"
    r"This (?:article|content) is (?:only )?(?:available|reserved) (?:to|for) subscribers|"
    r"continue reading|Become a (?:member|subscriber)|Start your (?:free )?trial",
    re.IGNORECASE | re.MULTILINE,
)


def is_paywalled(text: str) -> bool:
    """True when extracted text ends in a subscription prompt instead of the rest of the article."""
    blocks = [b for b in re.split(r"\n\s*\n|\n", text.strip()) if b.strip()]
    tail = "\n".join(blocks[-3:])[-600:]
    return bool(PAYWALL_PROMPT.search(tail))
