"""Digest -> subject, HTML email, plain text, JSON, archive page, Atom feed (pure functions)."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import css_inline
import jinja2

from digest import german, plaintext
from digest.config import RenderConfig
from digest.continuity import story_anchor
from digest.errors import RenderError
from digest.models import (
    MARKER_NO_DATE,
    Article,
    Continuation,
    Digest,
    Edition,
    Rendered,
    Section,
    Story,
    Termin,
    is_web_url,
)
from digest.textrules import strip_forbidden_chars

DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ATOM = "http://www.w3.org/2005/Atom"


MAX_ALSO_REPORTED = 5
# The Atom feed lists this many editions, the newest: enough for any reader's catch-up.
MAX_FEED_EDITIONS = 60


def also_reported(story: Story) -> tuple[Article, ...]:
    """The other versions named under a story ("Auch berichtet von"): each other outlet once
    first, then further versions, at most MAX_ALSO_REPORTED; digest.json keeps every version."""
    outlets = {story.lead.source}
    first_of_outlet = []
    for article in story.others:
        if article.source not in outlets:
            outlets.add(article.source)
            first_of_outlet.append(article)
    rest = [a for a in story.others if a not in first_of_outlet]
    return tuple((first_of_outlet + rest)[:MAX_ALSO_REPORTED])


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story as one edition shows it: full or as a compact link, with its text references."""

    story: Story
    full: bool
    number: int
    other_numbers: tuple[int, ...]
    continuation: Continuation | None = None

    @property
    def anchor(self) -> str:
        return story_anchor(self.story.lead.url)

    @property
    def ongoing(self) -> bool:
        """A continued story with nothing new: "Weiterhin in den Nachrichten", title and link."""
        return self.continuation is not None and self.continuation.unchanged

    @property
    def other_references(self) -> tuple[str, ...]:
        """'Outlet [n]' for each version named under the story, as the text edition cites them."""
        named = also_reported(self.story)
        return tuple(
            f"{article.source} [{number}]"
            for article, number in zip(named, self.other_numbers, strict=True)
        )


@dataclass(frozen=True, slots=True)
class SectionView:
    """A section as one edition shows it: full stories, compact ones, the links it introduces."""

    section: Section
    stories: tuple[StoryView, ...]
    references: tuple[tuple[int, str], ...]

    @property
    def full_stories(self) -> tuple[StoryView, ...]:
        return tuple(view for view in self.stories if view.full and not view.ongoing)

    @property
    def compact_stories(self) -> tuple[StoryView, ...]:
        return tuple(view for view in self.stories if not view.full and not view.ongoing)

    @property
    def told_stories(self) -> tuple[StoryView, ...]:
        """Every story told (in full or compact), not those only listed as ongoing."""
        return tuple(view for view in self.stories if not view.ongoing)

    @property
    def ongoing_stories(self) -> tuple[StoryView, ...]:
        return tuple(view for view in self.stories if view.ongoing)


def make_environment(config: RenderConfig, timezone: str) -> jinja2.Environment:
    """One template environment with every filter registered here; user templates come first."""
    folders = [DEFAULT_TEMPLATES]
    if config.template_dir is not None:
        folders.insert(0, config.template_dir)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "xml"), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    zone = ZoneInfo(timezone)
    env.filters["long_date"] = german.long_date
    env.filters["clock"] = lambda moment: german.clock(moment, zone)
    env.filters["day_and_clock"] = lambda moment: german.day_and_clock(moment, zone)
    env.filters["when"] = lambda moment, day: german.when(moment, day, zone)
    env.filters["sources"] = german.count_sources
    env.filters["also_reported"] = also_reported
    env.filters["more_reports"] = more_reports
    env.filters["stories"] = german.count_stories
    env.filters["quoted"] = german.quoted
    env.filters["web_url"] = web_url
    env.filters["wrap"] = plaintext.wrap_text
    env.filters["underline"] = plaintext.underline
    env.filters["reference_lines"] = plaintext.reference_lines
    env.filters["shown_time"] = shown_time
    env.filters["day_and_month"] = german.day_and_month
    return env


# --- Words and links -------------------------------------------------------------------------


