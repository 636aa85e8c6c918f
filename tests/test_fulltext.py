"""Full text behind teaser-only feeds: a feed and its article pages served from 127.0.0.1,
built through the whole pipeline; the page cache; `digest extract`."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from digest import fulltext, pipeline
from digest import select as select_stage
from digest.cli import main
from digest.config import Config, ExtractConfig
from digest.extract import full_article, needs_page
from digest.models import (
    MARKER_NO_DATE,
    MARKER_PAYWALL,
    MARKER_TEASER_ONLY,
    Article,
)
from digest.store import Store
from digest.workers import IN_PROCESS_LIMIT
from tests.conftest import Handler, Reply, Server, project_config

PAGES = Path(__file__).parent / "data" / "pages"
DAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
PUBLISHED = "Sun, 29 Nov 2026 04:00:00 GMT"
HTML = {"Content-Type": "text/html; charset=utf-8"}

StartServer = Callable[[Handler | Mapping[str, Handler | Reply]], Server]

# Teasers as German feeds carry them: one or two sentences.
MANOEVER_TEASER = (
    "Mehr als 2000 Soldatinnen und Soldaten proben an der Ostsee die Abwehr von Drohnen."
)
CYBER_TEASER = "Nach einem Cyberangriff waren zwei Notrufleitstellen stundenlang eingeschränkt."
NATO_TEASER = (
    "Die Nato ordnet ihre Ostflanke neu; für die Bundeswehr heißt das: eine Brigade in Litauen."
)
GONE_TEASER = "Das Verteidigungsministerium prüft neue Verträge für Artilleriemunition."
ENGLISH_TEASER = "Die EU-Verteidigungsminister wollen Munition künftig gemeinsam kaufen."


def page(name: str) -> Reply:
    return Reply(body=(PAGES / name).read_bytes(), headers=HTML)


def rss(items: Sequence[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 feed of (title, link, description) items, all published at PUBLISHED."""
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(text)}</description><pubDate>{PUBLISHED}</pubDate></item>"
        for title, link, text in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Testfeed</title><link>https://testfeed.example/</link>"
        f"<description>Teaser-Feed</description>{entries}</channel></rss>"
    ).encode()


def config_for(
    tmp_path: Path,
    feed_url: str,
    *,
    allow_private: bool = True,
    languages: tuple[str, ...] = ("de",),
) -> Config:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(
        f'[[feeds]]\nname = "Testfeed"\nurl = "{feed_url}"\nlanguage = "de"\n', encoding="utf-8"
    )
    return project_config(
        tmp_path,
        feeds,
        keep_everything=True,
        languages=languages,
        extract=ExtractConfig(min_words=120, allow_private=allow_private),
    )


def digest_articles(result: pipeline.BuildResult) -> dict[str, Article]:
    """Every article of the built digest, by its link's path."""
    found = {}
    for story in result.digest.stories:
        for article in story.articles:
            found["/" + article.url.split("/", 3)[3]] = article
    return found


def page_paths(server: Server) -> list[str]:
    return [r.path for r in server.requests if r.path != "/feed.xml"]


def serve_feed(
    http_server: StartServer,
    items: Sequence[tuple[str, str, str]],
    pages: Mapping[str, Reply],
) -> Server:
    """A server with the feed at /feed.xml (its links may name the server as {base}) and pages."""
    feed: dict[str, Reply] = {}
    server = http_server({**pages, "/feed.xml": lambda request: feed["reply"]})
    filled = [(t, link.format(base=server.base), text) for t, link, text in items]
    feed["reply"] = Reply(body=rss(filled), headers={"Content-Type": "application/rss+xml"})
    return server


# ---------------------------------------------------------------------------------------------
# Teaser-only items get the main text of their page.


