"""End to end: feeds under tests/data/ -> a German digest in a temporary folder."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from digest import pipeline, select
from digest.config import DEFAULT_CONFIG, Config, load_config, load_feed_list
from digest.errors import EditionSentError
from digest.feeds import parse_feed
from digest.http import read_local
from digest.nlp import split_sentences
from digest.store import SentEdition, Store
from tests.conftest import TEST_FEEDS_WINDOW_HOURS, project_config

DATA = Path(__file__).parent / "data" / "feeds"
DAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)


def config_for(tmp_path: Path, feeds: Path = DATA / "list.toml") -> Config:
    # The test set is small and mixed: keep every article so that each one can be checked.
    return project_config(
        tmp_path, feeds, keep_everything=True, window_hours=TEST_FEEDS_WINDOW_HOURS
    )


def feed_articles() -> list[tuple[str, str, str]]:
    """(title, link, text) of every item in the test feeds, read independently of the pipeline."""
    found = []
    for source in load_feed_list(DATA / "list.toml"):
        fetched = read_local(Path(source.url), Config().fetch)
        for entry in parse_feed(fetched.body, source=source, now=NOW).entries:
            text = entry.content if len(entry.content) > len(entry.summary) else entry.summary
            found.append((entry.title, entry.url, text))
    return found


def normalised(text: str) -> str:
    return " ".join(text.split())


def test_build_writes_a_german_digest_with_every_article(tmp_path: Path) -> None:
    result = pipeline.build(config_for(tmp_path), day=DAY, now=NOW)
    folder = tmp_path / "out" / "2026-11-29"
    assert {p.name for p in result.paths} >= {"digest.html", "digest.txt", "digest.json"}
    html = (folder / "digest.html").read_text(encoding="utf-8")
    text = (folder / "digest.txt").read_text(encoding="utf-8")
    assert "Sonntag, 29. November 2026" in html
    assert "Sonntag, 29. November 2026" in text
    articles = feed_articles()
    assert len(articles) >= 8
    data = json.loads((folder / "digest.json").read_text(encoding="utf-8"))
    shown = {s["url"] for sec in data["sections"] for st in sec["stories"] for s in st["sources"]}
    for title, link, _ in articles:
        assert link in shown, title
        assert link in html or link.replace("&", "&amp;") in html
        assert normalised(title) in normalised(text)


def test_every_key_point_is_a_sentence_of_its_article(tmp_path: Path) -> None:
    pipeline.build(config_for(tmp_path), day=DAY, now=NOW)
    data = json.loads((tmp_path / "out" / "2026-11-29" / "digest.json").read_text("utf-8"))
    texts = {link: text for _, link, text in feed_articles()}
    stories = [st for sec in data["sections"] for st in sec["stories"]]
    assert stories
    for story in stories:
        assert 1 <= len(story["key_points"]) <= 4, story["title"]
        sentences = {
            normalised(s) for src in story["sources"] for s in split_sentences(texts[src["url"]])
        }
        for point in story["key_points"]:
            assert normalised(point) in sentences, point


def test_a_missing_feed_file_is_reported_and_the_digest_still_built(tmp_path: Path) -> None:
    result = pipeline.build(config_for(tmp_path, DATA / "broken.toml"), day=DAY, now=NOW)
    feed_failures = [f for f in result.failures if f.stage == "feed"]
    assert len(feed_failures) == 1
    assert "does-not-exist.xml" in feed_failures[0].message
    text = (tmp_path / "out" / "2026-11-29" / "digest.txt").read_text(encoding="utf-8")
    assert "Nicht erreichbar:" in text
    assert re.search(r"https://alpha\.example/", text)


def test_a_second_build_of_the_next_day_shows_no_article_twice(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    first = pipeline.build(config, day=DAY, now=NOW)
    again = pipeline.build(config, day=DAY, now=NOW.replace(hour=6))
    assert [s.lead.url for s in again.digest.stories] == [s.lead.url for s in first.digest.stories]
    later = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    next_day = pipeline.build(config, day=date(2026, 11, 30), now=later)
    assert next_day.digest.stories == ()


def test_cli_build_prints_the_paths_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "cli-out"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "digest",
            "build",
            "--feeds",
            str(DATA / "list.toml"),
            "--out",
            str(out),
            "--date",
            "2026-11-29",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    printed = [Path(line) for line in completed.stdout.split()]
    assert out / "2026-11-29" / "digest.html" in printed
    assert all(path.is_file() for path in printed)


def test_cli_reports_a_malformed_config_in_one_line(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "digest",
            "build",
            "--config",
            str(DATA / "malformed.toml"),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert "malformed.toml" in completed.stderr and "line 3" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.skipif(
    not (DEFAULT_CONFIG.parent / "feeds" / "samples.toml").exists(), reason="no samples"
)
def test_the_embedded_samples_build_offline(tmp_path: Path) -> None:
    config = dataclasses.replace(
        load_config(DEFAULT_CONFIG), out_dir=tmp_path / "out", state_dir=tmp_path / "state"
    )
    result = pipeline.build(config, day=DAY, now=NOW)
    assert not [f for f in result.failures if f.stage == "feed"]
    assert len(result.digest.stories) >= 10


def test_a_rebuild_with_nothing_new_reuses_the_stories_and_gives_the_same_digest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(tmp_path)
    first = pipeline.build(config, day=DAY, now=NOW)
    with caplog.at_level("INFO", logger="digest.pipeline"):
        again = pipeline.build(config, day=DAY, now=NOW.replace(hour=6))
    assert "selection and key points kept" in caplog.text
    assert again.digest.sections == first.digest.sections
    assert again.digest.top == first.digest.top


def test_a_changed_setting_recomputes_the_stories(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(tmp_path)
    pipeline.build(config, day=DAY, now=NOW)
    fewer = dataclasses.replace(config, select=dataclasses.replace(config.select, max_total=2))
    with caplog.at_level("INFO", logger="digest.pipeline"):
        again = pipeline.build(fewer, day=DAY, now=NOW.replace(hour=6))
    assert "selection and key points kept" not in caplog.text
    assert len(again.digest.stories) == 2


# --- The news window: by publication time, also on a first run ---------------------------------

TOPICS = [
    "Die Bundeswehr verlegt eine Brigade nach Litauen, um die Ostflanke der Nato zu stärken.",
    "Der Bundestag berät über ein Sondervermögen für die Luftverteidigung gegen Drohnen.",
    "Ermittler prüfen Sabotage an einem Unterseekabel in der Ostsee zwischen zwei Häfen.",
    "Die Regierung warnt vor Cyberangriffen auf Kraftwerke und Wasserwerke im Winter.",
]


def dated_feed(folder: Path, items: list[tuple[str, datetime | None]]) -> Path:
    """A local RSS feed of (title, published) items with distinct security-policy texts, and a
    feed list naming it; None: an undated item."""
    entries = []
    for number, (title, published) in enumerate(items):
        date_line = f"<pubDate>{format_datetime(published)}</pubDate>" if published else ""
        text = TOPICS[number % len(TOPICS)]
        entries.append(
            f"<item><title>{title}</title><link>https://zeitung.example/{number}</link>"
            f"{date_line}<description>{text}</description></item>"
        )
    feed = folder / "zeitung.xml"
    feed.write_text(
        '<rss version="2.0"><channel><title>Zeitung</title>'
        + "".join(entries)
        + "</channel></rss>",
        encoding="utf-8",
    )
    listing = folder / "zeitung.toml"
    listing.write_text(f'[[feeds]]\nname = "Zeitung"\nurl = "{feed}"\n', encoding="utf-8")
    return listing


THREE_AGES = [
    ("Zwei Stunden", NOW - timedelta(hours=2)),
    ("Fünf Tage", NOW - timedelta(days=5)),
    ("Dreißig Tage", NOW - timedelta(days=30)),
]


def window_config(tmp_path: Path, feeds: Path) -> Config:
    """The shipped window (window_hours) and every article kept; feed texts count as full."""
    config = config_for(tmp_path, feeds)
    return dataclasses.replace(
        config,
        window_hours=Config().window_hours,
        extract=dataclasses.replace(config.extract, min_words=0),
    )


def shown_titles(result: pipeline.BuildResult) -> set[str]:
    assert result.digest is not None
    return {a.title for story in result.digest.stories for a in story.articles}


def test_a_first_run_shows_only_what_was_published_within_the_window(tmp_path: Path) -> None:
    feeds = dated_feed(tmp_path, THREE_AGES)
    config = window_config(tmp_path, feeds)
    assert shown_titles(pipeline.build(config, day=DAY, now=NOW)) == {"Zwei Stunden"}


def test_since_overrides_the_window(tmp_path: Path) -> None:
    feeds = dated_feed(tmp_path, THREE_AGES)
    config = window_config(tmp_path, feeds)
    result = pipeline.build(config, day=DAY, now=NOW, since=NOW - timedelta(days=31))
    assert shown_titles(result) == {"Zwei Stunden", "Fünf Tage", "Dreißig Tage"}


def test_an_undated_item_counts_from_when_it_was_first_seen(tmp_path: Path) -> None:
    feeds = dated_feed(tmp_path, [("Ohne Datum", None)])
    config = window_config(tmp_path, feeds)
    assert shown_titles(pipeline.build(config, day=DAY, now=NOW)) == {"Ohne Datum"}
    # Not shown in another edition, but first seen three days before the next one: too old.
    later = NOW + timedelta(days=3)
    again = pipeline.build(config, day=DAY + timedelta(days=3), now=later)
    assert shown_titles(again) == set()


def test_an_edition_of_a_past_day_takes_the_window_before_the_end_of_that_day(
    tmp_path: Path,
) -> None:
    old_day = date(2024, 12, 21)
    evening = datetime(2024, 12, 21, 20, 0, tzinfo=UTC)
    feeds = dated_feed(
        tmp_path,
        [("Am Abend", evening), ("Zwei Tage vorher", evening - timedelta(days=2))],
    )
    config = window_config(tmp_path, feeds)
    result = pipeline.build(config, day=old_day, now=NOW)  # built two years later
    assert shown_titles(result) == {"Am Abend"}


# --- A sent edition never changes -----------------------------------------------------------------


def serve_first_recipient(config: Config, day: date) -> None:
    """What `digest send` records when the first recipient's server accepts the edition."""
    folder = config.out_dir / day.isoformat()
    sent = SentEdition(
        day=day,
        revision=1,
        subject="Briefing",
        html=(folder / "digest.html").read_text("utf-8"),
        text=(folder / "digest.txt").read_text("utf-8"),
        json=(folder / "digest.json").read_text("utf-8"),
    )
    with Store.open(config.state_path) as store:
        store.editions.freeze(sent, NOW)
        store.sends.attempt(day, 1, "a@example.org", NOW)
        store.sends.accepted(day, 1, "a@example.org", NOW, "<m>")