def earlier_href(continuation: Continuation, archive_url: str) -> str:
    """The link to the continued story in its edition's archived HTML: under `archive_url`
    when the archive is published, else relative to this edition's folder in out/."""
    path = f"{continuation.day.isoformat()}/digest.html#{continuation.anchor}"
    if archive_url:
        return archive_url.rstrip("/") + "/" + path
    return "../" + path


def shown_time(story: Story) -> bool:
    """Whether a story's time means anything: undated articles carry the build time instead."""
    return MARKER_NO_DATE not in story.markers


def more_reports(story: Story) -> str:
    """' und 3 weitere Berichte' for the versions not named under a story, else ''."""
    return german.more_reports(len(story.others) - len(also_reported(story)))


def web_url(url: str) -> str:
    """The URL if it is http(s), else '': templates link only what passes (defence in depth)."""
    return url if is_web_url(url) else ""


# --- Link numbers: each link once, the text edition's references -----------------------------


def number_links(
    sections: Sequence[Section],
    top: Sequence[Story],
    earlier: dict[str, str] | None = None,
) -> tuple[dict[str, int], list[tuple[tuple[int, str], ...]], tuple[tuple[int, str], ...]]:
    """Number every link once, in reading order of the sections.

    Returns the numbers by URL, the references each section introduces, and those of top stories
    that no section holds (listed after the top block).
    """
    numbers: dict[str, int] = {}

    def introduce(urls: Iterable[str]) -> tuple[tuple[int, str], ...]:
        fresh = []
        for url in urls:
            if url not in numbers and is_web_url(url):
                numbers[url] = len(numbers) + 1
                fresh.append((numbers[url], url))
        return tuple(fresh)

    links = earlier or {}
    per_section = [
        introduce(
            url
            for story in section.stories
            for url in (
                story.lead.url,
                *(a.url for a in also_reported(story)),
                *([links[story.lead.url]] if story.lead.url in links else []),
            )
        )
        for section in sections
    ]
    extra = introduce(story.lead.url for story in top)
    return numbers, per_section, extra


# --- Assembly --------------------------------------------------------------------------------


def render(
    digest: Digest, config: RenderConfig, *, timezone: str, archive_url: str = ""
) -> Rendered:
    """Render one edition; the HTML keeps under config.max_html_bytes by compacting low ranks.
    `archive_url`: where out/ is published, for links to earlier editions (else relative)."""
    env = make_environment(config, timezone)
    env.globals["archive_url"] = archive_url
    env.filters["mark"] = lambda continuation: german.continuation_mark(continuation, digest.date)
    env.filters["earlier_href"] = lambda continuation: earlier_href(continuation, archive_url)
    env.filters["continuation"] = digest.continuation
    numbers, per_section, top_refs = number_links(
        digest.sections, digest.top, _earlier_links(digest, archive_url)
    )
    ranked = rank(digest)
    preheader = make_preheader(digest)
    try:
        subject = env.get_template("subject.txt").render(digest=digest).strip()
        text = env.get_template("digest.txt").render(
            digest=digest,
            termine_refs=_termine_references(digest.termine, numbers),
            sections=views(digest, numbers, per_section, ranked, len(ranked)),
            top_refs=top_refs,
            numbers=numbers,
            width=plaintext.TEXT_WIDTH,
        )
        html = fit_html(
            env,
            digest,
            numbers,
            per_section,
            ranked,
            {"preheader": preheader, "subject": subject},
            config.max_html_bytes,
        )
    except jinja2.TemplateError as error:
        raise RenderError(f"template failed: {error}") from None
    return Rendered(
        subject=subject,
        html=html,
        text=text,
        json=to_json(digest, archive_url),
        preheader=preheader,
    )


def _earlier_links(digest: Digest, archive_url: str) -> dict[str, str]:
    """Lead link -> the http(s) link of the story it continues (only with a published archive)."""
    links = {c.story: earlier_href(c, archive_url) for c in digest.continuations}
    return {story: href for story, href in links.items() if is_web_url(href)}


