"""Hostile input: markup, XML attacks, resource abuse, header injection, links to private hosts."""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import re
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import html5lib
import pytest

from digest import mail, pipeline
from digest.config import Config, EmailConfig, FetchConfig
from digest.errors import ConfigError, FeedError
from digest.feeds import MAX_ITEMS, parse_feed
from digest.http import FetchFailure, fetch_feeds, fetch_pages
from digest.models import FeedSource
from tests.conftest import TEST_FEEDS_WINDOW_HOURS, Reply, Server, project_config

HOSTILE = Path(__file__).parent / "data" / "hostile"
GOOD_FEED = Path(__file__).parent / "data" / "feeds" / "alpha.xml"
GOOD_TITLE = "Ostsee: Marine verstärkt Schutz von Unterseekabeln"
# Small limits so that every abuse ends within a second or two (the defaults are 10 MB, 20 s read
# and 60 s total); the one real 50 MB response below runs against the default size cap.
SMALL_CAP = 200_000
FAST = FetchConfig(
    connect_timeout=1.0, read_timeout=1.0, total_timeout=1.5, retries=0, max_bytes=SMALL_CAP
)
StartServer = Callable[..., Server]
DAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
XHTML = "{http://www.w3.org/1999/xhtml}"
EXECUTABLE_ELEMENTS = (
    "script",
    "iframe",
    "frame",
    "form",
    "object",
    "embed",
    "applet",
    "base",
    "meta",
    "link",
    "svg",
    "math",
)


def config_for(tmp_path: Path, feeds: Path) -> Config:
    """The project's defaults writing to tmp_path, keeping every article (no relevance cut)."""
    return project_config(
        tmp_path, feeds, keep_everything=True, window_hours=TEST_FEEDS_WINDOW_HOURS
    )


def write_feed_list(folder: Path, feeds: dict[str, str]) -> Path:
    """A feed list naming each feed (name -> URL or absolute path)."""
    lines = [
        f'[[feeds]]\nname = "{name}"\nurl = "{url}"\nlanguage = "de"\n'
        for name, url in feeds.items()
    ]
    path = folder / "feeds.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def parsed_html(path: Path):
    return html5lib.parse(path.read_bytes(), transport_encoding="utf-8", namespaceHTMLElements=True)


def local_name(tag: object) -> str:
    return tag.removeprefix(XHTML).split("}")[-1] if isinstance(tag, str) else ""


def executable_parts(root) -> list[str]:
    """Everything in a parsed document that could run code or send the reader elsewhere unasked."""
    found = []
    for element in root.iter():
        name = local_name(element.tag)
        if name in EXECUTABLE_ELEMENTS and not (name == "meta" and _harmless_meta(element)):
            found.append(f"<{name}> element")
        for attribute, value in element.attrib.items():
            attribute = attribute.split("}")[-1].lower()
            if attribute.startswith("on"):
                found.append(f"{attribute} attribute on <{name}>")
            squeezed = re.sub(r"[\s\x00-\x1f]+", "", value).lower()
            if attribute in (
                "href",
                "src",
                "action",
                "formaction",
                "xlink:href",
                "background",
            ) and (squeezed.startswith(("javascript:", "data:", "vbscript:"))):
                found.append(f"{attribute}={value!r} on <{name}>")
            if attribute == "style" and ("expression(" in squeezed or "javascript:" in squeezed):
                found.append(f"style={value!r} on <{name}>")
        if name == "style" and element.text:
            squeezed = re.sub(r"\s+", "", element.text).lower()
            if "expression(" in squeezed or "javascript:" in squeezed:
                found.append("executable CSS in <style>")
    return found


def _harmless_meta(element) -> bool:
    """charset, viewport and the like; never http-equiv refresh."""
    return "http-equiv" not in {a.lower() for a in element.attrib} or (
        element.attrib.get("http-equiv", "").lower() in ("content-type", "x-ua-compatible")
    )


def visible_text(root) -> str:
    body = next(e for e in root.iter() if local_name(e.tag) == "body")
    return " ".join(" ".join(body.itertext()).split())


# --- Markup in feed titles, teasers and content ------------------------------------------------


