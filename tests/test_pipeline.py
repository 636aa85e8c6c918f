"""End to end: feeds under tests/data/ -> a German digest in a temporary folder."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from digest import pipeline
from digest.config import DEFAULT_CONFIG, Config, load_config, load_feed_list
from digest.feeds import parse_feed
from digest.http import read_local
from digest.nlp import split_sentences
from tests.conftest import TEST_FEEDS_WINDOW_HOURS

DATA = Path(__file__).parent / "data" / "feeds"
DAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)


def config_for(tmp_path: Path, feeds: Path = DATA / "list.toml") -> Config:
    base = load_config(DEFAULT_CONFIG)
    # The test set is small and mixed: keep every article so that each one can be checked.
    select = dataclasses.replace(base.select, threshold=0.0, max_total=100, max_per_section=100)
    return dataclasses.replace(
        base,
        feeds=feeds,
        out_dir=tmp_path / "out",
        state_dir=tmp_path / "state",
        select=select,
        window_hours=TEST_FEEDS_WINDOW_HOURS,
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
