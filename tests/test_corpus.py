"""Our own labelled items: training/labels/ (fitted on) and benchmarks/data/unseen/ (never)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from digest import editorial
from training import corpus

FILES = sorted(corpus.OWN_LABELS.glob("*.jsonl")) + sorted(corpus.UNSEEN_LABELS.glob("*.jsonl"))
FIELDS = {"outlet", "url", "title", "teaser", "categories", "published", "relevance", "section"}
FIELDS |= {"story", "series", "note"}


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def hosts(paths: list[Path]) -> set[str]:
    return {urlsplit(row["url"]).hostname or "" for path in paths for row in rows(path)}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_label_follows_the_guideline_format(path: Path) -> None:
    sections = set(editorial.load_model().section.titles)
    labelled = rows(path)
    assert labelled
    for row in labelled:
        assert set(row) == FIELDS, row["url"]
        assert row["relevance"] in {"core", "edge", "off"}
        on_topic = row["relevance"] != "off"
        assert (row["section"] in sections) if on_topic else row["section"] is None, row["url"]
        assert row["story"] is None or on_topic, row["url"]
        split = urlsplit(row["url"])
        # Fictional outlets only: no real site's name is put on text we wrote.
        assert split.scheme in {"http", "https"} and (split.hostname or "").endswith(".example")
    assert len({row["url"] for row in labelled}) == len(labelled)


def test_the_unseen_outlets_share_no_site_with_the_training_items() -> None:
    training = hosts(sorted(corpus.OWN_LABELS.glob("*.jsonl")))
    assert not training & hosts(sorted(corpus.UNSEEN_LABELS.glob("*.jsonl")))


def test_each_outlet_of_a_label_file_is_read_as_one_feed_through_the_parser() -> None:
    items = corpus.own_items(corpus.UNSEEN_LABELS)
    written = [row for path in sorted(corpus.UNSEEN_LABELS.glob("*.jsonl")) for row in rows(path)]
    assert len(items) == len(written)
    assert {i.feed.split("#")[1] for i in items} == {row["outlet"] for row in written}
    read = [i for i in items if i.article is not None]
    assert len(read) >= 0.99 * len(items)  # an item without title and teaser makes no article
    assert {i.article.url for i in read} <= {row["url"] for row in written}


def test_the_page_labels_follow_the_guideline_format_and_name_pages_only() -> None:
    sections = set(editorial.load_model().section.titles)
    labelled = rows(corpus.PAGE_LABELS)
    assert labelled
    for row in labelled:
        assert set(row) == {"page", "relevance", "section", "story", "series", "note"}
        assert row["relevance"] in {"core", "edge", "off"}
        on_topic = row["relevance"] != "off"
        assert (row["section"] in sections) if on_topic else row["section"] is None, row["page"]
        assert row["story"] is None or on_topic, row["page"]
    assert len({row["page"] for row in labelled}) == len(labelled)


@pytest.mark.skipif(not corpus.CORPUS_PAGES.is_dir(), reason="../shared/corpus/pages is absent")
def test_each_labelled_page_becomes_the_item_its_metadata_describes() -> None:
    items = corpus.page_items()
    assert len(items) == len(rows(corpus.PAGE_LABELS))
    for item in items:
        assert item.article is not None, item.feed
        assert item.article.url.startswith(("https://", "http://"))
        assert item.article.title and " | DW | " not in item.article.title
