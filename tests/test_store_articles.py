"""Seen articles: each article belongs to one edition, the news window goes by publication
time, a permalink guid names the same article, compaction keeps every article's identity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from digest.models import Article
from digest.store import Store

T0 = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _article(url: str, published: datetime = T0) -> Article:
    return Article(url=url, title="T", source="S", published=published, text="x")


def urls(articles: list[Article]) -> list[str]:
    return [a.url for a in articles]


def test_each_article_belongs_to_one_digest_and_rebuilds_are_idempotent(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        seen = store.articles
        seen.remember([_article("http://e.de/a"), _article("http://e.de/b")], T0)
        day1, day2 = date(2024, 6, 3), date(2024, 6, 4)
        assert urls(seen.window(day1, T0 - HOUR, T0)) == ["http://e.de/a", "http://e.de/b"]
        seen.assign(day1, ["http://e.de/a"], T0)
        later = T0 + 20 * HOUR
        seen.remember([_article("http://e.de/a"), _article("http://e.de/c", later)], later)
        # Rebuilding day 1 keeps what it showed, also outside the window; day 2 gets what is in
        # its window and in no other edition.
        assert "http://e.de/a" in urls(seen.window(day1, later, later))
        assert urls(seen.window(day2, T0 - HOUR, later)) == ["http://e.de/b", "http://e.de/c"]
        assert urls(seen.window(day2, T0 + HOUR, later)) == ["http://e.de/c"]


def test_the_window_goes_by_publication_time_not_by_when_an_article_was_first_seen(
    tmp_path,
) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.articles.remember(
            [
                _article("http://e.de/neu", T0 - 2 * HOUR),
                _article("http://e.de/woche", T0 - 5 * 24 * HOUR),
                _article("http://e.de/monat", T0 - 30 * 24 * HOUR),
            ],
            T0,  # a first run: all three are first seen now
        )
        day = T0.date()
        assert urls(store.articles.window(day, T0 - 30 * HOUR, T0)) == ["http://e.de/neu"]
        assert len(store.articles.window(day, T0 - 31 * 24 * HOUR, None)) == 3


def test_since_compares_instants_across_time_zones(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        seen = store.articles
        seen.remember([_article("http://e.de/a")], T0)  # 06:00 UTC = 08:00 in Berlin (summer)
        berlin = timezone(timedelta(hours=2))
        day = date(2024, 6, 3)
        assert seen.window(day, datetime(2024, 6, 3, 7, 30, tzinfo=berlin), None)
        assert not seen.window(day, datetime(2024, 6, 3, 8, 30, tzinfo=berlin), None)
        assert not seen.window(day, T0 - HOUR, datetime(2024, 6, 3, 7, 30, tzinfo=berlin))


def test_permalink_guid_already_stored_is_the_same_article(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        seen = store.articles
        seen.remember([_article("http://e.de/a")], T0, {"http://e.de/a": "http://e.de/p/1"})
        seen.remember([_article("http://e.de/a2")], T0, {"http://e.de/a2": "http://e.de/p/1"})
        assert urls(seen.window(date(2024, 6, 3), T0 - HOUR, None)) == ["http://e.de/a"]


def test_texts_are_found_by_link_for_articles_that_still_have_one(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        many = [_article(f"http://e.de/{n}") for n in range(1200)]  # more than one query's worth
        store.articles.remember(many, T0)
        found = store.articles.texts([a.url for a in many] + ["http://e.de/nie"])
        assert len(found) == 1200 and set(found.values()) == {"x"}


def test_compaction_drops_old_texts_but_an_old_article_never_returns_as_new(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        seen = store.articles
        seen.remember([_article("http://e.de/alt"), _article("http://e.de/nie-gezeigt")], T0)
        seen.assign(date(2024, 6, 3), ["http://e.de/alt"], T0)
        month_later = T0 + timedelta(days=31)
        seen.compact(month_later - timedelta(days=30))
        texts = dict(store.db.execute("SELECT url, json_extract(record, '$.text') FROM articles"))
        assert texts == {"http://e.de/alt": "", "http://e.de/nie-gezeigt": ""}
        # Both feeds still carry the old items: they are known, so nothing comes back.
        seen.remember(
            [_article("http://e.de/alt"), _article("http://e.de/nie-gezeigt")], month_later
        )
        assert seen.window(date(2024, 7, 4), T0 - timedelta(days=1), None) == []


def test_compaction_keeps_the_text_of_an_article_an_edition_since_then_shows(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.articles.remember([_article("http://e.de/alt")], T0)
        store.articles.assign(date(2024, 7, 4), ["http://e.de/alt"], T0 + timedelta(days=31))
        store.articles.compact(T0 + timedelta(days=1))
        assert store.articles.texts(["http://e.de/alt"]) == {"http://e.de/alt": "x"}
