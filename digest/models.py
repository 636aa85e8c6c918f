"""The frozen records passed between the pipeline stages: the shared vocabulary."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

import idna

# Markers shown to the reader next to a story; German because they are displayed as they are.
MARKER_TEASER_ONLY = "nur Anriss"
MARKER_PAYWALL = "Paywall"
MARKER_NO_DATE = "ohne Datum"
MARKER_FUTURE_DATE = "Datum korrigiert"
# The Ressort of stories no other fits (the editorial model names it too, as its fallback).
FALLBACK_SECTION = "Weitere Meldungen"


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a valid host (a DNS name, also internationalised,
    or an IP address) and port (1-65535), without spaces or control characters: the only links
    the digest shows or follows. Checked where a URL enters and on every redirect."""
    if any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when not a number or out of range
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or port == 0 or not parts.hostname:
        return False
    return _is_valid_host(parts.hostname)


_HOST_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.IGNORECASE)


def _is_valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return False
    labels = host.removesuffix(".").split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One feed the operator configured: an http(s) URL or a local file path."""

    name: str
    url: str
    language: str = "de"
    section: str | None = None
    weight: float = 1.0

    @property
    def is_local(self) -> bool:
        return not is_web_url(self.url)


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a parsed feed, its text already reduced to plain text."""

    feed: str
    title: str
    url: str
    guid: str | None
    published: datetime | None
    summary: str
    content: str
    author: str | None = None
    markers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self.published, "published")


@dataclass(frozen=True, slots=True)
class Article:
    """One article ready for selection: canonical link, plain text, an aware date."""

    url: str
    title: str
    source: str
    published: datetime
    text: str
    language: str = "de"
    teaser: str = ""
    author: str | None = None
    section_hint: str | None = None
    weight: float = 1.0
    markers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # the feed's own categories of the item

    def __post_init__(self) -> None:
        if not is_web_url(self.url):
            raise ValueError(f"article link must be http(s): {self.url!r}")
        _require_aware(self.published, "published")


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """The main text of one article page with the metadata found on it."""

    title: str | None
    author: str | None
    date: datetime | None
    text: str
    language: str | None
    paywalled: bool

    def __post_init__(self) -> None:
        _require_aware(self.date, "date")


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the editorial model decided of one article, and the features that weighed most."""

    on_topic: bool
    relevance: float  # on topic and core of the beat, as one probability
    series: bool
    series_probability: float
    sections: tuple[tuple[str, float], ...]  # Ressorts by probability, most likely first
    reasons: tuple[tuple[str, float], ...]  # (feature, contribution) of the relevance decision
    rule: str | None = None  # an operator list that overrode the model


@dataclass(frozen=True, slots=True)
class Considered:
    """What became of one article in the selection, and why: one entry of explain.json."""

    url: str
    title: str
    source: str
    on_topic: bool  # passed the relevance decision, whatever the limits did later
    shown: bool  # appears in the edition (as a lead or under "Auch berichtet von")
    relevance: float
    series: bool
    section: str | None
    section_reason: str | None
    story: str | None  # shared by the articles of one story
    fate: str  # German: why it was shown, cut or dropped
    reasons: tuple[tuple[str, float], ...]
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Story:
    """One event as the reader sees it: a lead article, the other outlets' versions, key points."""

    lead: Article
    others: tuple[Article, ...] = ()
    section: str = FALLBACK_SECTION
    score: float = 0.0
    key_points: tuple[str, ...] = ()

    @property
    def articles(self) -> tuple[Article, ...]:
        return (self.lead, *self.others)

    @property
    def markers(self) -> tuple[str, ...]:
        return self.lead.markers


@dataclass(frozen=True, slots=True)
class Section:
    """One Ressort of the digest with its stories, most important first."""

    title: str
    stories: tuple[Story, ...]

    @property
    def anchor(self) -> str:
        return "ressort-" + "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip(
            "-"
        )


@dataclass(frozen=True, slots=True)
class Failure:
    """Something that went wrong for one source without stopping the digest."""

    source: str
    stage: str
    message: str


@dataclass(frozen=True, slots=True)
class Digest:
    """One edition: everything the renderers need and nothing they must compute."""

    date: date
    generated_at: datetime
    title: str
    sections: tuple[Section, ...]
    top: tuple[Story, ...] = ()
    failures: tuple[Failure, ...] = ()
    omitted: int = 0
    continuations: tuple[Continuation, ...] = ()
    termine: tuple[Termin, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self.generated_at, "generated_at")

    def continuation(self, story: Story) -> Continuation | None:
        """How `story` continues one of an earlier edition, or None when it is new."""
        return next((c for c in self.continuations if c.story == story.lead.url), None)

    @property
    def stories(self) -> tuple[Story, ...]:
        return tuple(story for section in self.sections for story in section.stories)


@dataclass(frozen=True, slots=True)
class EarlierStory:
    """A story as an earlier edition sent it (read back from that edition's digest.json), and
    the (edition date, anchor) of the story it continued itself, if any."""

    day: date
    anchor: str
    title: str
    url: str
    key_points: tuple[str, ...]
    titles: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    continues: tuple[date, str] | None = None

    def __post_init__(self) -> None:
        if not is_web_url(self.url):
            raise ValueError(f"story link must be http(s): {self.url!r}")


@dataclass(frozen=True, slots=True)
class Continuation:
    """Today's story (by its lead's link) continues `anchor` of the edition of `day`, the newest
    of the earlier stories it `matched` (edition date, anchor).

    `unchanged` when none of its sentences says anything those had not sent: such a story is
    listed as "Weiterhin in den Nachrichten", not told again."""

    story: str
    day: date
    anchor: str
    title: str
    similarity: float
    unchanged: bool = False
    sent_points: tuple[str, ...] = ()
    matched: tuple[tuple[date, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Termin:
    """A dated event still to come, in the words of the article that names it."""

    day: date
    sentence: str
    url: str
    source: str
    title: str

    def __post_init__(self) -> None:
        if not is_web_url(self.url):
            raise ValueError(f"termin link must be http(s): {self.url!r}")


@dataclass(frozen=True, slots=True)
class Edition:
    """One built edition as the archive page and the feed list it (read back from digest.json)."""

    date: date
    title: str
    generated_at: datetime
    href: str
    story_count: int
    sections: tuple[tuple[str, int], ...]
    headlines: tuple[tuple[str, str], ...]

    @classmethod
    def from_json(cls, text: str, href: str, headline_count: int = 5) -> Edition:
        """Read back what the archive needs from one edition's digest.json."""
        data = json.loads(text)
        sections = tuple((s["title"], len(s["stories"])) for s in data["sections"])
        top = [(t["title"], t["url"]) for t in data.get("top", [])]
        if not top:
            top = [(s["title"], s["url"]) for sec in data["sections"] for s in sec["stories"]]
        return cls(
            date=date.fromisoformat(data["date"]),
            title=data["title"],
            generated_at=datetime.fromisoformat(data["generated_at"]),
            href=href,
            story_count=sum(count for _, count in sections),
            sections=sections,
            headlines=tuple((t, u) for t, u in top[:headline_count] if is_web_url(u)),
        )


@dataclass(frozen=True, slots=True)
class BuiltEdition:
    """The files of a built edition as out/ holds them, and the title its digest.json gives."""

    day: date
    title: str
    html: str
    text: str
    json: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """The digest rendered for people and machines."""

    subject: str
    html: str
    text: str
    json: str
    preheader: str = ""
