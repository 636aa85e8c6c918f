"""The page cache: the extracted main text of article pages by canonical URL, or why not."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from digest.models import ExtractedPage
from digest.store.database import Database, read_time, stored_time


@dataclass(frozen=True, slots=True)
class CachedPage:
    """An article page as last fetched: its extracted main text, or the error that stopped it."""

    url: str
    fetched_at: datetime
    page: ExtractedPage | None
    error: str | None = None


class Pages:
    """One row per canonical article URL, as last fetched (see pipeline._full_texts)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def cached(self, urls: Iterable[str]) -> dict[str, CachedPage]:
        """The cached page of each of `urls` that was ever fetched, by URL."""
        found: dict[str, CachedPage] = {}
        for url in dict.fromkeys(urls):
            row = self._db.execute(
                "SELECT url, fetched_at, error, title, author, published, text, language,"
                " paywalled FROM pages WHERE url = ?",
                (url,),
            ).fetchone()
            if row is not None:
                found[url] = _cached_page(row)
        return found

    def failed(self, since: datetime) -> list[tuple[str, datetime, str]]:
        """(URL, when, error) of every page whose fetch or extraction failed since `since`,
        newest first."""
        rows = self._db.execute(
            "SELECT url, fetched_at, error FROM pages WHERE error IS NOT NULL AND fetched_at >= ?"
            " ORDER BY fetched_at DESC, url",
            (stored_time(since),),
        ).fetchall()
        return [(url, datetime.fromisoformat(at), error) for url, at, error in rows]

    def cache(self, pages: Iterable[CachedPage]) -> None:
        """Remember fetched pages (or why they failed), replacing what was cached for their URLs."""
        rows = []
        for cached in pages:
            page = cached.page
            rows.append(
                (
                    cached.url,
                    stored_time(cached.fetched_at),
                    cached.error,
                    page.title if page else None,
                    page.author if page else None,
                    page.date.isoformat() if page and page.date else None,
                    page.text if page else None,
                    page.language if page else None,
                    int(page.paywalled) if page else 0,
                )
            )
        with self._db.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO pages(url, fetched_at, error, title, author, published,"
                " text, language, paywalled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def forget(self, before: datetime) -> None:
        """Drop the pages fetched before `before` (they are fetched again when needed)."""
        with self._db.transaction():
            self._db.execute("DELETE FROM pages WHERE fetched_at < ?", (stored_time(before),))


def _cached_page(row: tuple[Any, ...]) -> CachedPage:
    url, fetched_at, error, title, author, published, text, language, paywalled = row
    page = None
    if error is None:
        page = ExtractedPage(
            title=title,
            author=author,
            date=read_time(published),
            text=text or "",
            language=language,
            paywalled=bool(paywalled),
        )
    fetched = datetime.fromisoformat(fetched_at)
    return CachedPage(url=url, fetched_at=fetched, page=page, error=error)
