"""`digest feeds check|import|export` against feeds on 127.0.0.1 and files; feed freshness."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from digest.cli import main
from digest.config import FetchConfig, load_feed_list
from digest.http import MAX_FRESH_SECONDS, Fetched, Validators, fetch_feeds, freshness_lifetime
from digest.models import FeedSource
from digest.store import Store
from tests.conftest import Handler, Reply, Server

StartServer = Callable[[Handler | Mapping[str, Handler | Reply]], Server]

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Lage</title><link>http://example.org/</link>
<item><title>Bundestag beraet Wehrdienst</title><link>http://example.org/a1</link>
<pubDate>Mon, 03 Jun 2024 06:00:00 GMT</pubDate><description>Text.</description></item>
</channel></rss>"""
HTML = b"<!DOCTYPE html><html><head><title>Start</title></head><body><p>Hallo</p></body></html>"
ISO_MINUTE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ")


def setup(tmp_path: Path, feeds: list[tuple[str, str]]) -> Path:
    """A config in tmp_path whose feed list holds `feeds` (name, url); fast failing fetches."""
    lines = "".join(f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n\n' for name, url in feeds)
    (tmp_path / "feeds.toml").write_text(lines, encoding="utf-8")
    config = tmp_path / "digest.toml"
    config.write_text(
        '[digest]\nfeeds = "feeds.toml"\nout_dir = "out"\n\n'
        "[fetch]\nretries = 0\nconnect_timeout = 2.0\nread_timeout = 2.0\ntotal_timeout = 5.0\n",
        encoding="utf-8",
    )
    return config


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def table(stdout: str) -> dict[str, list[str]]:
    """Feed name -> its cells, split on runs of two or more spaces."""
    lines = stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["Feed", "Status"]
    return {cells[0]: cells for cells in (re.split(r" {2,}", line) for line in lines[1:])}


@pytest.fixture
def mixed(tmp_path: Path, http_server: StartServer) -> tuple[Path, Server]:
    server = http_server({"/ok.xml": Reply(body=RSS), "/page.html": Reply(body=HTML)})
    config = setup(
        tmp_path,
        [("Gut", server.url("/ok.xml")), ("Weg", server.url("/gone.xml")),
         ("Seite", server.url("/page.html"))],
    )  # fmt: skip
    return config, server


def test_check_fetches_every_feed_and_prints_its_health(mixed: tuple[Path, Server]) -> None:
    config, server = mixed
    code, stdout, stderr = run("feeds", "check", "--config", str(config))
    rows = table(stdout)
    assert rows["Gut"][1] == "200"
    assert ISO_MINUTE.fullmatch(rows["Gut"][2])
    assert rows["Gut"][3:] == ["-", "0"]
    assert rows["Weg"][1] == "404"
    assert rows["Weg"][2] == "-"
    assert ISO_MINUTE.match(rows["Weg"][3]) and "HTTP 404" in rows["Weg"][3]
    assert rows["Weg"][4] == "1"
    assert rows["Seite"][1] == "unparsable" and rows["Seite"][4] == "1"
    assert code == 1
    assert "2 of 3 feeds failing" in stderr
    assert server.hits("/ok.xml") == 1


def test_consecutive_failures_count_up_and_no_fetch_only_reads_the_state(
    mixed: tuple[Path, Server],
) -> None:
    config, server = mixed
    run("feeds", "check", "--config", str(config))
    run("feeds", "check", "--config", str(config))
    requests = len(server.requests)
    code, stdout, _ = run("feeds", "check", "--no-fetch", "--config", str(config))
    assert len(server.requests) == requests
    assert table(stdout)["Weg"][4] == "2"
    assert table(stdout)["Gut"][4] == "0"
    assert code == 1


def test_all_feeds_healthy_exits_zero(tmp_path: Path, http_server: StartServer) -> None:
    server = http_server({"/a.xml": Reply(body=RSS), "/b.xml": Reply(body=RSS)})
    config = setup(tmp_path, [("A", server.url("/a.xml")), ("B", server.url("/b.xml"))])
    code, stdout, _ = run("feeds", "check", "--config", str(config))
    assert code == 0, stdout
    assert set(table(stdout)) == {"A", "B"}


def test_feeds_never_checked_show_unchecked_and_do_not_fail(tmp_path: Path) -> None:
    config = setup(tmp_path, [("Neu", "https://neu.example/feed.xml")])
    code, stdout, _ = run("feeds", "check", "--no-fetch", "--config", str(config))
    assert table(stdout)["Neu"] == ["Neu", "unchecked", "-", "-", "0"]
    assert code == 0


def test_check_sends_no_validators_and_keeps_those_of_the_last_build(
    tmp_path: Path, http_server: StartServer
) -> None:
    server = http_server({"/a.xml": Reply(body=RSS, headers={"ETag": '"neu"'})})
    config = setup(tmp_path, [("A", server.url("/a.xml"))])
    with Store.open(tmp_path / "state" / "state.sqlite") as store:
        store.feeds.record(
            "A", datetime(2024, 6, 1, tzinfo=UTC), None, "200",
            url=server.url("/a.xml"), etag='"alt"', last_modified="Sat, 01 Jun 2024 00:00:00 GMT",
        )  # fmt: skip
    code, _, _ = run("feeds", "check", "--config", str(config))
    assert code == 0
    assert "if-none-match" not in server.requests[0].headers
    with Store.open(tmp_path / "state" / "state.sqlite") as store:
        (health,) = store.feeds.health()
    assert health.etag == '"alt"'
    assert health.last_modified == "Sat, 01 Jun 2024 00:00:00 GMT"
    assert health.last_success is not None and health.last_success.year > 2024


OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Reader</title></head><body>
  <outline text="Verteidigung">
    <outline type="rss" text="Truppe &quot;aktuell&quot;" xmlUrl="https://truppe.example/rss"/>
  </outline>
  <outline type="rss" text="Ministerium" xmlUrl="https://bmvg.example/feed?x=1&amp;y=2"/>
  <outline type="rss" text="Datei" xmlUrl="file:///etc/hostname"/>
</body></opml>"""


def test_import_writes_a_feed_list_that_loads_and_warns_about_refused_urls(
    tmp_path: Path,
) -> None:
    config = setup(tmp_path, [])
    source = tmp_path / "reader.opml"
    source.write_bytes(OPML)
    target = tmp_path / "imported.toml"
    code, _, stderr = run(
        "feeds", "import", str(source), "--to", str(target), "--config", str(config)
    )
    assert code == 0
    assert "file:///etc/hostname" in stderr
    assert load_feed_list(target) == (
        FeedSource('Truppe "aktuell"', "https://truppe.example/rss", section="Verteidigung"),
        FeedSource("Ministerium", "https://bmvg.example/feed?x=1&y=2"),
    )


def test_import_refuses_to_replace_a_list_unless_forced(tmp_path: Path) -> None:
    config = setup(tmp_path, [])
    source = tmp_path / "reader.opml"
    source.write_bytes(OPML)
    target = tmp_path / "feeds.toml"
    before = target.read_text(encoding="utf-8")
    code, _, stderr = run("feeds", "import", str(source), "--to", str(target), "--config",
                          str(config))  # fmt: skip
    assert code == 1 and "--force" in stderr
    assert target.read_text(encoding="utf-8") == before
    code, _, _ = run("feeds", "import", str(source), "--to", str(target), "--force", "--config",
                     str(config))  # fmt: skip
    assert code == 0 and len(load_feed_list(target)) == 2


def test_import_of_a_broken_file_is_one_clear_error(tmp_path: Path) -> None:
    config = setup(tmp_path, [])
    source = tmp_path / "broken.opml"
    source.write_bytes(b"<opml version='2.0'><body><outline text='x'")
    code, stdout, stderr = run("feeds", "import", str(source), "--config", str(config))
    assert code == 1
    assert stdout == ""
    assert "broken.opml: OPML is not well-formed XML" in stderr


def test_export_then_import_gives_the_same_feed_list(tmp_path: Path) -> None:
    config = setup(tmp_path, [])
    original = tmp_path / "liste.toml"
    original.write_text(
        '[[feeds]]\nname = "Eins"\nurl = "https://eins.example/rss"\nsection = "Lage"\n\n'
        '[[feeds]]\nname = "Zwei & Drei"\nurl = "https://zwei.example/a?b=1&c=2"\n'
        'language = "en"\nweight = 1.5\n\n'
        '[[feeds]]\nname = "Vier"\nurl = "https://vier.example/rss"\nsection = "Lage"\n\n'
        '[[feeds]]\nname = "Lokal"\nurl = "lokal.xml"\n',
        encoding="utf-8",
    )
    code, stdout, stderr = run("feeds", "export", "--feeds", str(original), "--config",
                               str(config))  # fmt: skip
    assert code == 0
    assert "Lokal" in stderr and "left out" in stderr
    exported = tmp_path / "export.opml"
    exported.write_text(stdout, encoding="utf-8")
    target = tmp_path / "back.toml"
    code, _, _ = run("feeds", "import", str(exported), "--to", str(target), "--config",
                     str(config))  # fmt: skip
    assert code == 0
    remote = [s for s in load_feed_list(original) if not s.is_local]
    assert sorted(load_feed_list(target), key=lambda s: s.name) == sorted(
        remote, key=lambda s: s.name
    )


# ---------------------------------------------------------------------------------------------
# HTTP freshness (digest/http.py and store.feeds.record): a feed whose previous response is
# still fresh is not requested again. Kept here until the lead moves it next to tests/test_http.py.


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ([("Cache-Control", "max-age=300")], 300.0),
        ([("cache-control", "public, max-age=300"), ("Age", "100")], 200.0),
        ([("Cache-Control", "max-age=300, no-cache")], 0.0),
        ([("Cache-Control", "no-store"), ("Cache-Control", "max-age=300")], 0.0),
        ([("Cache-Control", "s-maxage=300")], 0.0),
        ([("Cache-Control", "max-age=31536000")], MAX_FRESH_SECONDS),
        (
            [
                ("Date", "Mon, 03 Jun 2024 08:00:00 GMT"),
                ("Expires", "Mon, 03 Jun 2024 08:10:00 GMT"),
            ],
            600.0,
        ),
        ([("Expires", "Mon, 03 Jun 2024 08:10:00 GMT")], 0.0),
        ([("Date", "Mon, 03 Jun 2024 08:00:00 GMT"), ("Expires", "0")], 0.0),
        ([("ETag", '"x"')], 0.0),
    ],
)
def test_freshness_lifetime_follows_cache_control_then_expires(
    headers: list[tuple[str, str]], seconds: float
) -> None:
    assert freshness_lifetime(headers) == seconds


@given(st.lists(st.tuples(st.sampled_from(["Cache-Control", "Expires", "Date", "Age"]), st.text())))
def test_freshness_lifetime_is_never_negative_nor_above_the_cap(
    headers: list[tuple[str, str]],
) -> None:
    assert 0.0 <= freshness_lifetime(headers) <= MAX_FRESH_SECONDS


def test_fresh_feed_is_not_requested_and_stale_one_is_revalidated(
    http_server: StartServer,
) -> None:
    server = http_server(
        {"/a.xml": Reply(body=RSS, headers={"ETag": '"1"', "Cache-Control": "max-age=300"})}
    )
    source = FeedSource("A", server.url("/a.xml"))
    now = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
    (first,) = fetch_feeds([source], FetchConfig(), now=now)
    assert isinstance(first, Fetched) and first.status == 200
    until = first.fresh_until(now)
    assert until == now + timedelta(seconds=300)
    known = {source.url: replace(first.validators, fresh_until=until)}

    (within,) = fetch_feeds([source], FetchConfig(), known, now=now + timedelta(seconds=299))
    assert isinstance(within, Fetched) and within.not_modified and within.fresh
    assert server.hits("/a.xml") == 1
    assert within.fresh_until(now) is None  # a reuse never extends the lifetime by itself

    (after,) = fetch_feeds([source], FetchConfig(), known, now=now + timedelta(seconds=300))
    assert isinstance(after, Fetched) and not after.fresh
    assert server.hits("/a.xml") == 2
    assert server.requests[-1].headers["if-none-match"] == '"1"'


def test_without_now_every_feed_is_requested(http_server: StartServer) -> None:
    server = http_server({"/a.xml": Reply(body=RSS)})
    source = FeedSource("A", server.url("/a.xml"))
    future = datetime(2999, 1, 1, tzinfo=UTC)
    fetch_feeds([source], FetchConfig(), {source.url: Validators(fresh_until=future)})
    assert server.hits("/a.xml") == 1


def test_store_remembers_freshness_per_feed(tmp_path: Path) -> None:
    now = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
    with Store.open(tmp_path / "state.sqlite") as store:
        store.feeds.record(
            "A", now, None, "200", url="https://a.example/", fresh_until=now + timedelta(minutes=5)
        )
        store.feeds.record("B", now, None, "200", url="https://b.example/", fresh_until=None)
        assert store.feeds.freshness() == {"A": now + timedelta(minutes=5)}