def _termine_references(
    termine: Sequence[Termin], numbers: dict[str, int]
) -> tuple[tuple[int, str], ...]:
    """References of the Termine links that no section introduced (listed after the box)."""
    fresh: list[tuple[int, str]] = []
    for termin in termine:
        if termin.url not in numbers and is_web_url(termin.url):
            numbers[termin.url] = len(numbers) + 1
            fresh.append((numbers[termin.url], termin.url))
    return tuple(fresh)


def rank(digest: Digest) -> list[str]:
    """Lead URLs from most to least important: top stories first, then by score, then by order."""
    top = [story.lead.url for story in digest.top]
    rest = sorted(enumerate(digest.stories), key=lambda pair: (-pair[1].score, pair[0]))
    order = top + [story.lead.url for _, story in rest]
    return list(dict.fromkeys(order))


def views(
    digest: Digest,
    numbers: dict[str, int],
    per_section: Sequence[tuple[tuple[int, str], ...]],
    ranked: Sequence[str],
    full_count: int,
    shown_count: int | None = None,
) -> tuple[SectionView, ...]:
    """Sections: the `full_count` best stories in full, the rest of the `shown_count` compact."""
    full = set(ranked[:full_count])
    shown = set(ranked[:shown_count]) if shown_count is not None else set(ranked)
    return tuple(
        SectionView(
            section=section,
            stories=tuple(
                StoryView(
                    story=story,
                    full=story.lead.url in full,
                    number=numbers.get(story.lead.url, 0),
                    other_numbers=tuple(numbers.get(a.url, 0) for a in also_reported(story)),
                    continuation=digest.continuation(story),
                )
                for story in section.stories
                if story.lead.url in shown
            ),
            references=references,
        )
        for section, references in zip(digest.sections, per_section, strict=True)
    )


def make_preheader(digest: Digest, limit: int = 160) -> str:
    """The hidden first line mail clients show in the inbox: the top stories' titles."""
    titles = [story.lead.title for story in (digest.top or digest.stories[:3])]
    line = " · ".join(titles) if titles else digest.title
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def fit_html(
    env: jinja2.Environment,
    digest: Digest,
    numbers: dict[str, int],
    per_section: Sequence[tuple[tuple[int, str], ...]],
    ranked: Sequence[str],
    extra: dict[str, str],
    max_bytes: int,
) -> str:
    """The HTML with as many full stories as fit in `max_bytes`.

    Lower-ranked stories become compact links first; only if even the all-compact edition is too
    big are the lowest-ranked links left out (the text part and digest.json still hold them).
    """
    template = env.get_template("digest.html")

    def attempt(full_count: int, shown_count: int) -> str:
        sections = views(digest, numbers, per_section, ranked, full_count, shown_count)
        hidden = len(ranked) - shown_count
        return inline_css(template.render(digest=digest, sections=sections, hidden=hidden, **extra))

    def fits(html: str) -> bool:
        return len(html.encode("utf-8")) <= max_bytes

    total = len(ranked)
    whole = attempt(total, total)
    if fits(whole):
        return whole
    compact = attempt(0, total)
    if fits(compact):
        count = largest_fitting(lambda n: fits(attempt(n, total)), 0, total - 1)
        return attempt(count, total)
    count = largest_fitting(lambda n: fits(attempt(0, n)), 0, total - 1)
    smallest = attempt(0, count)
    if not fits(smallest):
        raise RenderError(f"HTML is over {max_bytes} bytes even without stories")
    return smallest


def largest_fitting(fits: Callable[[int], bool], low: int, high: int) -> int:
    """The largest n in [low, high] with fits(n); fits must be monotone (fits(low) assumed)."""
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def inline_css(html: str) -> str:
    """Move every <style> rule into style attributes, so Gmail and Outlook keep the design."""
    return css_inline.inline(html, load_remote_stylesheets=False, minify_css=True)


# --- digest.json -----------------------------------------------------------------------------