def edition_bytes(config: Config, day: date) -> dict[str, bytes]:
    folder = config.out_dir / day.isoformat()
    return {
        name: (folder / name).read_bytes() for name in ("digest.html", "digest.txt", "digest.json")
    }


def test_a_rebuild_of_a_sent_edition_keeps_it_byte_for_byte_and_new_articles_wait(
    tmp_path: Path,
) -> None:
    hours = timedelta(hours=1)
    config = window_config(tmp_path, dated_feed(tmp_path, [("Erste Meldung", NOW - 2 * hours)]))
    pipeline.build(config, day=DAY, now=NOW)
    serve_first_recipient(config, DAY)
    before = edition_bytes(config, DAY)
    later = NOW + hours
    dated_feed(tmp_path, [("Erste Meldung", NOW - 2 * hours), ("Neue Meldung", later)])
    (config.out_dir / DAY.isoformat() / "digest.html").write_text("verändert", encoding="utf-8")
    again = pipeline.build(config, day=DAY, now=later + hours)
    assert again.kept and again.digest is None
    assert edition_bytes(config, DAY) == before  # also restored when out/ was changed
    next_day = pipeline.build(config, day=DAY + timedelta(days=1), now=NOW + 20 * hours)
    assert shown_titles(next_day) == {"Neue Meldung"}


