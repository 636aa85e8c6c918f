"""Specification of continued stories: marks, links, only new key points, "Weiterhin"."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urljoin
from xml.sax.saxutils import escape

import html5lib
import httpx
import pytest

from digest import continuity, pipeline, preview
from digest.config import DEFAULT_CONFIG, Config, load_config
from digest.models import Article, EarlierStory, Story
from tests.conftest import Handler, Reply, Request, Server

XHTML = "{http://www.w3.org/1999/xhtml}"

# Event X, day 1: sabotage of a (fictional) gas pipeline; the words "Regierung" and "Krieg"
# appear in it on purpose, as they do in most security news.
X_DAY1 = (
    "Anschlag auf Ostsee-Leitung Nordanker bei Lubmin",
    "Unbekannte haben in der Nacht zu Montag die Gasleitung Nordanker vor Lubmin schwer "
    "beschädigt. Taucher der Bundespolizei entdeckten am Morgen zwei Lecks am Anlandepunkt "
    "der Leitung, etwa vier Kilometer vor der Küste. Die Regierung in Schwerin sprach von "
    "gezielter Sabotage an kritischer Infrastruktur. Der Betreiber Nordanker Energie stoppte "
    "den Gasfluss und richtete eine Sperrzone von zwei Seemeilen ein. Seit dem Krieg in der "
    "Ukraine gelten Leitungen in der Ostsee als besonders gefährdet. Der Generalbundesanwalt "
    "will am Donnerstag über den Stand der Ermittlungen in Lubmin informieren.",
)
# Day 2: the follow-up with new facts, repeating two background sentences of day 1.
X_DAY2 = (
    "Nordanker-Sabotage: Ermittler finden Sprengstoffreste, Festnahme in Rostock",
    "Im Fall der beschädigten Gasleitung Nordanker vor Lubmin haben Ermittler Reste eines "
    "militärischen Sprengstoffs sichergestellt. Spezialkräfte nahmen am Dienstag in Rostock "
    "einen 41 Jahre alten Verdächtigen fest, der ein Tauchboot gemietet haben soll. Die "
    "Bundesanwaltschaft prüft Verbindungen des Mannes zu einem ausländischen Nachrichtendienst. "
    "Taucher der Bundespolizei entdeckten am Morgen zwei Lecks am Anlandepunkt der Leitung, "
    "etwa vier Kilometer vor der Küste. Der Betreiber Nordanker Energie stoppte den Gasfluss "
    "und richtete eine Sperrzone von zwei Seemeilen ein. Die Reparatur der Leitung soll nach "
    "Angaben des Betreibers mindestens sechs Wochen dauern.",
)
# Day 2, unrelated: another government, another war, the same generic words.
OTHER_DAY2 = (
    "Japan beschließt Rekordhaushalt für die Verteidigung",
    "Die Regierung in Tokio hat den größten Verteidigungshaushalt in der Geschichte Japans "
    "beschlossen. Ministerpräsidentin Takaichi begründete die Erhöhung mit dem Krieg in der "
    "Ukraine und Manövern der chinesischen Marine vor Okinawa. Für Raketen mit größerer "
    "Reichweite sind umgerechnet elf Milliarden Euro vorgesehen. Das Parlament in Tokio muss "
    "dem Haushalt im Januar noch zustimmen.",
)


def rss(items: list[tuple[str, str, str, str]]) -> bytes:
    """An RSS 2.0 feed of (title, link, text, RFC 822 date) items."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid>{escape(u)}</guid>"
        f"<description>{escape(x)}</description><pubDate>{d}</pubDate></item>"
        for t, u, x, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Testfeed</title><link>https://test.example/</link>{body}</channel></rss>"
    ).encode()


DAY1, DAY2, DAY3 = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)
ITEMS = {
    DAY1: [
        (*X_DAY1[:1], "https://kuestenbote.example/lubmin-anschlag", X_DAY1[1],
         "Mon, 30 Nov 2026 18:00:00 +0000"),
    ],
    DAY2: [
        (*X_DAY2[:1], "https://kuestenbote.example/lubmin-festnahme", X_DAY2[1],
         "Tue, 01 Dec 2026 17:00:00 +0000"),
        (*OTHER_DAY2[:1], "https://kuestenbote.example/japan-haushalt", OTHER_DAY2[1],
         "Tue, 01 Dec 2026 16:00:00 +0000"),
    ],
    # Day 3: only a re-report of X in the same words as day 1, under a new link.
    DAY3: [
        (*X_DAY1[:1], "https://nachrichtenecho.example/nordanker-lubmin", X_DAY1[1],
         "Wed, 02 Dec 2026 17:00:00 +0000"),
    ],
}  # fmt: skip


