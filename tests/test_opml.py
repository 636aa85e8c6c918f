"""OPML import and export: feeds, categories as sections, refused URLs, hostile XML, round trips."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.config import load_feed_list
from digest.errors import ConfigError
from digest.models import FeedSource
from digest.opml import feed_list_toml, parse_opml, to_opml, toml_string

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Abonnements</title></head>
  <body>
    <outline type="rss" text="Ohne Kategorie" xmlUrl="https://example.org/feed.xml"
             htmlUrl="https://example.org/"/>
    <outline text="Verteidigung">
      <outline type="rss" text="Truppe &amp; Technik" title="T&amp;T"
               xmlUrl="https://truppe.example/rss" htmlUrl="https://truppe.example/"/>
      <outline text="Unterordner">
        <outline type="rss" title="Nur Titel" xmlUrl="http://tief.example/atom"/>
      </outline>
    </outline>
    <outline type="rss" text="Lokal" xmlUrl="file:///etc/passwd"/>
    <outline type="rss" text="Relativ" xmlUrl="feeds/lokal.xml"/>
    <outline type="rss" text="English" language="en" xmlUrl="https://en.example/feed"/>
  </body>
</opml>
"""


def test_outlines_with_xml_url_become_feeds_named_by_text_then_title() -> None:
    result = parse_opml(READER_EXPORT)
    names = [feed.name for feed in result.feeds]
    assert names == ["Ohne Kategorie", "Truppe & Technik", "Nur Titel", "English"]
    assert result.feeds[1].url == "https://truppe.example/rss"


def test_innermost_category_outline_becomes_the_section() -> None:
    sections = {feed.name: feed.section for feed in parse_opml(READER_EXPORT).feeds}
    assert sections == {
        "Ohne Kategorie": None,
        "Truppe & Technik": "Verteidigung",
        "Nur Titel": "Unterordner",
        "English": None,
    }


def test_language_attribute_is_kept_and_defaults_to_german() -> None:
    languages = {feed.name: feed.language for feed in parse_opml(READER_EXPORT).feeds}
    assert languages["English"] == "en"
    assert languages["Ohne Kategorie"] == "de"


def test_non_http_xml_urls_are_refused_with_a_warning_each() -> None:
    result = parse_opml(READER_EXPORT)
    assert all(feed.url.startswith(("http://", "https://")) for feed in result.feeds)
    assert len(result.warnings) == 2
    assert any("file:///etc/passwd" in warning for warning in result.warnings)
    assert any("feeds/lokal.xml" in warning for warning in result.warnings)


def test_repeated_url_is_kept_once_and_repeated_name_is_made_unique() -> None:
    document = b"""<opml version="2.0"><head/><body>
      <outline type="rss" text="A" xmlUrl="https://a.example/feed"/>
      <outline type="rss" text="A" xmlUrl="https://a.example/feed"/>
      <outline type="rss" text="A" xmlUrl="https://b.example/feed"/>
      <outline type="rss" text="A" xmlUrl="https://c.example/feed"/>
    </body></opml>"""
    result = parse_opml(document)
    assert [feed.name for feed in result.feeds] == ["A", "A (2)", "A (3)"]
    assert len(result.warnings) == 1


def test_entity_declarations_are_refused_not_expanded() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<opml version="2.0"><head/><body><outline type="rss" text="&b;" xmlUrl="https://x.example/"/>
</body></opml>"""
    with pytest.raises(ConfigError, match="DOCTYPE"):
        parse_opml(bomb)


def test_external_entities_are_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("geheim", encoding="utf-8")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<opml version="2.0"><head/><body>'
        '<outline type="rss" text="&x;" xmlUrl="https://x.example/"/></body></opml>'
    ).encode()
    with pytest.raises(ConfigError) as caught:
        parse_opml(document)
    assert "geheim" not in str(caught.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"", "not well-formed"),
        (b"<opml><body><outline", "not well-formed"),
        (b"<rss version='2.0'><channel/></rss>", "not an OPML document"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
    ],
)
def test_broken_or_foreign_documents_give_a_clear_config_error(
    document: bytes, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_opml(document)


def test_export_groups_by_section_and_leaves_out_local_files() -> None:
    feeds = [
        FeedSource("Eins", "https://eins.example/rss", section="Verteidigung"),
        FeedSource("Lokal", "/srv/feeds/lokal.xml"),
        FeedSource("Zwei", "https://zwei.example/rss", weight=1.5, language="en"),
        FeedSource("Drei", "https://drei.example/rss", section="Verteidigung"),
    ]
    exported = to_opml(feeds, title="Sicherheitspolitik")
    assert exported.document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert len(exported.warnings) == 1 and "/srv/feeds/lokal.xml" in exported.warnings[0]
    back = parse_opml(exported.document)
    assert [feed.name for feed in back.feeds] == ["Eins", "Drei", "Zwei"]
    assert {feed.name: feed for feed in back.feeds}["Zwei"] == feeds[2]
    assert back.warnings == ()


def test_toml_string_escapes_quotes_backslashes_and_controls() -> None:
    text = 'Er sagte "ja" \\ nein\n\ttab\x01\x7f'
    assert tomllib.loads(f"value = {toml_string(text)}")["value"] == text


def _names() -> st.SearchStrategy[str]:
    # Names as a feed list holds them: trimmed, non-empty, characters XML can carry.
    alphabet = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    return (
        st.text(alphabet | st.sampled_from("\"\\&<>'"), min_size=1, max_size=30)
        .map(str.strip)
        .filter(bool)
    )


_feed_lists = st.lists(
    st.builds(
        FeedSource,
        name=_names(),
        url=st.from_regex(
            r"https://[a-z]{1,10}\.example/[a-z0-9/]{0,12}(\?q=[a-z&=]{0,8})?", fullmatch=True
        ),
        language=st.sampled_from(["de", "en", "fr"]),
        section=st.none() | _names(),
        weight=st.sampled_from([1.0, 0.5, 1.25, 3.0]),
    ),
    max_size=8,
    unique_by=(lambda f: f.name, lambda f: f.url),
)


def _by_section(feeds: list[FeedSource]) -> list[FeedSource]:
    """The order export writes: sectionless feeds in place, each section's feeds together."""
    order: dict[str | None, list[FeedSource]] = {}
    for feed in feeds:
        order.setdefault(feed.section, []).append(feed)
    placed: list[FeedSource] = []
    seen: set[str | None] = set()
    for feed in feeds:
        if feed.section is None:
            placed.append(feed)
        elif feed.section not in seen:
            seen.add(feed.section)
            placed.extend(order[feed.section])
    return placed


@given(_feed_lists)
def test_export_then_import_gives_the_same_feed_list(feeds: list[FeedSource]) -> None:
    back = parse_opml(to_opml(feeds, title="Liste").document)
    assert back.warnings == ()
    assert sorted(back.feeds, key=lambda f: f.name) == sorted(feeds, key=lambda f: f.name)
    assert list(back.feeds) == _by_section(feeds)


@given(_feed_lists)
def test_written_toml_feed_list_reads_back_to_the_same_feeds(feeds: list[FeedSource]) -> None:
    text = feed_list_toml(feeds, comment="Imported\nfrom OPML")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "feeds.toml"
        path.write_text(text, encoding="utf-8")
        assert load_feed_list(path) == tuple(feeds)