@pytest.fixture
def built(tmp_path: Path, http_server: StartServer) -> tuple[pipeline.BuildResult, Server]:
    items = [
        ("Bundeswehr übt Luftverteidigung", "{base}/politik/manoever", MANOEVER_TEASER),
        ("Cyberangriff auf Leitstellen", "{base}/inland/leitstellen", CYBER_TEASER),
        ("Nato ordnet Ostflanke neu", "{base}/plus/ostflanke", NATO_TEASER),
        ("Munition für die Bundeswehr", "{base}/politik/geloescht", GONE_TEASER),
    ]
    pages = {
        "/politik/manoever": page("nachrichten_article.html"),
        "/inland/leitstellen": page("rundfunk_article.html"),
        "/plus/ostflanke": page("paywalled_article.html"),
    }
    server = serve_feed(http_server, items, pages)
    result = pipeline.build(config_for(tmp_path, server.url("/feed.xml")), day=DAY, now=NOW)
    return result, server


def test_teaser_only_item_gets_the_main_text_of_its_page(built: tuple) -> None:
    result, _ = built
    article = digest_articles(result)["/politik/manoever"]
    assert "Radarstationen, Abfangjäger und bodengestützte Systeme" in article.text
    assert "Erste Lieferungen würden noch in diesem Jahr erwartet." in article.text
    assert MARKER_TEASER_ONLY not in article.markers
    assert len(article.text.split()) > 120


@pytest.mark.parametrize(
    "furniture",
    [
        "Cookies",  # consent banner
        "Startseite",  # navigation
        "Lesen Sie auch",
        "Haushaltsstreit",  # a linked teaser of another story
        "picture alliance",  # photo credit
        "Newsletter",
        "Leser123",  # comments
        "ist Redakteurin",  # author bio
        "Von Anna Muster",  # byline
        "(dpa)",  # agency tag
        "Impressum",
    ],
)
def test_page_furniture_does_not_reach_the_digest(built: tuple, furniture: str) -> None:
    result, _ = built
    assert furniture not in digest_articles(result)["/politik/manoever"].text


def test_broadcaster_page_keeps_its_prose_without_links_credits_or_consent(built: tuple) -> None:
    text = digest_articles(built[0])["/inland/leitstellen"].text
    assert text.startswith("Nach einem Angriff auf einen IT-Dienstleister")
    assert "Bis zum Mittwoch sollen alle Leitstellen wieder regulär arbeiten." in text
    for furniture in ("Mehr zum Thema", "Kabinett beschließt", "Bild:", "Einverstanden",
                      "Weitere Meldungen", "Wahlbeteiligung", "| Audio", "(dpa)"):  # fmt: skip
        assert furniture not in text


def test_paragraphs_of_the_page_are_separated_by_blank_lines(built: tuple) -> None:
    text = digest_articles(built[0])["/inland/leitstellen"].text
    paragraphs = text.split("\n\n")
    assert len(paragraphs) >= 5
    assert all(p.strip() == p and "\n" not in p for p in paragraphs)


def test_author_of_the_page_fills_a_missing_feed_author(built: tuple) -> None:
    assert digest_articles(built[0])["/politik/manoever"].author == "Anna Muster"


def test_paywalled_page_is_marked_paywall(built: tuple) -> None:
    article = digest_articles(built[0])["/plus/ostflanke"]
    assert MARKER_PAYWALL in article.markers
    assert "Brigade dauerhaft in Litauen" in article.text
    assert "abonnieren" not in article.text.lower()


def test_teaser_is_kept_and_marked_when_the_page_is_404(built: tuple) -> None:
    result, server = built
    article = digest_articles(result)["/politik/geloescht"]
    assert article.text == GONE_TEASER
    assert MARKER_TEASER_ONLY in article.markers
    assert server.hits("/politik/geloescht") == 1  # a 404 is not retried


def test_every_page_is_fetched_once(built: tuple) -> None:
    _, server = built
    assert sorted(page_paths(server)) == sorted(
        ["/politik/manoever", "/inland/leitstellen", "/plus/ostflanke", "/politik/geloescht"]
    )


# ---------------------------------------------------------------------------------------------
# The page cache.