class ChangingFeed:
    """A feed on 127.0.0.1 whose items are those of the day it is set to (earlier ones kept)."""

    def __init__(self) -> None:
        self.day = DAY1

    def __call__(self, request: Request) -> Reply:
        items = [item for day, day_items in ITEMS.items() if day <= self.day for item in day_items]
        return Reply(body=rss(items), headers={"Content-Type": "application/rss+xml"})


@pytest.fixture
def built(
    tmp_path: Path, http_server: Callable[[Handler | Mapping[str, Handler | Reply]], Server]
) -> Iterator[tuple[Config, Callable[[date], pipeline.BuildResult]]]:
    feed = ChangingFeed()
    server = http_server({"/feed.xml": feed})
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nname = "Küstenbote"\nurl = "{server.url("/feed.xml")}"\n')
    base = load_config(DEFAULT_CONFIG)
    config = dataclasses.replace(
        base,
        feeds=feeds,
        out_dir=tmp_path / "out",
        state_dir=tmp_path / "state",
        extract=dataclasses.replace(base.extract, min_words=1),
    )

    def build(day: date) -> pipeline.BuildResult:
        feed.day = day
        now = datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC)
        return pipeline.build(config, day=day, now=now)

    yield config, build


def edition(config: Config, day: date) -> dict:
    return json.loads((config.out_dir / day.isoformat() / "digest.json").read_text("utf-8"))


def stories_of(data: dict) -> dict[str, dict]:
    return {s["url"]: s for section in data["sections"] for s in section["stories"]}


def check_budgets(config: Config, day: date) -> None:
    folder = config.out_dir / day.isoformat()
    assert len((folder / "digest.html").read_bytes()) <= 102_000
    text = (folder / "digest.txt").read_text("utf-8")
    assert max(len(line) for line in text.splitlines()) <= 78


def test_three_days_of_one_event_continue_repeat_and_leave_others_alone(built) -> None:
    config, build = built
    build(DAY1)
    day1 = stories_of(edition(config, DAY1))
    x1 = day1["https://kuestenbote.example/lubmin-anschlag"]
    assert x1["continues"] is None
    assert re.fullmatch(r"story-[0-9a-f]{12}", x1["anchor"])
    # Termine: "am Donnerstag" in an article of Monday, 30 November, is Thursday, 3 December.
    assert [t["date"] for t in edition(config, DAY1)["termine"]] == ["2026-12-03"]

    build(DAY2)
    data2 = edition(config, DAY2)
    day2 = stories_of(data2)
    x2 = day2["https://kuestenbote.example/lubmin-festnahme"]
    assert x2["continues"]["date"] == "2026-12-01"
    assert x2["continues"]["story"] == x1["anchor"]
    assert x2["continues"]["nothing_new"] is False
    assert day2["https://kuestenbote.example/japan-haushalt"]["continues"] is None
    # Only what is new: no day-2 key point of X nearly repeats a day-1 key point, by our
    # measure and by an independent character-level one.
    assert x2["key_points"]
    for point in x2["key_points"]:
        for sent in x1["key_points"]:
            assert not continuity.is_near_duplicate(point, sent), point
            assert difflib.SequenceMatcher(None, point, sent).ratio() < 0.6, point
    html2 = (config.out_dir / "2026-12-02" / "digest.html").read_text("utf-8")
    assert "Fortsetzung – zuletzt am Dienstag, 1. Dezember" in html2
    text2 = (config.out_dir / "2026-12-02" / "digest.txt").read_text("utf-8")
    assert "Fortsetzung – zuletzt am Dienstag, 1. Dezember" in text2
    top = {t["url"]: t["continued"] for t in data2["top"]}
    assert top == {x2["url"]: True, "https://kuestenbote.example/japan-haushalt": False}
    assert "· Fortsetzung ·" in html2 and "· neu ·" in html2

    build(DAY3)
    x3 = stories_of(edition(config, DAY3))["https://nachrichtenecho.example/nordanker-lubmin"]
    assert x3["continues"]["date"] == "2026-12-02"
    assert x3["continues"]["nothing_new"] is True
    html3 = (config.out_dir / "2026-12-03" / "digest.html").read_text("utf-8")
    tree = html5lib.parse(html3)
    stories = [e for e in tree.iter(f"{XHTML}div") if e.get("class") == "story"]
    assert stories == []  # not told again in full ...
    listed = html3.split("Weiterhin in den Nachrichten", 1)
    assert len(listed) == 2 and X_DAY1[0] in listed[1]  # ... but listed, title and link
    assert "Weiterhin in den Nachrichten" in (
        config.out_dir / "2026-12-03" / "digest.txt"
    ).read_text("utf-8")
    for day in (DAY1, DAY2, DAY3):
        check_budgets(config, day)


