"""Editorial selection: relevance, Ressorts, stories, ranking, limits and explain lines."""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.cluster import cluster, compound_parts
from digest.config import SelectConfig
from digest.models import MARKER_TEASER_ONLY, Article
from digest.relevance import load_topics, parse_term, relevance, stem
from digest.select import choose_section, importance, lead_order, select

LABELLED = Path(__file__).resolve().parent / "data" / "selection" / "articles.toml"
NOW = datetime(2025, 3, 10, 19, 0, tzinfo=UTC)
UNLIMITED = SelectConfig(max_per_section=1000, max_total=1000)


def _labelled() -> list[dict[str, Any]]:
    with LABELLED.open("rb") as handle:
        return tomllib.load(handle)["articles"]


def _article(row: dict[str, Any]) -> Article:
    slug = row["source"].lower().replace(" ", "-")
    return Article(
        url=f"https://{slug}.example/artikel/{row['id']}",
        title=row["title"],
        source=row["source"],
        published=row["published"],
        text=row["text"],
        markers=(MARKER_TEASER_ONLY,) if row.get("teaser_only") else (),
    )


def _articles() -> tuple[list[dict[str, Any]], list[Article]]:
    rows = _labelled()
    return rows, [_article(row) for row in rows]


def _precision_recall(predicted: set[Any], expected: set[Any]) -> tuple[float, float]:
    true_positives = len(predicted & expected)
    precision = true_positives / len(predicted) if predicted else 1.0
    recall = true_positives / len(expected) if expected else 1.0
    return precision, recall


# --- The labelled set -----------------------------------------------------------------------


def test_labelled_set_is_large_and_mixed_enough() -> None:
    rows = _labelled()
    stories = {row["story"] for row in rows}
    multi = [s for s in stories if sum(r["story"] == s for r in rows) > 1]
    assert len(rows) >= 60
    assert sum(row["relevant"] for row in rows) >= 30
    assert sum(not row["relevant"] for row in rows) >= 15
    assert len(multi) >= 5
    assert sum(bool(row.get("teaser_only")) for row in rows) >= 5


def test_relevance_precision_and_recall_on_labelled_set() -> None:
    rows, articles = _articles()
    selection = select(articles, UNLIMITED, now=NOW)
    kept = {a.url for section in selection.sections for s in section.stories for a in s.articles}
    expected = {a.url for a, row in zip(articles, rows, strict=True) if row["relevant"]}
    precision, recall = _precision_recall(kept, expected)
    print(f"relevance precision {precision:.3f} recall {recall:.3f}")
    assert precision >= 0.9
    assert recall >= 0.9


def test_clustering_pairwise_precision_and_recall_on_labelled_set() -> None:
    rows, articles = _articles()
    groups = cluster(articles).groups
    predicted = {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}
    expected = {
        frozenset((i, j))
        for i, j in itertools.combinations(range(len(rows)), 2)
        if rows[i]["story"] == rows[j]["story"]
    }
    precision, recall = _precision_recall(predicted, expected)
    print(f"clustering pairwise precision {precision:.3f} recall {recall:.3f}")
    assert precision >= 0.9
    assert recall >= 0.9


def test_sections_of_labelled_stories_mostly_as_expected() -> None:
    rows, articles = _articles()
    selection = select(articles, UNLIMITED, now=NOW)
    expected = {_article(r).url: r.get("section") for r in rows if r["relevant"]}
    placed = {
        a.url: section.title
        for section in selection.sections
        for story in section.stories
        for a in story.articles
    }
    judged = [url for url in placed if expected.get(url)]
    agree = sum(placed[url] == expected[url] for url in judged)
    print(f"sections as labelled: {agree}/{len(judged)}")
    assert agree / len(judged) >= 0.8


# --- Structure of the selection ---------------------------------------------------------------


def test_each_story_lands_in_exactly_one_section_and_each_article_at_most_once() -> None:
    _, articles = _articles()
    selection = select(articles, UNLIMITED, now=NOW)
    urls = [a.url for sec in selection.sections for s in sec.stories for a in s.articles]
    assert len(urls) == len(set(urls))
    for section in selection.sections:
        assert all(story.section == section.title for story in section.stories)
    titles = [section.title for section in selection.sections]
    assert len(titles) == len(set(titles))


def test_stories_have_empty_key_points_and_a_score() -> None:
    _, articles = _articles()
    selection = select(articles, UNLIMITED, now=NOW)
    stories = [s for sec in selection.sections for s in sec.stories]
    assert stories
    assert all(s.key_points == () and s.score > 0 for s in stories)