def test_rebuild_fetches_no_page_again(tmp_path: Path, http_server: StartServer) -> None:
    items = [
        ("Bundeswehr übt Luftverteidigung", "{base}/politik/manoever", MANOEVER_TEASER),
        ("Munition für die Bundeswehr", "{base}/politik/geloescht", GONE_TEASER),
    ]
    server = serve_feed(http_server, items, {"/politik/manoever": page("nachrichten_article.html")})
    config = config_for(tmp_path, server.url("/feed.xml"))
    first = pipeline.build(config, day=DAY, now=NOW)
    second = pipeline.build(config, day=DAY, now=NOW + timedelta(hours=1))
    assert server.hits("/politik/manoever") == 1
    assert server.hits("/politik/geloescht") == 1  # a failure is remembered for a while too
    assert digest_articles(second)["/politik/manoever"].text == (
        digest_articles(first)["/politik/manoever"].text
    )
    assert MARKER_TEASER_ONLY in digest_articles(second)["/politik/geloescht"].markers


def test_failed_page_is_tried_again_after_the_retry_time(
    tmp_path: Path, http_server: StartServer
) -> None:
    items = [("Munition für die Bundeswehr", "{base}/politik/geloescht", GONE_TEASER)]
    server = serve_feed(http_server, items, {})
    config = config_for(tmp_path, server.url("/feed.xml"))
    pipeline.build(config, day=DAY, now=NOW)
    later = NOW + fulltext.PAGE_RETRY_AFTER + timedelta(minutes=1)
    pipeline.build(config, day=DAY, now=later)
    assert server.hits("/politik/geloescht") == 2


# ---------------------------------------------------------------------------------------------
# Links a feed must never make us follow.


def test_link_to_a_private_address_is_not_fetched(tmp_path: Path, http_server: StartServer) -> None:
    items = [
        ("Bundeswehr übt Luftverteidigung", "{base}/politik/manoever", MANOEVER_TEASER),
        ("Cyberangriff auf Leitstellen", "http://10.0.0.1/inland/leitstellen", CYBER_TEASER),
        ("Nato ordnet Ostflanke neu", "http://169.254.169.254/latest/meta-data/", NATO_TEASER),
    ]
    server = serve_feed(http_server, items, {"/politik/manoever": page("nachrichten_article.html")})
    config = config_for(tmp_path, server.url("/feed.xml"), allow_private=False)
    articles = pipeline.build(config, day=DAY, now=NOW).digest.stories
    found = {a.url: a for story in articles for a in story.articles}
    assert page_paths(server) == []  # the feed came from 127.0.0.1; its page links did not
    assert [a.text for a in found.values()].count(MANOEVER_TEASER) == 1
    for article in found.values():
        assert MARKER_TEASER_ONLY in article.markers
    assert {a.text for a in found.values()} == {MANOEVER_TEASER, CYBER_TEASER, NATO_TEASER}


def test_feed_link_to_a_local_file_is_never_read(tmp_path: Path, http_server: StartServer) -> None:
    items = [
        ("Lagebild", "file:///etc/passwd", "Ein Eintrag, der auf eine lokale Datei zeigt."),
        ("Munition für die Bundeswehr", "{base}/politik/umweg", GONE_TEASER),
    ]
    redirect = Reply(status=302, headers={"Location": "file:///etc/passwd"})
    server = serve_feed(http_server, items, {"/politik/umweg": redirect})
    result = pipeline.build(config_for(tmp_path, server.url("/feed.xml")), day=DAY, now=NOW)
    articles = digest_articles(result)
    assert list(articles) == ["/politik/umweg"]  # a file: link makes no article at all
    assert articles["/politik/umweg"].text == GONE_TEASER  # the redirect to file: was refused
    assert MARKER_TEASER_ONLY in articles["/politik/umweg"].markers
    for path in result.paths:
        if path.suffix in (".html", ".txt", ".json", ".xml"):
            assert "root:" not in path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Language: detected on the final text.


