"""Bytes of a feed (RSS 0.9x/1.0/2.0, Atom) -> entries: plain text, aware UTC dates (pure)."""

from __future__ import annotations

import calendar
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import feedparser
import ftfy
import lxml.html
from lxml import etree

from digest.errors import FeedError
from digest.models import MARKER_FUTURE_DATE, MARKER_NO_DATE, Entry, FeedSource, is_web_url
from digest.textrules import strip_forbidden_chars

_BLOCK_TAGS = frozenset(
    "p div br li h1 h2 h3 h4 h5 h6 blockquote pre tr table ul ol section article header footer"
    " figure figcaption dd dt hr".split()
)
_DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "form", "template", "svg")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_BREAKS = re.compile(r"\s*\n\s*(?:\n\s*)+")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What one feed gave: its entries and the warnings worth a log line."""

    title: str
    entries: tuple[Entry, ...]
    warnings: tuple[str, ...] = ()


# Bounds that keep one huge or hostile feed from dominating a run.
MAX_ITEMS = 500
MAX_TEXT_CHARS = 50_000
MAX_TITLE_CHARS = 400
# SAX messages meaning the document stopped before its elements were closed.
_TRUNCATION_MESSAGES = ("no element found", "unclosed token")


def parse_feed(
    data: bytes,
    *,
    source: FeedSource,
    now: datetime,
    base_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> ParsedFeed:
    """Parse one feed's bytes; raise FeedError when nothing usable is in them (empty, truncated,
    not a feed). Recoverable XML errors keep the items read, with a warning."""
    if not data.strip(b" \t\r\n\0\xef\xbb\xbf"):
        raise FeedError(f"{source.name}: feed is empty")
    if declares_entities(data):
        raise FeedError(
            f"{source.name}: refused: the feed declares XML entities (<!ENTITY> in its DOCTYPE);"
            " entity expansion and external entities are never read"
        )
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if base_url:
        # feedparser resolves relative links and xml:base against Content-Location.
        response_headers["content-location"] = base_url
    # Only the first MAX_ITEMS items are parsed: feedparser needs about 1 s per 10,000 items.
    head, item_count = first_items(data, MAX_ITEMS)
    head = _CHARACTER_REFERENCE.sub(_allowed_reference, head)
    # A stream, never the bytes themselves: feedparser opens bytes that name a local file, so a
    # server answering "/dev/zero" would have it read a file forever.
    try:
        parsed = feedparser.parse(
            io.BytesIO(head),
            response_headers=response_headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as error:  # the parser's own fault on hostile bytes: this feed fails alone
        raise FeedError(f"{source.name}: feed could not be parsed ({_describe(error)})") from None
    warnings = _check(parsed, data, source, cut=len(head) < len(data))
    # A local feed file has no URL of its own; its channel link is the natural base.
    feed_link = base_url or parsed.feed.get("link", "")
    entries = []
    told: set[tuple[str, str, str]] = set()
    repeated = 0
    for raw in parsed.entries[:MAX_ITEMS]:
        entry = _entry(raw, source=source, now=now, feed_link=feed_link)
        if entry is None:
            continue
        # An item of one site repeating an earlier one's title and text says nothing new (and
        # a feed of one item repeated hundreds of times would otherwise make one giant story).
        said = (
            urlsplit(entry.url).hostname or "",
            entry.title.casefold(),
            (entry.content or entry.summary).casefold(),
        )
        if said in told:
            repeated += 1
            continue
        told.add(said)
        entries.append(entry)
    if repeated:
        warnings.append(
            f"{source.name}: {repeated} items repeat an earlier item's site, title and text;"
            " kept the first"
        )
    item_count = max(item_count, len(parsed.entries))
    if item_count > MAX_ITEMS:
        warnings.append(f"{source.name}: {item_count} items, kept the first {MAX_ITEMS}")
    if parsed.entries and not entries:
        warnings.append(f"{source.name}: no item had a title and an http(s) link")
    elif len(entries) < len(parsed.entries[:MAX_ITEMS]):
        left_out = len(parsed.entries[:MAX_ITEMS]) - len(entries)
        warnings.append(
            f"{source.name}: {left_out} item(s) without a title or a valid link left out"
        )
    return ParsedFeed(
        title=_text(parsed.feed.get("title", "")) or source.name,
        entries=tuple(entries),
        warnings=tuple(warnings),
    )


# feedparser keeps "simple" entity declarations and, when expat stops at its amplification limit,
# its loose parser expands them without any limit (a quadratic blowup: one 100 kB entity used a
# million times); external ones name files and URLs. Feeds have no use for either, so a document
# whose prolog declares an entity is refused. Checked in every encoding feedparser reads.
_ENTITY_DECLARATIONS = tuple(
    ("<!ENTITY".encode(encoding), encoding, width)
    for encoding, width in (
        ("utf-8", 1),
        ("utf-16-le", 2),
        ("utf-16-be", 2),
        ("utf-32-le", 4),
        ("utf-32-be", 4),
        ("cp037", 1),
    )
)
_ELEMENT_START = re.compile(r"<[^\W\d]|<[_:]")


def declares_entities(data: bytes) -> bool:
    """True when an entity declaration comes before the first element (inside a DOCTYPE)."""
    for marker, encoding, width in _ENTITY_DECLARATIONS:
        found = data.find(marker)
        while found > 0 and found % width:  # straddles two characters: not this encoding
            found = data.find(marker, found + 1)
        if found != -1 and not _ELEMENT_START.search(data[:found].decode(encoding, "ignore")):
            return True
    return False


# A numeric character reference in the feed's bytes (ASCII-compatible encodings). feedparser
# turns one to a lone surrogate into a crash and one to a control character into that character;
# HTML's rule maps 128-159 to the Windows-1252 characters (&#150; is a dash).
_CHARACTER_REFERENCE = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _allowed_reference(match: re.Match[bytes]) -> bytes:
    """The reference kept, mapped (128-159) or dropped (a character no text may hold)."""
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    if 0x80 <= code <= 0x9F:
        mapped = bytes([code]).decode("cp1252", errors="ignore")
        return f"&#{ord(mapped)};".encode() if mapped else b""
    if code > 0x10FFFF or not strip_forbidden_chars(chr(code)):
        return b""
    return match.group()


_ITEM_START = re.compile(rb"<(?:item|entry)[\s>/]")


def first_items(data: bytes, limit: int) -> tuple[bytes, int]:
    """The document cut just before its item number `limit` + 1 (unchanged when it has no more),
    and how many <item>/<entry> start tags it has."""
    starts = [match.start() for match in _ITEM_START.finditer(data)]
    return (data if len(starts) <= limit else data[: starts[limit]]), len(starts)


def _check(
    parsed: feedparser.FeedParserDict, data: bytes, source: FeedSource, *, cut: bool = False
) -> list[str]:
    """Raise FeedError for what is not a feed; return the warnings for what was repaired.
    `cut`: the document was cut after its first items, so it ends early on purpose."""
    error = parsed.get("bozo_exception") if parsed.bozo else None
    if isinstance(error, feedparser.CharacterEncodingOverride):
        return [f"{source.name}: {error} (read as {parsed.get('encoding', '?')})"]
    if isinstance(error, feedparser.NonXMLContentType):
        error = None
    if error is None:
        if not parsed.entries and not parsed.get("version"):
            kind = "an HTML page" if _looks_like_html(data) else "not RSS, RDF or Atom"
            raise FeedError(f"{source.name}: not a feed ({kind})")
        return []
    problem = _describe(error)
    if cut and parsed.entries and any(m in problem for m in _TRUNCATION_MESSAGES):
        return []
    if _is_truncated(data, problem):
        raise FeedError(f"{source.name}: feed is truncated ({problem})")
    if not parsed.entries:
        kind = "an HTML page" if _looks_like_html(data) else problem
        raise FeedError(f"{source.name}: not a readable feed ({kind})")
    return [f"{source.name}: feed is not well-formed, read what could be read ({problem})"]


def _is_truncated(data: bytes, problem: str) -> bool:
    ending = data.rstrip(b" \t\r\n\0")
    return any(m in problem for m in _TRUNCATION_MESSAGES) or not ending.endswith(b">")


def _looks_like_html(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, paragraphs as blank lines."""
    if "<" not in markup:
        return _tidy(html.unescape(markup))
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return _tidy(markup)
    for bad in list(root.iter(*_DROP_TAGS)):
        bad.drop_tree()
    pieces: list[str] = []
    _walk(root, pieces)
    return _tidy("".join(pieces))


