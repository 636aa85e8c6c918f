"""The page cache: a page comes back as it was extracted, a failure with its error, and old
pages can be forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digest.extract import ExtractedPage
from digest.store import CachedPage, Store

T0 = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
PAGE = ExtractedPage(
    title="Titel",
    author="Autorin",
    date=datetime(2024, 6, 2, 12, 0, tzinfo=UTC),
    text="Erster Absatz.\n\nZweiter Absatz.",
    language="de",
    paywalled=True,
)


def test_a_page_and_a_failure_read_back_as_they_were_stored_in_a_later_session(tmp_path) -> None:
    stored = [
        CachedPage("https://a.example/artikel", T0, PAGE),
        CachedPage("https://a.example/weg", T0, None, "HTTP 404"),
    ]
    with Store.open(tmp_path / "s.sqlite") as store:
        store.pages.cache(stored)
    with Store.open(tmp_path / "s.sqlite") as store:
        found = store.pages.cached(["https://a.example/artikel", "https://a.example/weg", "x"])
    assert found == {c.url: c for c in stored}


def test_a_page_without_date_or_author_comes_back_so_in_a_later_session(tmp_path) -> None:
    bare = ExtractedPage(
        title=None, author=None, date=None, text="Nur Text.", language=None, paywalled=False
    )
    stored = [CachedPage("https://a.example/kahl", T0, bare)]
    with Store.open(tmp_path / "s.sqlite") as store:
        store.pages.cache(stored)
    with Store.open(tmp_path / "s.sqlite") as store:
        assert store.pages.cached(["https://a.example/kahl"]) == {c.url: c for c in stored}


def test_a_page_fetched_again_replaces_what_was_cached(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.pages.cache([CachedPage("https://a.example/a", T0, None, "HTTP 503")])
        store.pages.cache([CachedPage("https://a.example/a", T0 + timedelta(hours=1), PAGE)])
        (page,) = store.pages.cached(["https://a.example/a"]).values()
        assert page.page == PAGE and page.error is None


def test_failed_pages_since_a_time_come_newest_first(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.pages.cache(
            [
                CachedPage("https://a.example/alt", T0 - timedelta(days=2), None, "HTTP 404"),
                CachedPage("https://a.example/eins", T0, None, "HTTP 500"),
                CachedPage("https://a.example/zwei", T0 + timedelta(hours=1), None, "timeout"),
                CachedPage("https://a.example/gut", T0, PAGE),
            ]
        )
        assert store.pages.failed(T0 - timedelta(days=1)) == [
            ("https://a.example/zwei", T0 + timedelta(hours=1), "timeout"),
            ("https://a.example/eins", T0, "HTTP 500"),
        ]


def test_forgetting_drops_only_pages_fetched_before_the_time_given(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        store.pages.cache(
            [
                CachedPage("https://a.example/alt", T0 - timedelta(days=31), PAGE),
                CachedPage("https://a.example/neu", T0, PAGE),
            ]
        )
        store.pages.forget(T0 - timedelta(days=30))
        found = store.pages.cached(["https://a.example/alt", "https://a.example/neu"])
        assert list(found) == ["https://a.example/neu"]