def test_stories_within_a_section_are_most_important_first() -> None:
    _, articles = _articles()
    for section in select(articles, UNLIMITED, now=NOW).sections:
        scores = [story.score for story in section.stories]
        assert scores == sorted(scores, reverse=True)


def test_lead_is_the_most_complete_version_not_a_teaser() -> None:
    _, articles = _articles()
    selection = select(articles, UNLIMITED, now=NOW)
    for story in (s for sec in selection.sections for s in sec.stories):
        if story.others:
            assert all(lead_order(story.lead) >= lead_order(o) for o in story.others)
            if any(MARKER_TEASER_ONLY not in a.markers for a in story.articles):
                assert MARKER_TEASER_ONLY not in story.lead.markers


def test_limits_cut_per_section_and_in_total_and_count_what_fell_off() -> None:
    _, articles = _articles()
    everything = select(articles, UNLIMITED, now=NOW)
    all_stories = sum(len(s.stories) for s in everything.sections)
    limited = select(articles, SelectConfig(max_per_section=2, max_total=9), now=NOW)
    shown = sum(len(s.stories) for s in limited.sections)
    assert all(len(s.stories) <= 2 for s in limited.sections)
    assert shown <= 9
    assert everything.omitted == 0
    assert limited.omitted == all_stories - shown


def test_top_lists_the_most_important_shown_stories() -> None:
    _, articles = _articles()
    selection = select(articles, SelectConfig(top_count=4), now=NOW)
    stories = {s.lead.url: s for sec in selection.sections for s in sec.stories}
    assert len(selection.top) == 4
    assert all(url in stories for url in selection.top)
    lowest_top = min(stories[url].score for url in selection.top)
    assert all(s.score <= lowest_top for url, s in stories.items() if url not in selection.top)


def test_explain_has_a_line_for_every_article_including_dropped_ones_with_reason() -> None:
    _, articles = _articles()
    selection = select(articles, SelectConfig(max_per_section=2, max_total=9), now=NOW)
    lines = [line for line in selection.explain if not line.startswith("#")]
    for article in articles:
        matching = [line for line in lines if f"| {article.url} |" in line]
        assert len(matching) == 1, article.url
    lotto = next(line for line in lines if "/lotto |" in line)
    assert lotto.startswith("VERWORFEN") and "unter Schwelle" in lotto
    assert any(line.startswith("WEGGEFALLEN") and "Höchstzahl" in line for line in lines)


def test_multi_outlet_story_is_told_once_with_all_its_outlets() -> None:
    rows, articles = _articles()
    selection = select(articles, UNLIMITED, now=NOW)
    ids = {_article(r).url: r["id"] for r in rows}
    story = next(
        s
        for sec in selection.sections
        for s in sec.stories
        if ids[s.lead.url].startswith("nato-luft")
    )
    assert {ids[a.url] for a in story.articles} == {
        "nato-luft-1",
        "nato-luft-2",
        "nato-luft-teaser",
    }
    assert ids[story.lead.url] != "nato-luft-teaser"


# --- Relevance ---------------------------------------------------------------------------------


def _plain(title: str, text: str, language: str = "de") -> Article:
    return Article(
        url="https://example.org/a",
        title=title,
        source="Test",
        published=NOW,
        text=text,
        language=language,
    )


def test_inflected_and_compound_forms_match_the_terms() -> None:
    topics = load_topics()
    article = _plain(
        "Raketenangriffe auf Stellungen", "Die Luftabwehrsysteme der Soldaten versagten."
    )
    assert relevance(article, topics).value >= 3.0


def test_teaser_of_one_sentence_about_security_passes_the_threshold() -> None:
    article = _plain("Marine schickt Fregatte", "Das Schiff soll Handelswege schützen.")
    assert relevance(article, load_topics()).value >= SelectConfig().threshold


def test_sport_report_is_below_the_threshold() -> None:
    article = _plain(
        "Pokalspiel: Stürmer trifft doppelt", "Der Trainer lobte seine Spieler nach dem Sieg."
    )
    assert relevance(article, load_topics()).value < SelectConfig().threshold


def test_long_articles_are_not_favoured_over_short_ones_with_the_same_density() -> None:
    topics = load_topics()
    sentence = "Die Armee verlegt Truppen an die Grenze. Anwohner berichten von Staus. "
    short = relevance(_plain("Meldung", sentence * 2), topics).value
    long = relevance(_plain("Meldung", sentence * 20), topics).value
    assert long < short * 2