def test_force_on_a_sent_edition_refuses_and_says_how_to_make_a_new_one(tmp_path: Path) -> None:
    config = window_config(tmp_path, dated_feed(tmp_path, [("Erste Meldung", NOW)]))
    pipeline.build(config, day=DAY, now=NOW)
    serve_first_recipient(config, DAY)
    before = edition_bytes(config, DAY)
    with pytest.raises(EditionSentError, match="--force --new-edition"):
        pipeline.build(config, day=DAY, now=NOW, force=True)
    assert edition_bytes(config, DAY) == before


def test_a_new_edition_of_a_sent_date_is_a_new_revision_with_the_new_articles(
    tmp_path: Path,
) -> None:
    hours = timedelta(hours=1)
    config = window_config(tmp_path, dated_feed(tmp_path, [("Erste Meldung", NOW - hours)]))
    pipeline.build(config, day=DAY, now=NOW)
    serve_first_recipient(config, DAY)
    dated_feed(tmp_path, [("Erste Meldung", NOW - hours), ("Neue Meldung", NOW + hours)])
    later = NOW + 2 * hours
    result = pipeline.build(config, day=DAY, now=later, force=True, new_edition=True)
    assert shown_titles(result) == {"Erste Meldung", "Neue Meldung"}
    with Store.open(config.state_path) as store:
        assert store.editions.revision(DAY) == 2 and store.editions.sent(DAY) is None