@pytest.fixture(scope="module")
def markup_digest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """digest.html built from tests/data/hostile/markup.toml (one build for the module)."""
    folder = tmp_path_factory.mktemp("markup")
    pipeline.build(config_for(folder, HOSTILE / "markup.toml"), day=DAY, now=NOW)
    return folder / "out" / DAY.isoformat() / "digest.html"


def test_markup_in_feed_fields_never_reaches_digest_html_as_markup(markup_digest: Path) -> None:
    root = parsed_html(markup_digest)
    assert executable_parts(root) == []
    links = [
        e.attrib["href"] for e in root.iter() if local_name(e.tag) == "a" and "href" in e.attrib
    ]
    assert links, "the digest links its articles"
    for link in links:
        assert link.startswith(("https://", "http://", "#", "mailto:")), link
    assert not any("evil.example" in link for link in links)


def test_markup_in_feed_fields_leaves_the_titles_readable(markup_digest: Path) -> None:
    text = visible_text(parsed_html(markup_digest))
    for words in (
        "Marine",
        "verstärkt",
        "Ostsee",
        "Drohnenabwehr",
        "am Flughafen",
        "Cyberangriff",
        "Stadtwerke",
    ):
        assert words in text, words
    assert "Darf nicht erscheinen" not in text
    assert "Dieser Eintrag verlinkt" not in text


def test_markup_escaped_twice_is_shown_as_text_not_run(markup_digest: Path) -> None:
    root = parsed_html(markup_digest)
    # The second item's title decodes to the text '<script>alert("doppelt")</script>': the reader
    # sees it as text (a quoted attribute value may hold '<' as it is), never as an element.
    assert executable_parts(root) == []
    assert 'Drohnenabwehr <script>alert("doppelt")</script> am Flughafen' in visible_text(root)


# --- XML attacks on the feed parser ---------------------------------------------------------


def build_with(tmp_path: Path, feeds: dict[str, str], fetch: FetchConfig | None = None) -> Config:
    """Build the digest of DAY from these feeds plus the good test feed; returns the config."""
    config = config_for(tmp_path, write_feed_list(tmp_path, {**feeds, "Gut": str(GOOD_FEED)}))
    if fetch is not None:
        config = dataclasses.replace(config, fetch=fetch)
    pipeline.build(config, day=DAY, now=NOW)
    return config


def failures_of(config: Config) -> dict[str, str]:
    data = json.loads((config.out_dir / DAY.isoformat() / "digest.json").read_text("utf-8"))
    return {f["source"]: f["message"] for f in data.get("failures", [])}


def shown_titles(config: Config) -> list[str]:
    data = json.loads((config.out_dir / DAY.isoformat() / "digest.json").read_text("utf-8"))
    return [story["title"] for section in data["sections"] for story in section["stories"]]


def files_under(folder: Path) -> Iterator[Path]:
    return (path for path in folder.rglob("*") if path.is_file())