@pytest.mark.parametrize(
    ("languages", "kept"), [(("de",), False), (("de", "en"), True)], ids=["de", "de+en"]
)
def test_english_article_enters_only_when_english_is_configured(
    tmp_path: Path, http_server: StartServer, languages: tuple[str, ...], kept: bool
) -> None:
    items = [
        ("Bundeswehr übt Luftverteidigung", "{base}/politik/manoever", MANOEVER_TEASER),
        ("EU kauft Munition gemeinsam", "{base}/europa/munition", ENGLISH_TEASER),
    ]
    pages = {
        "/politik/manoever": page("nachrichten_article.html"),
        "/europa/munition": page("english_article.html"),
    }
    server = serve_feed(http_server, items, pages)
    config = config_for(tmp_path, server.url("/feed.xml"), languages=languages)
    result = pipeline.build(config, day=DAY, now=NOW)
    articles = digest_articles(result)
    assert articles["/politik/manoever"].language == "de"
    assert ("/europa/munition" in articles) is kept
    if kept:
        english = articles["/europa/munition"]
        assert english.language == "en"
        story = next(s for s in result.digest.stories if s.lead.url == english.url)
        assert story.key_points
        assert all(point in english.text for point in story.key_points)


# ---------------------------------------------------------------------------------------------
# The article-level rules on their own.


def article(text: str, **changes: object) -> Article:
    base = Article(
        url="https://a.example/artikel",
        title="Bundeswehr übt Luftverteidigung",
        source="Testfeed",
        published=NOW,
        text=text,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


LONG_GERMAN = " ".join(
    ["Die Bundeswehr hat am Montag eine große Übung zur Luftverteidigung begonnen."] * 15
)


def test_long_feed_text_needs_no_page_and_is_only_cleaned() -> None:
    feed = article(f"Von Anna Muster, Berlin\n\n{LONG_GERMAN}\n\nMehr zum Thema: Marine")
    assert not needs_page(feed, 120)
    done = full_article(feed, None, min_words=120)
    assert done.text == LONG_GERMAN
    assert done.markers == ()


def test_teaser_counts_words_after_cleaning() -> None:
    byline_heavy = article("Von Anna Muster, Berlin\n\n" + " ".join(["Wort"] * 119))
    assert needs_page(byline_heavy, 120)


def test_a_teaser_that_is_a_photo_caption_keeps_its_words_and_loses_the_credit() -> None:
    caption = "Der Bundestag beschließt einen Gedenktag für Veteranen • Foto: A. Muster/Reuters"
    done = full_article(article(caption), None, min_words=120)
    assert done.text == "Der Bundestag beschließt einen Gedenktag für Veteranen"


def test_a_credit_alone_still_leaves_only_the_title() -> None:
    done = full_article(article("Foto: A. Muster/dpa"), None, min_words=120)
    assert done.text == "Bundeswehr übt Luftverteidigung"


def test_feed_markers_are_kept_beside_the_teaser_marker() -> None:
    done = full_article(article(MANOEVER_TEASER, markers=(MARKER_NO_DATE,)), None, min_words=120)
    assert done.markers == (MARKER_NO_DATE, MARKER_TEASER_ONLY)


def test_short_text_keeps_the_feed_language() -> None:
    done = full_article(article("Defence ministers meet in Brussels."), None, min_words=120)
    assert done.language == "de"


def test_confident_detection_overrides_the_feed_language() -> None:
    english = " ".join(["Defence ministers agreed on Thursday to buy ammunition together."] * 4)
    assert full_article(article(english), None, min_words=10).language == "en"


# ---------------------------------------------------------------------------------------------
# `digest extract URL|FILE`


def write_config(tmp_path: Path, *, allow_private: bool) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(f"[extract]\nallow_private = {str(allow_private).lower()}\n", encoding="utf-8")
    return path


def test_extract_command_prints_paragraphs_of_a_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, allow_private=False)
    result = CliRunner().invoke(
        main, ["extract", "--config", str(config), str(PAGES / "rundfunk_article.html")]
    )
    assert result.exit_code == 0, result.output
    paragraphs = result.output.strip().split("\n\n")
    assert paragraphs[0].startswith("Nach einem Angriff auf einen IT-Dienstleister")
    assert paragraphs[-1].endswith("wieder regulär arbeiten.")
    assert "Mehr zum Thema" not in result.output


