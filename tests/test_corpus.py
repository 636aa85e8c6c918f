"""Our labelled items: training/labels/ (fitted on) and the held-out ones of benchmarks/data/."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest import editorial
from training import corpus

HELD_OUT = (
    corpus.UNSEEN_LABELS,
    corpus.SEALED_LABELS,
    corpus.BLIND_LABELS,
    corpus.FRESH_LABELS,
    corpus.LEADS_LABELS,
)
FOLDERS = (corpus.OWN_LABELS, *HELD_OUT)
FILES = [path for folder in FOLDERS for path in sorted(folder.glob("*.jsonl"))]
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


def test_the_held_out_outlets_share_no_site_with_the_training_items_or_each_other() -> None:
    sites = [hosts(sorted(folder.glob("*.jsonl"))) for folder in FOLDERS]
    assert all(sites)
    for first, second in itertools.combinations(sites, 2):
        assert not first & second


@pytest.mark.parametrize("folder", HELD_OUT, ids=lambda p: p.name)
def test_each_outlet_of_a_label_file_is_read_as_one_feed_through_the_parser(folder: Path) -> None:
    items = corpus.own_items(folder)
    written = [row for path in sorted(folder.glob("*.jsonl")) for row in rows(path)]
    assert len(items) == len(written)
    assert {i.feed.split("#")[1] for i in items} == {row["outlet"] for row in written}
    read = [i for i in items if i.article is not None]
    assert len(read) >= 0.99 * len(items)  # an item without title and teaser makes no article
    assert {i.article.url for i in read} <= {row["url"] for row in written}


# Labels of real text, keyed by what names the item (never its words): file, keys, fields.
REAL_LABELS = (
    (corpus.PAGE_LABELS, ("page",), {"note"}),
    (corpus.LINK_LABELS, ("page", "url"), {"note"}),
    (corpus.SUMM_LABELS, ("id",), set()),
)


@pytest.mark.parametrize(("path", "keys", "extra"), REAL_LABELS, ids=["pages", "cards", "articles"])
def test_the_labels_of_real_text_follow_the_guideline_format_and_name_items_only(
    path: Path, keys: tuple[str, ...], extra: set[str]
) -> None:
    sections = set(editorial.load_model().section.titles)
    labelled = rows(path)
    assert labelled
    for row in labelled:
        key = tuple(row[k] for k in keys)
        assert set(row) == {*keys, "relevance", "section", "story", "series", *extra}, key
        assert row["relevance"] in {"core", "edge", "off"}
        on_topic = row["relevance"] != "off"
        assert (row["section"] in sections) if on_topic else row["section"] is None, key
        assert row["story"] is None or on_topic, key
    assert len({tuple(row[k] for k in keys) for row in labelled}) == len(labelled)


@pytest.mark.skipif(not corpus.CORPUS_PAGES.is_dir(), reason="../shared/corpus/pages is absent")
def test_each_labelled_page_becomes_the_item_its_metadata_describes() -> None:
    items = corpus.page_items()
    assert len(items) == len(rows(corpus.PAGE_LABELS))
    for item in items:
        assert item.article is not None, item.feed
        assert item.article.url.startswith(("https://", "http://"))
        assert item.article.title and " | DW | " not in item.article.title


CARDS_PAGE = Path(__file__).parent / "data" / "corpus" / "teaser_cards.html"


def test_the_teaser_cards_of_a_page_are_the_other_articles_it_links_to() -> None:
    page, cards = corpus.page_links(CARDS_PAGE.read_bytes())
    assert page["url"].endswith("/marinemanoever-ostsee-beendet-100123.html")
    assert page["published"].startswith("2025-03-14")
    # Not cards: section, topic and author pages, a link inside running text, another site,
    # a script link, the page itself and a second link to a card already found.
    assert cards == [
        {
            "url": "https://www.beispielzeitung.example/politik/2025-03/kabelschaden-finnland-100118.html",
            "title": "Finnland prüft Schaden an einem Datenkabel",
            "teaser": "Ermittlungen Ein Frachter soll seinen Anker über den Meeresgrund"
            " geschleift haben.",
        },
        {
            "url": "https://www.beispielzeitung.example/sport/2025-03/segelregatta-kiel-100119.html",
            "title": "Segelregatta vor Kiel abgesagt",
            "teaser": "",
        },
    ]


HEADLINE = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß", min_size=2, max_size=9),
    min_size=3,
    max_size=8,
).map(" ".join)


@given(st.lists(st.tuples(HEADLINE, st.booleans()), min_size=1, max_size=6))
def test_every_card_is_read_back_with_its_headline(cards: list[tuple[str, bool]]) -> None:
    links = "".join(
        f'<a href="/politik/2024-05/artikel-{n}-1000{n}.html">'
        + (f"<h2>{headline}</h2><p>Mehr dazu.</p>" if heading else headline)
        + "</a>"
        for n, (headline, heading) in enumerate(cards)
    )
    document = (
        '<html><head><link rel="canonical" href="https://zeitung.example/start-100000.html">'
        f"</head><body><section>{links}</section></body></html>"
    ).encode()
    _, found = corpus.page_links(document)
    assert [card["title"] for card in found] == [headline for headline, _ in cards]
    assert [card["teaser"] for card in found] == ["Mehr dazu." if h else "" for _, h in cards]


@pytest.mark.skipif(not corpus.CORPUS_PAGES.is_dir(), reason="../shared/corpus/pages is absent")
def test_each_labelled_teaser_card_becomes_an_article_of_its_pages_feed() -> None:
    items = corpus.link_items()
    assert len(items) == len(rows(corpus.LINK_LABELS))
    assert all(item.article is not None and item.article.title for item in items)
    assert len({item.feed for item in items}) == len(
        {row["page"] for row in rows(corpus.LINK_LABELS)}
    )


@pytest.mark.skipif(not corpus.SUMM_ARTICLES.is_file(), reason="../shared/eval/summ is absent")
def test_each_labelled_article_becomes_an_item_of_its_outlets_feed() -> None:
    items = corpus.summ_items()
    assert len(items) == len(rows(corpus.SUMM_LABELS))
    read = [item for item in items if item.article is not None]
    # Only an article without an http(s) link is left out, as a build would leave it.
    assert len(read) >= 0.95 * len(items)
    for item in read:
        assert item.article.title and item.article.url.startswith(("https://", "http://"))
        assert item.feed.startswith("summ#") and item.article.text


def _from_feed(feed: str) -> corpus.Labelled:
    return corpus.Labelled(feed, 0, "off", None, None, False, None)


def test_the_folds_keep_a_publishers_feeds_together_and_each_of_our_outlets_apart() -> None:
    deutschlandradio = {
        _from_feed(feed).outlet
        for feed in (
            "corss__deutschlandfunk-nachrichten.xml",
            "corss__deutschlandfunk-politikportal.xml",
            "podsearch__dradio.de_weltzeit.xml",
            "podsearch__dradio.de_hintergrund.rss",
        )
    }
    assert len(deutschlandradio) == 1
    tagesschau = _from_feed("corss__tagesschau.xml").outlet
    assert tagesschau == _from_feed("kdesyndication__rdf_tagesschau.de.xml").outlet
    assert len({tagesschau, *deutschlandradio, _from_feed("corss__spiegel.xml").outlet}) == 3
    # Our outlets are fictional: a name that looks like a publisher's groups nothing.
    ours = _from_feed("own_general_news#Tagesschau Heute").outlet
    assert ours == "own_general_news#Tagesschau Heute" != tagesschau
