"""Bytes of a feed (RSS 0.9x/1.0/2.0, Atom) -> entries with plain text and aware UTC dates (pure)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
import lxml.html
from lxml import etree

from digest.errors import FeedError
from digest.models import MARKER_FUTURE_DATE, MARKER_NO_DATE, Entry, FeedSource, is_web_url

_BLOCK_TAGS = frozenset(
    "p div br li h1 h2 h3 h4 h5 h6 blockquote pre tr table ul ol section article header footer"
    " figure figcaption dd dt hr".split()
)
_DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "form", "template", "svg")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_BREAKS = re.compile(r"\s*\n\s*(?:\n\s*)+")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What one feed gave: its entries and the warnings worth a log line."""

    title: str
    entries: tuple[Entry, ...]
    warnings: tuple[str, ...] = ()


def parse_feed(
    data: bytes,
    *,
    source: FeedSource,
    now: datetime,
    base_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> ParsedFeed:
    """Parse one feed's bytes; raise FeedError when nothing usable is in them."""
    if not data.strip():
        raise FeedError(f"{source.name}: feed is empty")
    response_headers = dict(headers or {})
    if base_url:
        # feedparser resolves relative links and xml:base against Content-Location.
        response_headers["content-location"] = base_url
    parsed = feedparser.parse(
        data,
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    warnings = []
    if parsed.bozo:
        problem = _describe(parsed.get("bozo_exception"))
        if not parsed.entries:
            raise FeedError(f"{source.name}: not a readable feed ({problem})")
        warnings.append(f"{source.name}: feed is not well-formed, read what could be read ({problem})")
    # A local feed file has no URL of its own; its channel link is the natural base.
    feed_link = base_url or parsed.feed.get("link", "")
    entries = []
    for raw in parsed.entries:
        entry = _entry(raw, source=source, now=now, feed_link=feed_link)
        if entry is not None:
            entries.append(entry)
    if parsed.entries and not entries:
        warnings.append(f"{source.name}: no item had a title and an http(s) link")
    return ParsedFeed(
        title=_text(parsed.feed.get("title", "")) or source.name,
        entries=tuple(entries),
        warnings=tuple(warnings),
    )


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, paragraphs as blank lines."""
    if "<" not in markup and "&" not in markup:
        return _tidy(markup)
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
    if element.text and tag:
        pieces.append(element.text)
    for child in element:
        _walk(child, pieces)
        if child.tail:
            pieces.append(child.tail)
    if block:
        pieces.append("\n\n")


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BREAKS.sub("\n\n", "\n".join(lines)).strip()


def _text(value: str) -> str:
    """Titles and names: one line of plain text."""
    return " ".join(html_to_text(value).split())


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
    content = html_to_text(max(contents, key=len)) if contents else ""
    summary = html_to_text(raw.get("summary", "") or "")
    author = _text(raw.get("author", "")) or None
    return Entry(
        feed=source.name,
        title=title,
        url=link,
        guid=(raw.get("id") or None),
        published=published,
        summary=summary,
        content=content,
        author=author,
        markers=tuple(markers),
    )


def _date(raw: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
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