def hostile_copy(tmp_path: Path, name: str, **replacements: str) -> Path:
    text = (HOSTILE / name).read_text("utf-8")
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_billion_laughs_is_refused_without_expansion(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        config = build_with(tmp_path, {"Lachsalve": str(HOSTILE / "billion_laughs.xml")})
    elapsed = time.perf_counter() - started
    # Memory is traced apart from the timed build: tracing slows every allocation down.
    data = (HOSTILE / "billion_laughs.xml").read_bytes()
    tracemalloc.start()
    with pytest.raises(FeedError, match="entities"):
        parse_feed(data, source=FeedSource("Lachsalve", "https://lol.example/feed"), now=NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "entities" in failures_of(config)["Lachsalve"]
    assert any(
        "Lachsalve" in r.getMessage() and "entities" in r.getMessage() for r in caplog.records
    )
    assert GOOD_TITLE in shown_titles(config)
    assert "lollol" not in "".join(
        p.read_text("utf-8", "replace") for p in files_under(config.out_dir)
    )
    assert elapsed < 30 and peak < 1_000_000


def test_quadratic_entity_blowup_is_refused_before_parsing() -> None:
    # One 100 kB entity used 3,000 times: 300 MB if anything expanded it (expat stops at its
    # amplification limit, but feedparser's loose parser then expands it without one).
    entity = "A" * 100_000
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "{entity}">\n]>\n'
        f'<rss version="2.0"><channel><title>t</title><item><title>{"&a;" * 3000}</title>'
        "<link>https://blowup.example/a</link></item></channel></rss>"
    ).encode()
    tracemalloc.start()
    with pytest.raises(FeedError, match="entities"):
        parse_feed(data, source=FeedSource("Blowup", "https://blowup.example/feed"), now=NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * len(data)


def test_external_entity_does_not_read_a_local_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("GEHEIM-MARKER-7f3a", encoding="utf-8")
    feed = hostile_copy(tmp_path, "xxe.xml", SECRET_PATH=str(secret))
    config = build_with(tmp_path, {"Dateileser": str(feed)})
    assert "entities" in failures_of(config)["Dateileser"]
    for path in files_under(config.out_dir):
        assert b"GEHEIM-MARKER" not in path.read_bytes(), path
    assert GOOD_TITLE in shown_titles(config)


def test_dtd_fetches_send_no_request(tmp_path: Path, http_server: StartServer) -> None:
    server = http_server({})
    with_subset = hostile_copy(tmp_path, "external_dtd.xml", SERVER=server.base)
    only_dtd = hostile_copy(tmp_path, "external_dtd_only.xml", SERVER=server.base)
    config = build_with(tmp_path, {"Nachlader": str(with_subset), "Nur DTD": str(only_dtd)})
    assert server.requests == []
    assert "entities" in failures_of(config)["Nachlader"]
    assert "Bundeswehr übt Verlegung nach Litauen" in shown_titles(config)


def test_feed_body_naming_a_local_file_is_not_opened(tmp_path: Path) -> None:
    local = tmp_path / "local.xml"
    local.write_text(
        '<rss version="2.0"><channel><title>Lokal</title><item><title>LOKALE-DATEI-MARKER</title>'
        "<link>https://local.example/a</link></item></channel></rss>",
        encoding="utf-8",
    )
    body = str(local).encode()  # what a hostile server could answer instead of a feed
    with pytest.raises(FeedError) as refused:
        parse_feed(body, source=FeedSource("Pfad", "https://path.example/feed"), now=NOW)
    assert "LOKALE-DATEI-MARKER" not in str(refused.value)


# --- Resource abuse ---------------------------------------------------------------------------


def many_items_feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Meldung {i}</title><link>https://many.example/{i}</link></item>"
        for i in range(count)
    )
    channel = f"<channel><title>Viel</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def test_feed_of_100000_items_keeps_the_first_items_in_bounded_time() -> None:
    data = many_items_feed(100_000)
    source = FeedSource("Viel", "https://many.example/feed")
    started = time.perf_counter()
    parsed = parse_feed(data, source=source, now=NOW)
    elapsed = time.perf_counter() - started
    # Memory is traced in a second parse: tracing slows every allocation, so not while timed.
    tracemalloc.start()
    parse_feed(data, source=source, now=NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(parsed.entries) == MAX_ITEMS
    assert parsed.entries[-1].title == f"Meldung {MAX_ITEMS - 1}"
    assert any("100000 items" in w for w in parsed.warnings)
    assert elapsed < 3.0, elapsed
    assert peak < 10 * len(data)


def endless(chunk: bytes) -> Iterator[bytes]:
    return itertools.repeat(chunk)


def fifty_megabytes() -> Iterator[bytes]:
    """A feed whose one item is 50 MB, produced piece by piece (never held in memory)."""
    yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>Riesig</title><item>'
    yield b"<title>Riesig</title><link>https://huge.example/a</link><description>"
    yield from itertools.repeat(b"Abc " * 16_384, 50 * 1024 * 1024 // 65_536)
    yield b"</description></item></channel></rss>"


def slow_drip() -> Iterator[bytes]:
    for byte in itertools.cycle(b"<rss>"):
        time.sleep(0.5)
        yield bytes([byte])


def test_real_50_mb_response_is_cut_at_the_default_size_cap_with_bounded_memory(
    http_server: StartServer,
) -> None:
    server = http_server({"/huge.xml": lambda _: Reply(chunks=fifty_megabytes())})
    default = FetchConfig()
    tracemalloc.start()
    (result,) = fetch_feeds(
        [FeedSource("Riesig", server.url("/huge.xml"))], dataclasses.replace(default, retries=0)
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert isinstance(result, FetchFailure) and result.status == "too-large"
    assert peak < 3 * default.max_bytes


def test_huge_endless_and_slow_drip_sources_fail_and_the_rest_of_the_digest_is_built(
    tmp_path: Path, http_server: StartServer
) -> None:
    server = http_server(
        {
            "/huge.xml": lambda _: Reply(chunks=fifty_megabytes()),
            "/endless.xml": lambda _: Reply(chunks=endless(b"<item>" * 10_000)),
            "/drip.xml": lambda _: Reply(chunks=slow_drip()),
        }
    )
    started = time.perf_counter()
    config = build_with(
        tmp_path,
        {
            "Riesig": server.url("/huge.xml"),
            "Endlos": server.url("/endless.xml"),
            "Tropf": server.url("/drip.xml"),
        },
        fetch=FAST,
    )
    elapsed = time.perf_counter() - started
    failed = failures_of(config)
    assert f"limit of {SMALL_CAP} bytes" in failed["Riesig"]
    assert f"limit of {SMALL_CAP} bytes" in failed["Endlos"]
    assert "timeout" in failed["Tropf"]
    assert GOOD_TITLE in shown_titles(config)
    assert elapsed < 15, elapsed


def test_page_that_never_ends_is_cut_by_the_size_cap(http_server: StartServer) -> None:
    server = http_server({"/page": lambda _: Reply(chunks=endless(b"<p>Text " * 8_192))})
    started = time.perf_counter()
    (result,) = fetch_pages([server.url("/page")], FAST, allow_private=True)
    assert isinstance(result, FetchFailure) and result.status == "too-large"
    assert time.perf_counter() - started < 3


def test_slow_drip_page_is_ended_by_the_total_timeout(http_server: StartServer) -> None:
    server = http_server({"/page": lambda _: Reply(chunks=slow_drip())})
    started = time.perf_counter()
    (result,) = fetch_pages([server.url("/page")], FAST, allow_private=True)
    elapsed = time.perf_counter() - started
    assert isinstance(result, FetchFailure) and result.status == "timeout"
    assert elapsed < FAST.total_timeout + 1.5, elapsed


# --- Header injection ---------------------------------------------------------------------------

EXPECTED_HEADERS = {
    "subject",
    "from",
    "to",
    "date",
    "message-id",
    "auto-submitted",
    "mime-version",
    "content-type",
    "content-language",
    "list-id",
}


def parsed_back(message: mail.EmailMessage):
    return BytesParser(policy=policy.default).parsebytes(message.as_bytes())


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r", "\u2028", "\x85"])
def test_line_breaks_in_subject_title_and_names_add_no_mail_header(newline: str) -> None:
    injected = f"{newline}Bcc: opfer@evil.example{newline}X-Injected: ja"
    subject = mail.make_subject(
        "Briefing – {title} – {date}", DAY, f"29. November 2026{injected}", f"Titel{injected}"
    )
    letter = mail.Letter(day=DAY, subject=subject, text="Text", html="<p>Text</p>")
    sender = mail.Recipient("briefing@example.org", display_name=f"Redaktion{injected}")
    to = mail.Recipient("leser@example.org", display_name=f"Leser{injected}")
    settings = EmailConfig(sender="briefing@example.org", list_id=f"briefing.example.org{injected}")
    message = mail.build_message(letter, sender=sender, to=to, config=settings, now=NOW)
    back = parsed_back(message)
    assert {name.lower() for name in back} == EXPECTED_HEADERS
    assert back["To"].addresses[0].addr_spec == "leser@example.org"
    assert back["From"].addresses[0].addr_spec == "briefing@example.org"
    assert "Bcc: opfer" in str(back["Subject"])  # kept as text on the subject's one line
    assert "\n" not in str(back["Subject"]) and "\r" not in str(back["Subject"])


@pytest.mark.parametrize("field", ["sender", "reply_to"])
def test_line_breaks_in_configured_addresses_are_refused(field: str) -> None:
    settings = EmailConfig(
        host="smtp.example.org", sender="briefing@example.org", to=("leser@example.org",)
    )
    settings = dataclasses.replace(settings, **{field: "a@example.org\r\nBcc: opfer@evil.example"})
    letter = mail.Letter(day=DAY, subject="Briefing", text="Text", html="<p>Text</p>")
    with pytest.raises(ConfigError):
        sender = mail.check_settings(settings)
        mail.build_message(
            letter, sender=sender, to=mail.Recipient("leser@example.org"), config=settings, now=NOW
        )


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_breaks_in_recipient_addresses_are_refused(newline: str) -> None:
    settings = EmailConfig(to=(f"leser@example.org{newline}Bcc: opfer@evil.example",))
    with pytest.raises(ConfigError, match="control characters"):
        mail.load_recipients(settings)


# --- Links to local and private addresses ----------------------------------------------------


# name -> (link, teaser): distinct subjects, so that each item stays a story of its own.
PRIVATE_LINKS = {
    "localhost": (
        "http://localhost:{port}/seite",
        "Die Marine stellt zwei neue Fregatten für die Ostsee in Dienst.",
    ),
    "loopback": (
        "http://127.0.0.1:{port}/seite",
        "Das Kabinett beschließt höhere Ausgaben für den Zivilschutz.",
    ),
    "metadata": (
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "Die Luftwaffe übt mit Eurofightern über der Nordsee.",
    ),
    "privat10": (
        "http://10.0.0.1/intern",
        "Ein Hackerangriff legt die Verwaltung einer Kleinstadt lahm.",
    ),
    "privat192": (
        "http://192.168.1.1/router",
        "Die Bundespolizei verstärkt Kontrollen an der Grenze zu Polen.",
    ),
    "ipv6loopback": (
        "http://[::1]:{port}/seite",
        "Litauen kauft zusätzliche Panzerhaubitzen aus Deutschland.",
    ),
    "dezimal": (
        "http://2130706433:{port}/seite",
        "Der Verfassungsschutz warnt vor Spionage durch Drohnen über Kasernen.",
    ),
    "datei": ("file:///etc/passwd", "Dieser Eintrag hat keinen Weblink."),
}


def private_links_feed(folder: Path, port: int) -> Path:
    items = "".join(
        f"<item><title>Meldung {name}</title><link>{link.format(port=port)}</link>"
        f"<pubDate>Sat, 28 Nov 2026 08:00:00 +0100</pubDate>"
        f"<description>{teaser}</description></item>"
        for name, (link, teaser) in PRIVATE_LINKS.items()
    )
    path = folder / "private.xml"
    path.write_text(
        f'<rss version="2.0"><channel><title>Privat</title>{items}</channel></rss>',
        encoding="utf-8",
    )
    return path


def test_links_to_local_and_private_addresses_are_not_fetched(
    tmp_path: Path, http_server: StartServer
) -> None:
    server = http_server({"/seite": Reply(body=b"<html><body><p>intern</p></body></html>")})
    feed = private_links_feed(tmp_path, int(server.base.rsplit(":", 1)[1]))
    config = build_with(tmp_path, {"Privat": str(feed)}, fetch=FAST)
    assert server.requests == []
    data = json.loads((config.out_dir / DAY.isoformat() / "digest.json").read_text("utf-8"))
    stories = [st for section in data["sections"] for st in section["stories"]]
    # Items titled alike may be told as one story; each keeps its feed teaser.
    story_of = {source["title"]: st for st in stories for source in st["sources"]}
    teasers = {teaser for _, teaser in PRIVATE_LINKS.values()}
    for name in PRIVATE_LINKS:
        if name == "datei":
            assert f"Meldung {name}" not in story_of  # not a web link: never shown or fetched
            continue
        assert set(story_of[f"Meldung {name}"]["key_points"]) <= teasers
    assert "file:" not in (config.out_dir / DAY.isoformat() / "digest.html").read_text("utf-8")
