"""Property tests: arbitrary bytes and Unicode never make the parsing and text layers crash."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.errors import FeedError
from digest.feeds import html_to_text, parse_feed
from digest.models import FeedSource
from digest.nlp import split_sentences
from digest.render import joined_url, reference_lines, wrap_text
from digest.urls import canonical_url

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
