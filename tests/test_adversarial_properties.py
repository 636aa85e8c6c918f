"""Property tests: arbitrary bytes and Unicode never make the parsing and text layers crash."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import html5lib
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.config import RenderConfig
from digest.errors import FeedError
from digest.feeds import html_to_text, parse_feed
from digest.models import Article, Digest, Edition, Failure, FeedSource, Section, Story
from digest.nlp import split_sentences
from digest.plaintext import reference_lines, wrap_text
from digest.render import MAX_FEED_EDITIONS, render, render_feed
from digest.urls import canonical_url
from tests.conftest import joined_url

NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
SOURCE = FeedSource("Eigenschaft", "https://property.example/feed")
# XML 1.0 allows these characters; others cannot appear in a well-formed feed at all.
XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff").filter(
        lambda c: c in "\t\n\r" or ord(c) >= 0x20
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_parse_feed_on_arbitrary_bytes_gives_entries_or_feed_error(data: bytes) -> None:
    try:
        parsed = parse_feed(data, source=SOURCE, now=NOW)
    except FeedError:
        return
    for entry in parsed.entries:
        assert entry.url.startswith(("http://", "https://"))


@settings(max_examples=200, deadline=None)
@given(st.lists(XML_TEXT, min_size=1, max_size=5), XML_TEXT)
def test_rss_with_arbitrary_unicode_titles_keeps_each_titles_words(
    titles: list[str], author: str
) -> None:
    items = "".join(
        f"<item><title>{escape(title)}</title><link>https://property.example/{n}</link>"
        f"<author>{escape(author)}</author><description>{escape(title)}</description></item>"
        for n, title in enumerate(titles)
    )
    data = f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()
    try:
        parsed = parse_feed(data, source=SOURCE, now=NOW)
    except FeedError:
        return
    for entry in parsed.entries:
        assert "\n" not in entry.title and "\r" not in entry.title
        assert entry.author is None or "\n" not in entry.author


@given(st.text(max_size=500))
def test_html_to_text_of_arbitrary_markup_never_raises_and_is_tidy(markup: str) -> None:
    text = html_to_text(f"<p>{markup}</p><script>geheim()</script>")
    assert text == text.strip()
    assert "\n\n\n" not in text
    # A closed script element is dropped (unless the markup leaves a raw-text element open,
    # which turns the rest into text: still text, rendered escaped).
    if "<" not in markup:
        assert "geheim()" not in text


@given(st.text(max_size=300))
def test_canonical_url_never_raises_and_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@given(
    st.from_regex(
        r"https?://[a-zA-Z0-9.-]{1,30}(:[0-9]{1,5})?/[^\s#]{0,60}(#.{0,10})?", fullmatch=True
    )
)
def test_canonical_url_of_web_like_urls_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=1_000))
def test_sentence_splitter_never_raises_and_keeps_every_word(text: str) -> None:
    sentences = split_sentences(text)
    assert all(s == s.strip() and s for s in sentences)
    assert "".join("".join(sentences).split()) in "".join(text.split()) or not sentences


@given(st.text(max_size=500), st.integers(min_value=20, max_value=120))
def test_wrap_text_never_exceeds_its_width_and_keeps_the_words(text: str, width: int) -> None:
    wrapped = wrap_text(text, width=width, indent="   ", first=" - ")
    assert all(len(line) <= width for line in wrapped.splitlines())
    assert "".join(wrapped.split()).replace("-", "") == "".join(text.split()).replace("-", "")


@given(
    st.lists(
        st.text(
            st.characters(blacklist_categories=("Zs", "Cc", "Zl", "Zp", "Cs")),
            min_size=1,
            max_size=300,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_reference_lines_stay_within_78_columns_and_give_the_url_back(urls: list[str]) -> None:
    references = [(n, "https://" + url) for n, url in enumerate(urls, start=1)]
    lines = reference_lines(references).splitlines()
    assert all(len(line) <= 78 for line in lines)
    groups: list[list[str]] = []
    for line in lines:
        if line.startswith("["):
            groups.append([line.split("] ", 1)[1]])
        else:
            groups[-1].append(line)
    assert [joined_url(group) for group in groups] == [url for _, url in references]


# --- Whatever text a feed sends, feed.xml stays well-formed and digest.html clean ---------------

ANY_TEXT = st.text(st.characters(codec=None), min_size=1, max_size=80)  # controls, surrogates too
STRICT_HTML = html5lib.HTMLParser(strict=True)


def hostile_rss(title: str, teaser: str) -> bytes:
    """RSS carrying the text as it is (a lone surrogate becomes bytes no UTF-8 decoder accepts)
    and as numeric character references, which decode to any character at all."""
    references = "".join(f"&#{ord(c)};" for c in teaser)
    item = (
        f"<item><title>{escape(title)} Ostflanke</title><link>https://hostile.example/a</link>"
        f"<description>{escape(teaser)} {references} Die Bundeswehr übt.</description></item>"
    )
    document = f'<rss version="2.0"><channel><title>{escape(title)}</title>{item}</channel></rss>'
    return document.encode("utf-8", "surrogatepass")


@settings(max_examples=150, deadline=None)
@given(ANY_TEXT, ANY_TEXT)
def test_feed_xml_and_digest_html_parse_whatever_text_a_feed_sends(title: str, teaser: str) -> None:
    try:
        parsed = parse_feed(hostile_rss(title, teaser), source=SOURCE, now=NOW)
    except FeedError:
        return
    stories = []
    for number, entry in enumerate(parsed.entries):
        article = Article(
            url=f"{entry.url}{number}",
            title=entry.title,
            source=parsed.title,
            published=entry.published or NOW,
            text=entry.summary or entry.title,
            teaser=entry.summary,
            author=entry.author,
        )
        stories.append(Story(lead=article, key_points=(entry.summary[:200] or "Ein Satz.",)))
    digest = Digest(
        date=NOW.date(),
        generated_at=NOW,
        title=parsed.title,
        sections=(Section(parsed.title, tuple(stories)),),
        failures=(Failure(source=parsed.title, stage="page", message=parsed.title),),
    )
    rendered = render(digest, RenderConfig(), timezone="Europe/Berlin")
    STRICT_HTML.parse(rendered.html)  # raises on any parse error, invalid characters included
    edition = Edition.from_json(rendered.json, "2026-11-29/digest.html")
    feed = render_feed([edition], RenderConfig(), title=parsed.title, timezone="Europe/Berlin")
    ET.fromstring(feed.encode("utf-8"))


def test_feed_xml_parses_even_when_an_older_edition_holds_forbidden_characters() -> None:
    data = {
        "date": "2026-11-28",
        "generated_at": NOW.isoformat(),
        "title": "Briefing\x01",
        "top": [{"title": "Titel\x01mit\ufffe Steuerzeichen\ud800", "url": "https://a.example/"}],
        "sections": [{"title": "S\x0b", "stories": []}],
    }
    edition = Edition.from_json(json.dumps(data), "2026-11-28/digest.html")
    feed = render_feed([edition], RenderConfig(), title="Briefing\x1f", timezone="Europe/Berlin")
    root = ET.fromstring(feed.encode("utf-8"))
    assert "Titelmit Steuerzeichen" in ET.tostring(root, encoding="unicode")


def test_the_atom_feed_lists_the_latest_sixty_editions() -> None:
    editions = [
        Edition.from_json(
            json.dumps(
                {
                    "date": (NOW.date() - timedelta(days=n)).isoformat(),
                    "generated_at": NOW.isoformat(),
                    "title": "Briefing",
                    "sections": [],
                }
            ),
            f"{n}/digest.html",
        )
        for n in range(75)
    ]
    feed = render_feed(editions, RenderConfig(), title="Briefing", timezone="Europe/Berlin")
    entries = ET.fromstring(feed.encode("utf-8")).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == MAX_FEED_EDITIONS == 60
    assert entries[0].find("{http://www.w3.org/2005/Atom}link").get("href") == "0/digest.html"