def test_extract_command_prints_json_fields_of_a_served_page(
    tmp_path: Path, http_server: StartServer
) -> None:
    server = http_server({"/politik/manoever": page("nachrichten_article.html")})
    config = write_config(tmp_path, allow_private=True)
    url = server.url("/politik/manoever")
    result = CliRunner().invoke(main, ["extract", "--config", str(config), "--json", url])
    assert result.exit_code == 0, result.output
    fields = json.loads(result.output)
    assert fields["url"] == url
    assert fields["title"] == "Bundeswehr übt Luftverteidigung an der Ostsee"
    assert fields["author"] == "Anna Muster"
    assert fields["date"] == "2024-05-14T09:30:00+02:00"
    assert fields["language"] == "de"
    assert fields["paywalled"] is False
    assert "Radarstationen" in fields["text"]


def test_extract_command_refuses_a_private_address_unless_allowed(
    tmp_path: Path, http_server: StartServer
) -> None:
    server = http_server({"/politik/manoever": page("nachrichten_article.html")})
    config = write_config(tmp_path, allow_private=False)
    result = CliRunner().invoke(
        main, ["extract", "--config", str(config), server.url("/politik/manoever")]
    )
    assert result.exit_code == 1
    assert "refused" in result.output
    assert server.requests == []


def test_extract_command_rejects_other_schemes(tmp_path: Path) -> None:
    config = write_config(tmp_path, allow_private=True)
    result = CliRunner().invoke(main, ["extract", "--config", str(config), "file:///etc/passwd"])
    assert result.exit_code == 1
    assert "root:" not in result.output


# ---------------------------------------------------------------------------------------------
# Many articles: pages extracted and articles finished in worker processes.

PLACES = "Rostock Kiel Vilnius Tallinn Riga Danzig Stettin Brest Warschau Prag Wien Graz".split()


def long_report(number: int) -> list[str]:
    """Paragraphs of a report of its own: numbers and places differ from one to the next."""
    place = PLACES[number % len(PLACES)]
    return [
        f"Die Bundeswehr hat in {place} eine Übung mit {100 + number} Soldaten begonnen. "
        f"Nach Angaben des Kommandos dauert sie {2 + number % 9} Wochen.",
        f"Geprüft wird die Abwehr von Drohnen über {3 + number % 7} Häfen und Brücken. "
        f"Die Kosten werden auf {20 + number} Millionen Euro geschätzt.",
        *[
            f"Beobachter aus {PLACES[(number + k) % len(PLACES)]} verfolgen den Abschnitt {k}, "
            f"in dem {k + number % 5} Einheiten gemeinsam den Schutz der Küste proben."
            for k in range(1, 9)
        ],
    ]


def report_page(number: int) -> Reply:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in long_report(number))
    body = (
        f"<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'><title>Bericht {number}"
        f"</title></head><body><nav><a href='/'>Startseite</a></nav><main><article>"
        f"<h1>Bericht {number}</h1>{paragraphs}</article></main><footer>Impressum</footer>"
        "</body></html>"
    )
    return Reply(body=body.encode(), headers=HTML)