def to_json(digest: Digest, archive_url: str = "") -> str:
    """The whole edition as data; the schema is documented in docs/digest-json.md."""
    return json.dumps(
        {
            "date": digest.date.isoformat(),
            "generated_at": digest.generated_at.isoformat(),
            "title": digest.title,
            "top": [
                {
                    "title": s.lead.title,
                    "url": s.lead.url,
                    "section": s.section,
                    "continued": digest.continuation(s) is not None,
                }
                for s in digest.top
            ],
            "sections": [
                {
                    "title": section.title,
                    "stories": [_story(s, digest, archive_url) for s in section.stories],
                }
                for section in digest.sections
            ],
            "termine": [
                {
                    "date": t.day.isoformat(),
                    "sentence": t.sentence,
                    "url": t.url,
                    "source": t.source,
                    "title": t.title,
                }
                for t in digest.termine
            ],
            "failures": [
                {"source": f.source, "stage": f.stage, "message": f.message}
                for f in digest.failures
            ],
            "omitted": digest.omitted,
        },
        ensure_ascii=False,
        indent=2,
    )


def _story(story: Story, digest: Digest, archive_url: str) -> dict[str, object]:
    continuation = digest.continuation(story)
    return {
        "title": story.lead.title,
        "url": story.lead.url,
        "anchor": story_anchor(story.lead.url),
        "section": story.section,
        "published": story.lead.published.isoformat(),
        "score": story.score,
        "key_points": list(story.key_points),
        "sources": [
            {"name": a.source, "title": a.title, "url": a.url, "published": a.published.isoformat()}
            for a in story.articles
        ],
        "markers": list(story.markers),
        "continues": None
        if continuation is None
        else {
            "date": continuation.day.isoformat(),
            "story": continuation.anchor,
            "title": continuation.title,
            "href": earlier_href(continuation, archive_url),
            "similarity": continuation.similarity,
            "nothing_new": continuation.unchanged,
        },
    }


# --- Archive page and Atom feed ----------------------------------------------------------------


def render_archive(
    editions: Sequence[Edition], config: RenderConfig, *, title: str, timezone: str
) -> str:
    """out/index.html: every edition, newest first."""
    env = make_environment(config, timezone)
    newest_first = sorted(editions, key=lambda e: e.date, reverse=True)
    try:
        return env.get_template("archive.html").render(title=title, editions=newest_first)
    except jinja2.TemplateError as error:
        raise RenderError(f"template failed: {error}") from None


def render_feed(
    editions: Sequence[Edition], config: RenderConfig, *, title: str, timezone: str
) -> str:
    """out/feed.xml: an Atom feed of the latest MAX_FEED_EDITIONS editions, newest first (links
    relative to out/). Well-formed whatever the editions hold: characters XML forbids are left
    out of every text (an edition written by an earlier version may still contain them)."""
    env = make_environment(config, timezone)
    newest_first = sorted(editions, key=lambda e: e.date, reverse=True)[:MAX_FEED_EDITIONS]
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "de"})
    _sub(feed, "id", _urn(title))
    _sub(feed, "title", title)
    _sub(feed, "subtitle", "Das sicherheitspolitische Tagesbriefing als Feed")
    updated = max((e.generated_at for e in newest_first), default=datetime(1970, 1, 1).astimezone())
    _sub(feed, "updated", updated.isoformat())
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _sub(author, "name", "sipo-digest")
    ET.SubElement(
        feed, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": "index.html"}
    )
    ET.SubElement(
        feed, f"{{{ATOM}}}link", {"rel": "self", "type": "application/atom+xml", "href": "feed.xml"}
    )
    try:
        summary = env.get_template("feed_entry.html")
        for edition in newest_first:
            entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
            _sub(entry, "id", _urn(f"{title}/{edition.date.isoformat()}"))
            _sub(entry, "title", f"{edition.title} – {german.long_date(edition.date)}")
            _sub(entry, "updated", edition.generated_at.isoformat())
            ET.SubElement(
                entry,
                f"{{{ATOM}}}link",
                {"rel": "alternate", "type": "text/html", "href": edition.href},
            )
            content = summary.render(edition=edition)
            _sub(entry, "content", content).set("type", "html")
    except jinja2.TemplateError as error:
        raise RenderError(f"template failed: {error}") from None
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _sub(parent: ET.Element, name: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = strip_forbidden_chars(text)
    return element


def _urn(name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"sipo-digest:{name}").urn