# --- The fingerprint: files by content ---------------------------------------------------------


def test_the_fingerprint_hashes_the_topic_list_by_content_not_by_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shipped = (pipeline.PACKAGE_DATA / "topics.toml").read_bytes()
    first, second = tmp_path / "a" / "topics.toml", tmp_path / "b" / "topics.toml"
    for path in (first, second):
        path.parent.mkdir()
        path.write_bytes(shipped)
    config = config_for(tmp_path)

    def with_topics(path: Path) -> Config:
        return dataclasses.replace(config, select=dataclasses.replace(config.select, topics=path))

    pipeline.build(with_topics(first), day=DAY, now=NOW)
    with caplog.at_level("INFO", logger="digest.pipeline"):
        pipeline.build(with_topics(second), day=DAY, now=NOW)
    assert "selection and key points kept" in caplog.text  # same content elsewhere: same inputs
    caplog.clear()
    second.write_bytes(shipped + b"\n# eine Zeile mehr\n")
    with caplog.at_level("INFO", logger="digest.pipeline"):
        pipeline.build(with_topics(second), day=DAY, now=NOW)
    assert "selection and key points kept" not in caplog.text


# --- Feeds that try to swamp the edition ------------------------------------------------------


def _swamping_feed(folder: Path, items: list[tuple[str, str]]) -> Path:
    """A feed file of (title, teaser) items, each with a link of its own, and its feed list."""
    body = "".join(
        f"<item><title>{title}</title><link>https://flut.example/{n}</link>"
        f"<pubDate>Sat, 28 Nov 2026 08:00:00 +0100</pubDate><description>{teaser}</description>"
        "</item>"
        for n, (title, teaser) in enumerate(items)
    )
    (folder / "flut.xml").write_text(
        f'<rss version="2.0"><channel><title>Flut</title>{body}</channel></rss>', "utf-8"
    )
    listing = folder / "flut.toml"
    listing.write_text('[[feeds]]\nname = "Flut"\nurl = "flut.xml"\n', "utf-8")
    return listing


def _shipped_model_config(tmp_path: Path, feeds: Path) -> Config:
    return dataclasses.replace(config_for(tmp_path, feeds), select=Config().select)


def test_a_feed_of_500_empty_items_gives_an_edition_and_a_clear_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    feeds = _swamping_feed(tmp_path, [("", "")] * 500)
    with caplog.at_level("WARNING"):
        result = pipeline.build(_shipped_model_config(tmp_path, feeds), day=DAY, now=NOW)
    assert "no item had a title and an http(s) link" in caplog.text
    assert result.digest.stories == ()
    assert (tmp_path / "out" / DAY.isoformat() / "digest.html").is_file()


def test_a_feed_of_one_title_repeated_500_times_gives_no_giant_story(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    title = "Anschlag auf Bahnstrecke: Ermittler suchen Täter"
    same = [(title, "Die Bundespolizei ermittelt nach dem Anschlag auf die Strecke.")] * 250
    varied = [(title, f"Meldung {n}: Die Ermittler prüfen weitere Spuren.") for n in range(250)]
    with caplog.at_level("WARNING"):
        result = pipeline.build(
            _shipped_model_config(tmp_path, _swamping_feed(tmp_path, same + varied)),
            day=DAY,
            now=NOW,
        )
    assert "249 items repeat an earlier item's site, title and text" in caplog.text
    assert all(len(story.articles) <= select.MAX_STORY_VERSIONS for story in result.digest.stories)