def _walk(element: etree._Element, pieces: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    block = tag in _BLOCK_TAGS
    if block:
        pieces.append("\n\n")
    # Inside HTML, line breaks in the source are plain spaces; only block elements break lines.
    if element.text and tag:
        pieces.append(_WHITESPACE.sub(" ", element.text))
    for child in element:
        _walk(child, pieces)
        if child.tail:
            pieces.append(_WHITESPACE.sub(" ", child.tail))
    if block:
        pieces.append("\n\n")


def _tidy(text: str) -> str:
    """Paragraphs separated by one blank line; a single line break inside one is a hard wrap."""
    paragraphs = _BREAKS.split(text.replace("\r\n", "\n").strip())
    joined = (
        " ".join(_SPACES.sub(" ", line).strip() for line in p.split("\n")) for p in paragraphs
    )
    return "\n\n".join(p.strip() for p in joined if p.strip())


def _text(value: str) -> str:
    """Titles and names: one line of plain text, mojibake repaired, bounded."""
    return " ".join(_plain(value[:MAX_TEXT_CHARS]).split())[:MAX_TITLE_CHARS]


def _body(value: str) -> str:
    """Summaries and contents: plain text, mojibake repaired, bounded."""
    return _plain(value[: 4 * MAX_TEXT_CHARS])[:MAX_TEXT_CHARS]


def _plain(value: str) -> str:
    """Feed markup as plain text without forbidden characters: removed before the HTML parser
    (which refuses them) and again after it (a character reference such as &#1; makes one)."""
    text = html_to_text(strip_forbidden_chars(repair_mojibake(value)))
    return strip_forbidden_chars(text)


# UTF-8 read as Windows-1252 or Latin-1 shows each character of several bytes as a lead byte
# (U+00C2 to U+00F4) followed by characters standing for continuation bytes (0x80-0xBF). Text
# without such a pair cannot be that misreading and skips ftfy, which would spend about 0.1 ms
# judging each text (benchmarks/libraries.py).
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
_CONTINUATION_CHARS = "".join(
    sorted(
        set(_CONTINUATION_BYTES.decode("cp1252", errors="ignore"))
        | set(_CONTINUATION_BYTES.decode("latin-1"))
    )
)
_MISREAD = re.compile("[\u00c2-\u00f4][" + re.escape(_CONTINUATION_CHARS) + "]")


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as Windows-1252 or Latin-1 ("fÃ¼r" -> "für", "ErdoÄŸan" ->
    "Erdoğan"), as ftfy judges it; text that is not such a misreading is left as it is."""
    return ftfy.fix_encoding(text) if _MISREAD.search(text) else text


def _entry(raw: dict, *, source: FeedSource, now: datetime, feed_link: str) -> Entry | None:
    title = _text(raw.get("title", ""))
    link = (raw.get("link") or "").strip()
    if feed_link and link:
        link = urljoin(feed_link, link)
    if not title or not is_web_url(link):
        return None
    markers: list[str] = []
    published = _date(raw)
    if published is None:
        markers.append(MARKER_NO_DATE)
    elif published > now:
        published = now
        markers.append(MARKER_FUTURE_DATE)
    contents = [c.get("value", "") for c in raw.get("content", []) if c.get("value")]
    content = _body(max(contents, key=len)) if contents else ""
    summary = _body(raw.get("summary", "") or "")
    author = _text(raw.get("author", "")) or None
    return Entry(
        feed=source.name,
        title=title,
        url=link,
        guid=strip_forbidden_chars(raw.get("id") or "") or None,
        published=published,
        summary=summary,
        content=content,
        author=author,
        markers=tuple(markers),
        categories=_categories(raw),
    )


MAX_CATEGORIES = 20


def _categories(raw: dict) -> tuple[str, ...]:
    """The item's own categories (RSS <category>, Atom term or label, dc:subject), in order."""
    found: list[str] = []
    for tag in raw.get("tags") or ():
        value = _text(str(tag.get("term") or tag.get("label") or ""))[:100]
        if value and value not in found:
            found.append(value)
    return tuple(found[:MAX_CATEGORIES])


def _date(raw: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get, not feedparser's own: that maps a missing published_parsed to updated_parsed
        # with a deprecation warning, and we ask for updated_parsed ourselves.
        value = dict.get(raw, key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _describe(error: object) -> str:
    if error is None:
        return "unknown error"
    message = str(getattr(error, "getMessage", lambda: error)())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