def test_worker_processes_give_the_articles_of_one_process(
    tmp_path: Path, http_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reports are alike and may be told as a few stories: let every version be shown.
    monkeypatch.setattr(select_stage, "MAX_STORY_VERSIONS", 1000)
    teasers = IN_PROCESS_LIMIT + 8  # enough pages and teasers for the pool
    items = [(f"Bericht {n}", f"{{base}}/bericht/{n}", long_report(n)[0]) for n in range(teasers)]
    items += [
        (f"Meldung {n}", f"{{base}}/meldung/{n}", "\n\n".join(long_report(n)))
        for n in range(teasers, 2 * teasers)
    ]
    items += [
        ("Nato ordnet Ostflanke neu", "{base}/plus/ostflanke", NATO_TEASER),
        ("Munition für die Bundeswehr", "{base}/politik/geloescht", GONE_TEASER),
        ("Leere Seite", "{base}/leer", CYBER_TEASER),
    ]
    pages = {f"/bericht/{n}": report_page(n) for n in range(teasers)}
    pages |= {
        "/plus/ostflanke": page("paywalled_article.html"),
        "/leer": page("empty_article.html"),
    }
    server = serve_feed(http_server, items, pages)
    config = config_for(tmp_path, server.url("/feed.xml"))
    select = dataclasses.replace(config.select, max_total=500, max_per_section=500)
    built = {}
    for processes in (1, 2):
        settings = dataclasses.replace(
            config,
            out_dir=tmp_path / f"out{processes}",
            state_dir=tmp_path / f"state{processes}",
            select=select,
            processes=processes,
        )
        built[processes] = digest_articles(pipeline.build(settings, day=DAY, now=NOW))
    assert len(built[1]) >= 2 * teasers
    assert MARKER_TEASER_ONLY in built[1]["/politik/geloescht"].markers
    assert "Häfen und Brücken" in built[1]["/bericht/0"].text
    assert built[2] == built[1]


# ---------------------------------------------------------------------------------------------
# One poisoned page costs its own article's full text, nothing else.


def gzip_bomb(inflated: int) -> bytes:
    """Gzip of `inflated` bytes of HTML, made piece by piece (never held inflated)."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"<p>" + b"A" * (1 << 20)
    parts = [packer.compress(b"<html><body>")]
    parts += [packer.compress(chunk) for _ in range(inflated // len(chunk))]
    return b"".join([*parts, packer.flush()])


POISON_TEASERS = {
    "/magie": "Die Bundespolizei verstärkt Kontrollen an der Grenze zu Polen.",
    "/bombe": "Ein Hackerangriff legt die Verwaltung einer Kleinstadt lahm.",
    "/umleitung": "Litauen kauft zusätzliche Panzerhaubitzen aus Deutschland.",
}


@pytest.fixture
def poisoned(tmp_path: Path, http_server: StartServer) -> tuple[Config, Server]:
    """A feed whose teasers link a good page and four poisoned ones: bytes that start like gzip
    but are not, gzip sent as text/html inflating past the size cap, a redirect to an invalid
    port, and a link with an invalid port."""
    items = [
        ("Bundeswehr übt Luftverteidigung", "{base}/politik/manoever", MANOEVER_TEASER),
        ("Grenzkontrollen", "{base}/magie", POISON_TEASERS["/magie"]),
        ("Hackerangriff", "{base}/bombe", POISON_TEASERS["/bombe"]),
        ("Panzerhaubitzen", "{base}/umleitung", POISON_TEASERS["/umleitung"]),
        ("Ungültiger Port", "http://127.0.0.1:99999/a", CYBER_TEASER),
    ]
    pages = {
        "/politik/manoever": page("nachrichten_article.html"),
        "/magie": Reply(body=b"\x1f\x8b\x08\x00 kein gzip " * 50, headers=HTML),
        "/bombe": Reply(body=gzip_bomb(64 << 20), headers=HTML),
        "/umleitung": Reply(status=302, headers={"Location": "http://127.0.0.1:99999/b"}),
    }
    server = serve_feed(http_server, items, pages)
    config = config_for(tmp_path, server.url("/feed.xml"))
    small_cap = dataclasses.replace(config.fetch, max_bytes=4_000_000, retries=0)
    return dataclasses.replace(config, fetch=small_cap), server


def test_poisoned_pages_keep_their_teasers_and_the_good_page_its_full_text(
    poisoned: tuple[Config, Server],
) -> None:
    config, _ = poisoned
    result = pipeline.build(config, day=DAY, now=NOW)
    articles = digest_articles(result)
    assert MARKER_TEASER_ONLY not in articles["/politik/manoever"].markers
    assert len(articles["/politik/manoever"].text.split()) > 120
    for path, teaser in POISON_TEASERS.items():
        assert articles[path].text == teaser
        assert MARKER_TEASER_ONLY in articles[path].markers
    assert "/a" not in articles  # a link that is no valid URL cannot be shown: item left out


def test_a_poisoned_page_is_a_failure_in_the_footer_in_digest_json_and_in_explain(
    poisoned: tuple[Config, Server],
) -> None:
    config, _ = poisoned
    pipeline.build(config, day=DAY, now=NOW, explain=True)
    folder = config.out_dir / DAY.isoformat()
    failures = json.loads((folder / "digest.json").read_text("utf-8"))["failures"]
    messages = {f["message"] for f in failures if f["stage"] == "page"}
    assert any("/magie" in m and "corrupt compressed body" in m for m in messages), messages
    assert any("/bombe" in m and "larger than the limit" in m for m in messages), messages
    assert any("/umleitung" in m and "not a valid http(s) URL" in m for m in messages), messages
    assert len(messages) == 3
    text = (folder / "digest.txt").read_text("utf-8")
    assert "Volltext nicht abrufbar, Anriss gezeigt: 3 Artikel (Testfeed)" in " ".join(text.split())
    assert "Volltext nicht abrufbar" in (folder / "digest.html").read_text("utf-8")
    explain = (folder / "explain.txt").read_text("utf-8")
    assert sum(line.startswith("FEHLER | page | Testfeed") for line in explain.splitlines()) == 3


def test_a_failed_page_is_remembered_and_the_next_build_works(
    poisoned: tuple[Config, Server],
) -> None:
    config, server = poisoned
    pipeline.build(config, day=DAY, now=NOW)
    later = NOW + timedelta(days=1)
    pipeline.build(config, day=DAY + timedelta(days=1), now=later)
    for path in ("/magie", "/bombe", "/umleitung"):
        assert server.hits(path) == 1, path


def test_pages_of_a_host_that_never_answers_keep_their_teasers_in_bounded_time(
    tmp_path: Path, http_server: StartServer, silent_server: str
) -> None:
    items = [
        ("Bundeswehr übt Luftverteidigung", "{base}/politik/manoever", MANOEVER_TEASER),
        *((f"Stumm {n}", f"{silent_server}/stumm/{n}", GONE_TEASER + f" ({n})") for n in range(4)),
    ]
    server = serve_feed(http_server, items, {"/politik/manoever": page("nachrichten_article.html")})
    config = config_for(tmp_path, server.url("/feed.xml"))
    fetch = dataclasses.replace(config.fetch, read_timeout=1.0, total_timeout=5.0)
    result = pipeline.build(dataclasses.replace(config, fetch=fetch), day=DAY, now=NOW)
    articles = digest_articles(result)
    assert MARKER_TEASER_ONLY not in articles["/politik/manoever"].markers
    assert all(MARKER_TEASER_ONLY in articles[f"/stumm/{n}"].markers for n in range(4))
    # Two reads time out (two in flight per host), the breaker opens, the other two are skipped.
    messages = sorted(f.message for f in result.failures)
    assert sum("timeout" in m for m in messages) == 2, messages
    assert sum("did not answer earlier in this build" in m for m in messages) == 2, messages
    with Store.open(config.state_path) as store:
        cached = store.pages.cached([f"{silent_server}/stumm/{n}" for n in range(4)])
    assert len(cached) == 2  # the two skipped pages were never tried: not remembered as failed


def test_the_page_stage_ends_at_its_deadline(
    tmp_path: Path, http_server: StartServer, silent_server: str
) -> None:
    items = [(f"Stumm {n}", f"{silent_server}/stumm/{n}", GONE_TEASER) for n in range(3)]
    server = serve_feed(http_server, items, {})
    config = config_for(tmp_path, server.url("/feed.xml"))
    fetch = dataclasses.replace(config.fetch, read_timeout=30.0, pages_deadline=1.0)
    started = time.perf_counter()
    result = pipeline.build(dataclasses.replace(config, fetch=fetch), day=DAY, now=NOW)
    assert time.perf_counter() - started < 1.0 + 4
    assert len(result.failures) == 3
    assert all("deadline of 1 s" in f.message for f in result.failures)