def test_english_articles_are_scored_with_the_english_list() -> None:
    article = _plain("Missile strike hits port", "Russian troops attacked the harbour.", "en")
    assert relevance(article, load_topics()).value >= SelectConfig().threshold


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_scoring_any_text_never_fails(text: str) -> None:
    score = relevance(_plain(text or "x", text), load_topics())
    assert score.value == score.value  # not NaN


@given(st.from_regex(r"\*?[A-Za-zÄÖÜäöüß]{2,12}(-[A-Za-z]{2,8})?\*?", fullmatch=True))
def test_every_star_notation_parses_to_a_known_kind(written: str) -> None:
    term = parse_term(written, 1.0, "Test", "de")
    assert term.kind in {"stem", "prefix", "suffix", "infix"}
    assert term.fragment


# --- Sections ----------------------------------------------------------------------------------


def test_feed_hint_decides_when_no_section_is_clear() -> None:
    topics = load_topics()
    scores = dict.fromkeys((t for t, _ in topics.sections), 0.0)
    assert choose_section(scores, ["Bundeswehr & Rüstung"], topics)[0] == "Bundeswehr & Rüstung"
    assert choose_section(scores, [None], topics)[0] == topics.fallback_section


def test_clear_text_overrides_the_feed_hint() -> None:
    topics = load_topics()
    scores = dict.fromkeys((t for t, _ in topics.sections), 0.0)
    scores["Naher & Mittlerer Osten"] = 8.0
    scores["Bundeswehr & Rüstung"] = 1.0
    assert choose_section(scores, ["Bundeswehr & Rüstung"], topics)[0] == "Naher & Mittlerer Osten"


# --- Clustering --------------------------------------------------------------------------------


def test_different_events_on_the_same_topic_stay_apart() -> None:
    rows, articles = _articles()
    index = {row["id"]: i for i, row in enumerate(rows)}
    group_of = {i: n for n, g in enumerate(cluster(articles).groups) for i in g}
    assert group_of[index["odessa-raketen"]] != group_of[index["charkiw-agentur"]]
    assert group_of[index["nato-manoever-norwegen"]] != group_of[index["nato-luft-1"]]


def test_teasers_of_one_event_in_different_words_merge_and_other_events_stay_apart() -> None:
    rows, articles = _articles()
    index = {row["id"]: i for i, row in enumerate(rows)}
    group_of = {i: n for n, g in enumerate(cluster(articles).groups) for i in g}
    assert group_of[index["depot-teaser-1"]] == group_of[index["depot-teaser-2"]]
    assert group_of[index["lindenau-teaser-1"]] == group_of[index["lindenau-teaser-2"]]
    assert group_of[index["krywyj-rih-teaser"]] != group_of[index["ismajil-teaser"]]
    assert group_of[index["krywyj-rih-teaser"]] != group_of[index["odessa-raketen"]]


def test_compound_parts_split_at_linking_s_and_at_known_heads() -> None:
    known = {stem(w) for w in ("Fahrer", "Markt", "Weihnachten", "Sabotage", "Verdacht")}
    assert compound_parts("Rettungszufahrt", known) == ["rettung", "zufahrt"]
    assert [stem(p) for p in compound_parts("Weihnachtsmarkt", known)] == ["weihnacht", "markt"]
    assert compound_parts("Sabotageverdacht", known) == ["sabotage", "verdacht"]
    assert compound_parts("Sabotage", known) == []


def test_copies_far_apart_in_time_are_not_merged() -> None:
    _, articles = _articles()
    first = articles[0]
    later = replace(
        first, url="https://example.org/spaeter", published=first.published + timedelta(days=5)
    )
    groups = cluster([first, later]).groups
    assert len(groups) == 2


@pytest.mark.parametrize("count", [0, 1])
def test_tiny_inputs_give_one_group_per_article(count: int) -> None:
    _, articles = _articles()
    assert len(cluster(articles[:count]).groups) == count


def test_an_undated_story_does_not_count_as_the_freshest() -> None:
    now = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    fresh = importance(5.0, 1, 1.0, now - timedelta(hours=1), now)
    undated = importance(5.0, 1, 1.0, None, now)
    stale = importance(5.0, 1, 1.0, now - timedelta(days=3), now)
    assert fresh > undated > stale