def test_the_continued_mark_links_the_earlier_story_in_the_served_archive(built) -> None:
    config, build = built
    build(DAY1)
    build(DAY2)
    server = preview.preview_server(config.out_dir, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        page = f"http://{host}:{port}/2026-12-02/digest.html"
        tree = html5lib.parse(httpx.get(page).text)
        marks = [a for a in tree.iter(f"{XHTML}a") if (a.text or "").startswith("Fortsetzung")]
        assert len(marks) == 1
        target = urljoin(page, marks[0].get("href"))
        address, anchor = target.split("#")
        answer = httpx.get(address)
        assert answer.status_code == 200
        ids = {e.get("id") for e in html5lib.parse(answer.text).iter() if e.get("id")}
        assert anchor in ids
    finally:
        server.shutdown()
        server.server_close()


def test_rebuilding_a_date_gives_the_same_continuity_marks(built) -> None:
    config, build = built
    build(DAY1)
    build(DAY2)
    first = {u: s["continues"] for u, s in stories_of(edition(config, DAY2)).items()}
    build(DAY3)
    build(DAY2)
    again = {u: s["continues"] for u, s in stories_of(edition(config, DAY2)).items()}
    assert again == first
    assert any(mark is not None for mark in first.values())


def test_continuity_switched_off_tells_every_story_as_new(built) -> None:
    config, build = built
    build(DAY1)
    off = dataclasses.replace(
        config, continuity=dataclasses.replace(config.continuity, enabled=False)
    )
    pipeline.build(off, day=DAY2, now=datetime(2026, 12, 2, 5, 0, tzinfo=UTC))
    assert all(s["continues"] is None for s in stories_of(edition(config, DAY2)).values())


# --- the pure parts ---------------------------------------------------------------------------


def article(url: str, title: str, text: str, day: int = 1) -> Article:
    published = datetime(2026, 12, day, 8, 0, tzinfo=UTC)
    return Article(url=url, title=title, source="Test", published=published, text=text)


def test_the_anchor_is_stable_and_differs_between_stories() -> None:
    first = continuity.story_anchor("https://a.example/x")
    assert first == continuity.story_anchor("https://a.example/x")
    assert first != continuity.story_anchor("https://a.example/y")
    assert re.fullmatch(r"story-[0-9a-f]{12}", first)


def test_shared_generic_words_do_not_make_a_continuation() -> None:
    earlier = EarlierStory(
        day=date(2026, 12, 1),
        anchor="story-000000000001",
        title=X_DAY1[0],
        url="https://a.example/x",
        key_points=(),
        texts=(X_DAY1[1],),
    )
    today = Story(lead=article("https://a.example/japan", *OTHER_DAY2, day=2))
    follow_up = Story(lead=article("https://a.example/x2", *X_DAY2, day=2))
    found = continuity.match([today, follow_up], [earlier], day=date(2026, 12, 2))
    assert [c.story for c in found] == ["https://a.example/x2"]


def test_an_older_edition_needs_more_likeness_than_yesterdays() -> None:
    def earlier(day: date) -> EarlierStory:
        return EarlierStory(
            day=day,
            anchor="story-000000000001",
            title=X_DAY1[0],
            url="https://a.example/x",
            key_points=(),
            texts=(X_DAY1[1],),
        )

    follow_up = Story(lead=article("https://a.example/x2", *X_DAY2, day=2))
    recent = continuity.match([follow_up], [earlier(date(2026, 12, 1))], day=date(2026, 12, 2))
    old = continuity.match([follow_up], [earlier(date(2026, 11, 1))], day=date(2026, 12, 2))
    assert recent and (not old or old[0].similarity < recent[0].similarity)


def test_sentences_already_sent_are_removed_from_the_texts_to_summarise() -> None:
    sent = EarlierStory(
        day=date(2026, 12, 1),
        anchor="story-000000000001",
        title=X_DAY1[0],
        url="https://a.example/x",
        key_points=(),
        texts=(X_DAY1[1],),
    )
    story = Story(lead=article("https://a.example/x2", *X_DAY2, day=2))
    ((_, fresh),) = continuity.fresh_texts(story, [sent])
    assert "Sprengstoffs" in fresh
    assert "zwei Lecks" not in fresh and "Sperrzone" not in fresh
    repeat = Story(lead=article("https://b.example/x", *X_DAY1, day=2))
    assert continuity.fresh_texts(repeat, [sent]) == []


def test_near_duplicate_measure_is_symmetric_on_stems() -> None:
    a = "Der Betreiber stoppte den Gasfluss und richtete eine Sperrzone ein."
    b = "Eine Sperrzone richtete der Betreiber ein, nachdem er den Gasfluss stoppte."
    assert continuity.is_near_duplicate(a, b) and continuity.is_near_duplicate(b, a)
    assert not continuity.is_near_duplicate(a, "Ermittler fanden Reste eines Sprengstoffs.")
