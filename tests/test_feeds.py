"""Feed parsing, and whole builds against a real server where one feed at a time misbehaves."""

from __future__ import annotations

import gzip
import operator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest import pipeline
from digest.config import Config, FetchConfig
from digest.errors import FeedError
from digest.feeds import MAX_ITEMS, parse_feed, repair_mojibake
from digest.models import MARKER_FUTURE_DATE, MARKER_NO_DATE, FeedSource
from digest.store import Store
from tests.conftest import Reply, Request

DATA = Path(__file__).parent / "data" / "ingest"
CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "feeds"
NOW = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
DAY = date(2024, 6, 3)
SOURCE = FeedSource(name="Test", url="http://example.org/feed.xml")
FAST = FetchConfig(connect_timeout=1.0, read_timeout=0.5, total_timeout=2.0, retries=1)


def _good_links(server) -> set[str]:
    """The control feed's two articles; the first link is relative, so it resolves to the server."""
    return {
        server.url("/sicherheit/brigade-litauen.html"),
        "http://example.org/sicherheit/nato-gipfel.html",
    }


def _rss(items: str, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (
        f'{declaration}<rss version="2.0"><channel><title>T</title>'
        f"<link>http://example.org/</link>{items}</channel></rss>"
    ).encode()


def _parse(data: bytes, base_url: str | None = "http://example.org/feed.xml"):
    return parse_feed(data, source=SOURCE, now=NOW, base_url=base_url)


# --- parsing -------------------------------------------------------------------------------


def test_relative_links_resolve_and_tracking_stays_for_the_pipeline() -> None:
    parsed = _parse((DATA / "good.xml").read_bytes())
    assert parsed.entries[0].url.startswith("http://example.org/sicherheit/brigade-litauen.html")
    assert parsed.entries[1].title == "NATO-Gipfel berät über Luftverteidigung & Munition"


def test_windows_1252_declared_as_utf8_decodes_with_a_warning() -> None:
    parsed = _parse((DATA / "cp1252-declared-utf8.xml").read_bytes())
    assert parsed.entries[0].title == "Rüstungsexporte: „Milliarden für Munition“ – 5 € pro Kopf"
    assert parsed.warnings


def test_double_encoded_utf8_is_repaired() -> None:
    title = "Übung „Quadriga“ in Litauen – für 5 €"
    mojibake = title.encode("utf-8").decode("cp1252")
    parsed = _parse(_rss(f"<item><title>{mojibake}</title><link>http://e.org/a</link></item>"))
    assert parsed.entries[0].title == title


def test_byte_order_mark_is_accepted() -> None:
    parsed = _parse(
        b"\xef\xbb\xbf" + _rss("<item><title>Wehrpflicht</title><link>/a</link></item>")
    )
    assert parsed.entries[0].title == "Wehrpflicht"


def test_cdata_and_entities_become_plain_text() -> None:
    items = (
        "<item><title>A &amp;amp; B &#8217;x&#8217;</title><link>/a</link>"
        "<description><![CDATA[<p>Erster &amp; <b>zweiter</b></p>]]></description></item>"
    )
    entry = _parse(_rss(items)).entries[0]
    assert entry.title == "A & B ’x’"
    assert entry.summary == "Erster & zweiter"


def test_recoverable_xml_error_keeps_items_with_a_warning() -> None:
    parsed = _parse((DATA / "broken.xml").read_bytes())
    assert len(parsed.entries) == 2
    assert any("not well-formed" in w for w in parsed.warnings)


def test_truncated_feed_is_a_clear_error() -> None:
    data = (DATA / "good.xml").read_bytes()
    with pytest.raises(FeedError, match="truncated"):
        _parse(data[: len(data) * 2 // 3])


@pytest.mark.parametrize("data", [b"", b"   \n", b"\xef\xbb\xbf\n"])
def test_empty_feed_is_a_clear_error(data: bytes) -> None:
    with pytest.raises(FeedError, match="empty"):
        _parse(data)


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(FeedError, match="HTML page"):
        _parse((DATA / "page.html").read_bytes())


def test_undated_item_is_marked_and_future_date_clamped() -> None:
    items = (
        "<item><title>Ohne</title><link>/a</link></item>"
        "<item><title>Zukunft</title><link>/b</link>"
        "<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>"
        "<item><title>Zone</title><link>/c</link>"
        "<pubDate>Mon, 03 Jun 2024 06:00:00 +0200</pubDate></item>"
    )
    undated, future, zoned = _parse(_rss(items)).entries
    assert undated.published is None and MARKER_NO_DATE in undated.markers
    assert future.published == NOW and MARKER_FUTURE_DATE in future.markers
    assert zoned.published == datetime(2024, 6, 3, 4, 0, tzinfo=UTC)


def test_item_count_is_bounded() -> None:
    items = "".join(
        f"<item><title>T{i}</title><link>/a{i}</link></item>" for i in range(MAX_ITEMS + 20)
    )
    parsed = _parse(_rss(items))
    assert len(parsed.entries) == MAX_ITEMS
    assert any("kept the first" in w for w in parsed.warnings)


def prose(letters: str) -> st.SearchStrategy[str]:
    """Text as feeds write it: words (a capital, if any, only first), quoted or followed by
    punctuation, numbers, dashes and euro signs, between spaces. Not any string: a run such as
    "ß€" or "ßÜÜ" is also the misreading of other characters (U+07C0, U+169A), and which one was
    meant is ftfy's guess; no German word holds one."""
    lower = "".join(c for c in letters if c.islower())
    word = st.builds(operator.add, st.sampled_from(letters), st.text(alphabet=lower, max_size=12))
    marks = st.sampled_from(
        [("", ""), ("„", "“"), ("»", "«"), ("‚", "‘"), ("(", ")")]
        + [("", end) for end in (",", ".", "…", ":", "!", "?", ";")]
    )
    token = st.one_of(
        st.builds(lambda w, m: m[0] + w + m[1], word, marks),
        st.sampled_from(["–", "—", "-", "€", "5", "2026", "12,5", "100 %"]),
    )
    return st.builds(" ".join, st.lists(token, max_size=15))


@given(prose("abcdefghijklmnopqrstuvwxyzäöüßÄÖÜ"))
def test_mojibake_repair_undoes_cp1252_misreading(text: str) -> None:
    assert repair_mojibake(text.encode("utf-8").decode("cp1252")) == text


@given(prose("abcdefghijklmnopqrstuvwxyzäöüßÄÖÜÉéÀàçÇñ"))
def test_mojibake_repair_leaves_clean_text_alone(text: str) -> None:
    assert repair_mojibake(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Erdoğan empfängt Vučić in Ankara.",
        "Błaszczak und Šefčovič über die Ostflanke",
        "Kılıçdaroğlu: „Wir müssen handeln“",
    ],
)
def test_mojibake_repair_undoes_names_beyond_latin_1(text: str) -> None:
    assert repair_mojibake(text.encode("utf-8").decode("latin-1")) == text


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared feed corpus not present")
def test_real_feed_files_parse_or_give_a_clear_error() -> None:
    parsed_any = False
    for path in sorted(CORPUS.iterdir()):
        source = FeedSource(name=path.name, url=str(path))
        try:
            parsed = parse_feed(path.read_bytes(), source=source, now=NOW)
        except FeedError as error:
            assert path.name in str(error)
            assert any(word in str(error) for word in ("empty", "truncated", "not a"))
            continue
        parsed_any = True
        for entry in parsed.entries:
            assert "Ã" not in entry.title and "â€" not in entry.title, (path.name, entry.title)
            assert "&amp;" not in entry.title and "&#" not in entry.title, (path.name, entry.title)
            assert entry.url.startswith(("http://", "https://")), (path.name, entry.url)
            assert entry.published is None or entry.published.tzinfo is not None
    assert parsed_any


# --- whole builds: one feed misbehaves, the others still reach the digest -----------------


def _build(tmp_path: Path, server, bad_path: str, fetch: FetchConfig = FAST):
    feed_list = tmp_path / "feeds.toml"
    feed_list.write_text(
        f'[[feeds]]\nname = "Gut"\nurl = "{server.url("/good.xml")}"\n\n'
        f'[[feeds]]\nname = "Schlecht"\nurl = "{server.url(bad_path)}"\n',
        encoding="utf-8",
    )
    config = Config(
        feeds=feed_list, out_dir=tmp_path / "out", state_dir=tmp_path / "state", fetch=fetch
    )
    result = pipeline.build(config, day=DAY, now=NOW)
    with Store.open(config.state_path) as store:
        health = {h.name: h for h in store.feeds.health()}
    links = {a.url for story in result.digest.stories for a in story.articles}
    assert _good_links(server) <= links
    return result, health, links


def _good(extra: dict) -> dict:
    return {"/good.xml": Reply(body=(DATA / "good.xml").read_bytes()), **extra}


def _assert_bad_feed_failed(result, health, links, status: str) -> None:
    assert health["Gut"].failures == 0
    assert health["Schlecht"].failures == 1 and health["Schlecht"].last_status == status
    assert [f.source for f in result.failures if f.stage == "feed"] == ["Schlecht"]
    text = next(p for p in result.paths if p.name == "digest.txt").read_text(encoding="utf-8")
    assert "Nicht erreichbar" in text and "Schlecht" in text


def test_build_survives_404(tmp_path, http_server) -> None:
    server = http_server(_good({}))
    _assert_bad_feed_failed(*_build(tmp_path, server, "/missing.xml"), status="404")


def test_build_retries_500_then_reads_the_feed(tmp_path, http_server) -> None:
    answers = iter([Reply(status=500), Reply(body=(DATA / "broken.xml").read_bytes())])
    server = http_server(_good({"/flaky.xml": lambda request: next(answers)}))
    _result, health, _links = _build(tmp_path, server, "/flaky.xml")
    assert health["Schlecht"].failures == 0 and health["Schlecht"].last_status == "200"
    assert server.hits("/flaky.xml") == 2


def test_build_survives_a_server_that_never_answers(tmp_path, http_server) -> None:
    server = http_server(_good({"/silent.xml": Reply(delay=20)}))
    fetch = FetchConfig(read_timeout=0.3, total_timeout=1.0, retries=0)
    _assert_bad_feed_failed(*_build(tmp_path, server, "/silent.xml", fetch), status="timeout")


def test_build_survives_body_over_the_cap(tmp_path, http_server) -> None:
    huge = Reply(chunks=(b"<rss>" + b"x" * 100_000 for _ in range(100)))
    server = http_server(_good({"/huge.xml": lambda request: huge}))
    fetch = FetchConfig(read_timeout=1.0, max_bytes=200_000, retries=0)
    _assert_bad_feed_failed(*_build(tmp_path, server, "/huge.xml", fetch), status="too-large")


def test_build_survives_a_gzip_bomb(tmp_path, http_server) -> None:
    bomb = gzip.compress(b" " * 30_000_000)
    server = http_server(
        _good({"/bomb.xml": Reply(body=bomb, headers={"Content-Encoding": "gzip"})})
    )
    fetch = FetchConfig(read_timeout=1.0, max_bytes=1_000_000, retries=0)
    _assert_bad_feed_failed(*_build(tmp_path, server, "/bomb.xml", fetch), status="too-large")


def test_build_survives_a_redirect_loop(tmp_path, http_server) -> None:
    server = http_server(_good({"/loop.xml": Reply(status=302, headers={"Location": "/loop.xml"})}))
    _assert_bad_feed_failed(*_build(tmp_path, server, "/loop.xml"), status="redirects")


def test_build_survives_an_html_page(tmp_path, http_server) -> None:
    page = Reply(body=(DATA / "page.html").read_bytes(), headers={"Content-Type": "text/html"})
    server = http_server(_good({"/page.xml": page}))
    result, health, links = _build(tmp_path, server, "/page.xml")
    _assert_bad_feed_failed(result, health, links, status="unparsable")
    assert "HTML page" in health["Schlecht"].last_error


def test_build_keeps_items_of_partly_readable_xml(tmp_path, http_server) -> None:
    server = http_server(_good({"/broken.xml": Reply(body=(DATA / "broken.xml").read_bytes())}))
    _result, health, links = _build(tmp_path, server, "/broken.xml")
    assert health["Schlecht"].failures == 0
    assert "http://example.com/cyber/angriff.html" in links


def test_build_decodes_windows_1252_declared_as_utf8(tmp_path, http_server) -> None:
    body = (DATA / "cp1252-declared-utf8.xml").read_bytes()
    server = http_server(_good({"/cp.xml": Reply(body=body)}))
    result, health, _links = _build(tmp_path, server, "/cp.xml")
    titles = {a.title for story in result.digest.stories for a in story.articles}
    assert "Rüstungsexporte: „Milliarden für Munition“ – 5 € pro Kopf" in titles
    assert health["Schlecht"].failures == 0


def test_second_build_gets_304_and_parses_nothing(tmp_path, http_server) -> None:
    body = (DATA / "good.xml").read_bytes()

    def conditional(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"g1"':
            return Reply(status=304)
        return Reply(body=body, headers={"ETag": '"g1"'})

    server = http_server({"/good.xml": conditional, "/other.xml": Reply(status=404)})
    _first, _, first_links = _build(tmp_path, server, "/other.xml")
    _again, health, again_links = _build(tmp_path, server, "/other.xml")
    assert (
        server.requests[-2].headers.get("if-none-match") == '"g1"'
        or server.requests[-1].headers.get("if-none-match") == '"g1"'
    )
    assert health["Gut"].last_status == "304" and health["Gut"].etag == '"g1"'
    # Rebuilding the same date gives the same digest, although nothing was parsed this time.
    assert again_links == first_links
    assert health["Schlecht"].failures == 2


@pytest.mark.parametrize(
    "control", ["\x01", "&#1;", "&#x1;", "\ufffe", "&#xFFFF;", "\x1b", "&#55296;", "&#xDFFF;"]
)
def test_a_title_with_a_control_character_loses_only_that_character(control: str) -> None:
    data = (
        f'<rss version="2.0"><channel><title>Kanal{control}</title><item>'
        f"<title>Nato{control} übt</title><link>https://e.example/a</link>"
        f"<description>Text{control} hier</description><guid>g{control}1</guid></item>"
        "</channel></rss>"
    ).encode()
    parsed = parse_feed(data, source=SOURCE, now=NOW)
    (entry,) = parsed.entries
    assert (parsed.title, entry.title, entry.summary, entry.guid) == (
        "Kanal",
        "Nato übt",
        "Text hier",
        "g1",
    )


@pytest.mark.parametrize(
    "link", ["http://e.example:99999/a", "http://e.example/a b", "http://a..b/", "javascript:x"]
)
def test_an_item_whose_link_is_no_valid_url_is_left_out_with_a_warning(link: str) -> None:
    data = (
        '<rss version="2.0"><channel><title>K</title>'
        f"<item><title>Schlecht</title><link>{link}</link></item>"
        "<item><title>Gut</title><link>https://e.example/gut</link></item></channel></rss>"
    ).encode()
    parsed = parse_feed(data, source=SOURCE, now=NOW)
    assert [e.title for e in parsed.entries] == ["Gut"]
    assert any("1 item(s) without a title or a valid link left out" in w for w in parsed.warnings)


def test_a_reference_to_a_windows_1252_position_is_read_as_html_reads_it() -> None:
    data = (
        b'<rss version="2.0"><channel><title>K</title><item><title>Nato &#150; Ostflanke</title>'
        b"<link>https://e.example/a</link></item></channel></rss>"
    )
    (entry,) = parse_feed(data, source=SOURCE, now=NOW).entries
    assert entry.title == "Nato – Ostflanke"
