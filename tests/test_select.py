"""Selection: stories of articles on topic, Ressorts, series, ranking, limits, every fate."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from digest import editorial
from digest.config import SelectConfig
from digest.models import MARKER_TEASER_ONLY, Article, Judgement
from digest.relevance import load_topics
from digest.select import Selection, importance, lead_order
from digest.select import select as select_stories

LABELLED = Path(__file__).resolve().parent / "data" / "selection" / "articles.toml"
NOW = datetime(2025, 3, 10, 19, 0, tzinfo=UTC)
UNLIMITED = SelectConfig(max_per_section=1000, max_total=1000)


def select(
    articles: list[Article],
    config: SelectConfig,
    *,
    now: datetime,
    judgements: list[Judgement] | None = None,
) -> Selection:
    """The pipeline's selection: the shipped model's judgements, then stories and limits."""
    model, topics = editorial.load_model(), load_topics()
    judged = judgements or editorial.judge(articles, model, topics)
    return select_stories(articles, judged, model, topics, config, now=now)


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


def test_every_article_has_one_account_with_its_fate_including_dropped_ones() -> None:
    _, articles = _articles()
    selection = select(articles, SelectConfig(max_per_section=2, max_total=9), now=NOW)
    assert sorted(r.url for r in selection.considered) == sorted(a.url for a in articles)
    lotto = next(r for r in selection.considered if r.url.endswith("/lotto"))
    assert not lotto.on_topic and not lotto.shown and "nicht im Thema" in lotto.fate
    assert any(r.on_topic and not r.shown and "Höchstzahl" in r.fate for r in selection.considered)
    shown = [r for r in selection.considered if r.shown]
    assert shown and all(r.on_topic and r.story and r.section for r in shown)
    assert selection.considered[: len(shown)] == tuple(shown)


def _nato_story() -> tuple[set[str], str]:
    rows, articles = _articles()
    selection = select(articles, UNLIMITED, now=NOW)
    ids = {_article(r).url: r["id"] for r in rows}
    story = next(
        s
        for sec in selection.sections
        for s in sec.stories
        if ids[s.lead.url].startswith("nato-luft-1")
        or ids[s.lead.url].startswith("nato-luft-teaser")
    )
    return {ids[a.url] for a in story.articles}, ids[story.lead.url]


def test_a_story_told_by_several_outlets_has_a_full_text_as_its_lead() -> None:
    versions, lead = _nato_story()
    assert {"nato-luft-1", "nato-luft-teaser"} <= versions
    assert lead != "nato-luft-teaser"


@pytest.mark.xfail(
    strict=True,
    reason="a paraphrase sharing no title name with the others ('Elf Bündnisstaaten kaufen"
    " Luftabwehr gemeinsam') stays apart since the story model weighs every story by its reports",
)
def test_multi_outlet_story_is_told_once_with_all_its_outlets() -> None:
    versions, _ = _nato_story()
    assert versions == {"nato-luft-1", "nato-luft-2", "nato-luft-teaser"}


# --- What is shown ----------------------------------------------------------------------------


def _judgement(on_topic: bool = True, series: bool = False) -> Judgement:
    return Judgement(
        on_topic=on_topic,
        relevance=0.9 if on_topic else 0.1,
        series=series,
        series_probability=0.9 if series else 0.1,
        sections=(("Russland & Ukraine", 0.9), ("Weitere Meldungen", 0.1)),
        reasons=(),
    )


def test_every_version_shown_under_a_story_passed_the_relevance_decision_itself() -> None:
    rows, articles = _articles()
    ids = [row["id"] for row in rows]
    copy = ids.index("charkiw-kopie")
    judgements = [_judgement() for _ in articles]
    judgements[copy] = _judgement(on_topic=False)
    selection = select(articles, UNLIMITED, now=NOW, judgements=judgements)
    shown = {a.url for sec in selection.sections for s in sec.stories for a in s.articles}
    assert articles[copy].url not in shown
    assert articles[ids.index("charkiw-agentur")].url in shown


def test_series_items_are_never_shown_and_a_story_of_only_series_items_is_dropped() -> None:
    rows, articles = _articles()
    ids = [row["id"] for row in rows]
    series = {ids.index("charkiw-agentur"), ids.index("charkiw-kopie"), ids.index("charkiw-eigen")}
    judgements = [_judgement(series=i in series) for i in range(len(articles))]
    selection = select(articles, UNLIMITED, now=NOW, judgements=judgements)
    shown = {a.url for sec in selection.sections for s in sec.stories for a in s.articles}
    assert not shown & {articles[i].url for i in series}
    records = {r.url: r for r in selection.considered}
    assert all(records[articles[i].url].fate.startswith("Serien") for i in series)
    assert all(records[articles[i].url].on_topic for i in series)


def test_nothing_on_topic_gives_no_stories_but_an_account_of_everything() -> None:
    _, articles = _articles()
    judgements = [_judgement(on_topic=False) for _ in articles]
    selection = select(articles, UNLIMITED, now=NOW, judgements=judgements)
    assert selection.sections == () and selection.top == ()
    assert len(selection.considered) == len(articles)


def test_an_undated_story_does_not_count_as_the_freshest() -> None:
    now = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    fresh = importance(5.0, 1, 1.0, now - timedelta(hours=1), now)
    undated = importance(5.0, 1, 1.0, None, now)
    stale = importance(5.0, 1, 1.0, now - timedelta(days=3), now)
    assert fresh > undated > stale


# Our own lines: one feed on the day of an attack, five reports of it and a sixth on-topic item,
# the rest of the feed about other things.
ATTACK_REPORTS = (
    (
        "Anschlag in Halberstadt: Zahl der Verletzten steigt",
        "In Halberstadt ist die Zahl"
        " der Verletzten nach dem Anschlag auf den Adventsmarkt auf 41 gestiegen.",
    ),
    (
        "Ermittler zu Halberstadt: Täter war den Behörden bekannt",
        "Der mutmaßliche Täter von"
        " Halberstadt war nach Angaben der Ermittler schon zweimal aufgefallen.",
    ),
    (
        "Trauer in Halberstadt nach dem Anschlag auf den Adventsmarkt",
        "Vor dem Dom von Halberstadt legen Menschen Blumen für die Opfer des Anschlags nieder.",
    ),
    (
        "Innenministerin besucht Halberstadt nach dem Anschlag",
        "Die Innenministerin hat sich in"
        " Halberstadt ein Bild von der Lage gemacht und den Helfern gedankt.",
    ),
    (
        "Was über den Anschlag von Halberstadt bekannt ist",
        "Ein Auto war am Abend in Halberstadt in die Menge auf dem Adventsmarkt gefahren.",
    ),
)
OTHER_ITEMS = (
    (
        "Marine erhält neue Fregatte",
        "Die Marine hat in Wilhelmshaven eine neue Fregatte in Dienst gestellt.",
    ),
    ("Handball: Magdeburg gewinnt Spitzenspiel", "Der Tabellenführer setzte sich mit 31:29 durch."),
    ("Wetter: Schnee im Harz erwartet", "Am Wochenende fällt im Bergland Schnee."),
    ("Rezept des Tages: Linsensuppe", "Eine Suppe für kalte Abende."),
    ("Börse: Dax schließt fester", "Autowerte waren gefragt."),
    ("Konzert im Gewandhaus", "Das Orchester spielte Brahms."),
    ("Bahn: Neuer Fahrplan gilt ab Sonntag", "Mehr Züge fahren nach Berlin."),
    ("Kino: Ein Film über die Ostsee", "Der Dokumentarfilm kommt am Donnerstag."),
    ("Basketball: Bamberg verliert knapp", "Am Ende fehlten zwei Punkte."),
    ("Garten: Rosen winterfest machen", "Jetzt ist die Zeit für Reisig."),
)


def test_the_name_of_the_days_big_event_is_no_boilerplate_of_its_feed() -> None:
    """Five of the six items on topic name Halberstadt, as most of a feed's lead did on the day
    of the Magdeburg attack; read from all its items, the name is no boilerplate of the feed and
    still ties the reports together."""
    articles = [
        Article(
            url=f"https://bote.example/artikel/{n}",
            title=title,
            source="Harzbote",
            published=NOW - timedelta(minutes=10 * n),
            text=text,
            markers=(MARKER_TEASER_ONLY,),
        )
        for n, (title, text) in enumerate(ATTACK_REPORTS + OTHER_ITEMS)
    ]
    judgements = [_judgement(on_topic=n <= len(ATTACK_REPORTS)) for n in range(len(articles))]
    selection = select(articles, UNLIMITED, now=NOW, judgements=judgements)
    stories = {r.url: r.story for r in selection.considered if r.on_topic}
    assert len({stories[a.url] for a in articles[: len(ATTACK_REPORTS)]}) == 1
    assert stories[articles[len(ATTACK_REPORTS)].url] != stories[articles[0].url]
