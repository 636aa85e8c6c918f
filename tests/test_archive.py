"""The files in out/: atomic writes, archive page and Atom feed."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import html5lib
import pytest

from digest import archive, pipeline, render
from digest.config import Config, RenderConfig
from digest.models import Article, Digest, Section, Story
from tests.conftest import project_config

XHTML = "{http://www.w3.org/1999/xhtml}"
FEEDS = Path(__file__).parent / "data" / "feeds" / "list.toml"
ZONE = "Europe/Berlin"


def edition(day: date, titles: tuple[str, ...] = ("NATO stärkt die Ostflanke",)) -> Digest:
    moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=5)
    stories = tuple(
        Story(
            lead=Article(
                url=f"https://lagebild.example/{day.isoformat()}/{index}",
                title=title,
                source="Lagebild Aktuell",
                published=moment - timedelta(hours=2),
                text=title,
            ),
            section="Bündnisse",
            key_points=("Ein Satz.",),
        )
        for index, title in enumerate(titles)
    )
    return Digest(
        date=day,
        generated_at=moment,
        title="Sicherheitspolitisches Tagesbriefing",
        sections=(Section("Bündnisse", stories),),
        top=stories[:1],
    )


def write(out: Path, digest: Digest) -> None:
    rendered = render.render(digest, RenderConfig(), timezone=ZONE)
    archive.write_edition(
        out, digest.date, {"digest.html": rendered.html, "digest.json": rendered.json}
    )


def site(out: Path) -> tuple[str, str]:
    editions = archive.read_editions(out)
    config, title = RenderConfig(), "Sicherheitspolitisches Tagesbriefing"
    return (
        render.render_archive(editions, config, title=title, timezone=ZONE),
        render.render_feed(editions, config, title=title, timezone=ZONE),
    )


# --- Atomic files ------------------------------------------------------------------------------


def test_write_atomic_replaces_the_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out" / "index.html"
    archive.write_atomic(target, "alt")
    archive.write_atomic(target, "neu – ä")
    assert target.read_text("utf-8") == "neu – ä"
    assert os.listdir(target.parent) == ["index.html"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    archive.write_atomic(target, "alt")
    with pytest.raises(TypeError):
        archive.write_atomic(target, 12345)  # type: ignore[arg-type]
    assert target.read_text("utf-8") == "alt"
    assert os.listdir(tmp_path) == ["feed.xml"]


# --- Archive page and feed -------------------------------------------------------------------


def test_archive_page_lists_every_edition_newest_first(tmp_path: Path) -> None:
    days = [date(2026, 11, 27), date(2026, 11, 29), date(2026, 11, 28)]
    for day in days:
        write(tmp_path, edition(day, (f"Meldung vom {day.day}. November",)))
    index_html, _ = site(tmp_path)
    tree = html5lib.parse(index_html)
    assert tree.get("lang") == "de"
    hrefs = [a.get("href") for a in tree.iter(XHTML + "a") if a.get("href", "").endswith(".html")]
    editions = [h for h in hrefs if h.endswith("/digest.html")]
    assert editions == [
        "2026-11-29/digest.html",
        "2026-11-28/digest.html",
        "2026-11-27/digest.html",
    ]
    text = " ".join("".join(tree.itertext()).split())
    assert "Sonntag, 29. November 2026" in text
    assert "Meldung vom 28. November" in text
    for href in editions:
        assert (tmp_path / href).is_file()


def test_feed_parses_back_without_errors_newest_first(tmp_path: Path) -> None:
    for day in (date(2026, 11, 28), date(2026, 11, 29)):
        write(tmp_path, edition(day, ("Marine & Küstenschutz: „Aspides“ <verlängert>",)))
    _, feed_xml = site(tmp_path)
    parsed = feedparser.parse(feed_xml.encode("utf-8"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "Sicherheitspolitisches Tagesbriefing"
    titles = [entry.title for entry in parsed.entries]
    assert titles == [
        "Sicherheitspolitisches Tagesbriefing – Sonntag, 29. November 2026",
        "Sicherheitspolitisches Tagesbriefing – Samstag, 28. November 2026",
    ]
    assert len({entry.id for entry in parsed.entries}) == 2
    assert parsed.entries[0].link.endswith("2026-11-29/digest.html")
    assert (
        "Marine &amp; Küstenschutz: „Aspides“ &lt;verlängert&gt;"
        in parsed.entries[0].content[0].value
    )


ATOM = "{http://www.w3.org/2005/Atom}"
# RFC 3339 date-time, as atom:updated must be written (RFC 4287 3.3): offset or Z required.
RFC_3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def assert_valid_atom(feed_xml: str) -> None:
    """What RFC 4287 requires of a feed and its entries (section 4.1), checked on the tree."""
    feed = ET.fromstring(feed_xml)
    assert feed.tag == f"{ATOM}feed"

    def one(parent: ET.Element, name: str) -> ET.Element:
        found = parent.findall(f"{ATOM}{name}")
        assert len(found) == 1, f"{parent.tag} has {len(found)} {name}"
        return found[0]

    for name in ("id", "title", "updated"):
        assert (one(feed, name).text or "").strip()
    assert RFC_3339.fullmatch(one(feed, "updated").text or "")
    # Entries carry no author of their own, so the feed must have one with a name.
    assert (one(one(feed, "author"), "name").text or "").strip()
    links = {(link.get("rel", "alternate"), link.get("type")) for link in feed.iter(f"{ATOM}link")}
    assert ("self", "application/atom+xml") in links
    ids = [one(feed, "id").text]
    for entry in feed.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert (one(entry, name).text or "").strip()
        assert RFC_3339.fullmatch(one(entry, "updated").text or "")
        alternates = [
            link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "alternate"
        ]
        assert len(alternates) == 1 and alternates[0].get("href")
        content = one(entry, "content")
        assert content.get("type") == "html" and len(content) == 0  # escaped markup, no children
        ids.append(one(entry, "id").text)
    assert all(i and i.startswith("urn:uuid:") for i in ids) and len(set(ids)) == len(ids)


def test_feed_is_atom_as_rfc_4287_requires(tmp_path: Path) -> None:
    assert_valid_atom(site(tmp_path)[1])  # no editions yet
    for day in (date(2026, 11, 28), date(2026, 11, 29)):
        write(tmp_path, edition(day, ("Marine & Küstenschutz: „Aspides“ <verlängert>",)))
    assert_valid_atom(site(tmp_path)[1])


def test_feed_entry_ids_are_stable_across_rebuilds(tmp_path: Path) -> None:
    write(tmp_path, edition(date(2026, 11, 29)))
    first = feedparser.parse(site(tmp_path)[1]).entries[0].id
    write(tmp_path, edition(date(2026, 11, 29), ("Eine andere Meldung",)))
    assert feedparser.parse(site(tmp_path)[1]).entries[0].id == first


def test_an_unreadable_edition_is_skipped_not_fatal(tmp_path: Path) -> None:
    write(tmp_path, edition(date(2026, 11, 29)))
    archive.write_edition(tmp_path, date(2026, 11, 28), {"digest.json": "{kaputt"})
    (tmp_path / "notizen").mkdir()
    assert [e.date for e in archive.read_editions(tmp_path)] == [date(2026, 11, 29)]


def test_empty_archive_still_gives_a_valid_page_and_feed(tmp_path: Path) -> None:
    index_html, feed_xml = site(tmp_path)
    assert "Noch keine Ausgaben" in index_html
    assert not feedparser.parse(feed_xml).bozo


# --- Through the pipeline --------------------------------------------------------------------


def pipeline_config(tmp_path: Path) -> Config:
    return project_config(tmp_path, FEEDS)


@pytest.mark.skipif(not FEEDS.is_file(), reason="test feeds missing")
def test_each_build_rewrites_index_and_feed(tmp_path: Path) -> None:
    config = pipeline_config(tmp_path)
    now = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
    pipeline.build(config, day=date(2026, 11, 28), now=now)
    result = pipeline.build(config, day=date(2026, 11, 29), now=now + timedelta(days=1))
    out = tmp_path / "out"
    assert {out / "index.html", out / "feed.xml"} <= set(result.paths)
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo
    assert [e.link.split("/")[-2] for e in parsed.entries] == ["2026-11-29", "2026-11-28"]
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(
        (out / "index.html").read_text("utf-8")
    )
