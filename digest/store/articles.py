"""Seen articles: each article once, the news window of an edition, and who showed what."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import date, datetime

from digest.models import Article
from digest.store.database import Database, stored_time


class Articles:
    """Every article ever seen, by canonical URL (and permalink guid), with the edition that
    showed it; an article belongs to one edition at most."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def remember(
        self, articles: Iterable[Article], now: datetime, guids: Mapping[str, str] | None = None
    ) -> None:
        """Record articles not seen before, with `now` as their first-seen time. An article whose
        URL or permalink guid (`guids`: URL -> guid) is already stored is the same article."""
        known = guids or {}
        with self._db.transaction():
            for article in articles:
                guid = known.get(article.url)
                self._db.execute(
                    "INSERT OR IGNORE INTO articles(url, guid, first_seen, published, record)"
                    " SELECT ?, ?, ?, ?, ? WHERE ? IS NULL"
                    " OR NOT EXISTS (SELECT 1 FROM articles WHERE guid = ? OR url = ?)",
                    (
                        article.url,
                        guid,
                        stored_time(now),
                        stored_time(article.published),
                        dump_article(article),
                        guid,
                        guid,
                        guid,
                    ),
                )

    def window(self, day: date, start: datetime, end: datetime | None) -> list[Article]:
        """Articles for the digest of `day`: those it already holds, plus those in no other
        edition published (undated ones: first seen) from `start` to `end` (None: no end)."""
        until = stored_time(end) if end is not None else None
        rows = self._db.execute(
            "SELECT record FROM articles WHERE NOT compacted AND (digest_date = ?"
            " OR (digest_date IS NULL AND published >= ? AND (? IS NULL OR published <= ?)))"
            " ORDER BY url",
            (day.isoformat(), stored_time(start), until, until),
        ).fetchall()
        return [load_article(record) for (record,) in rows]

    def texts(self, urls: Iterable[str]) -> dict[str, str]:
        """Link -> stored text of the given articles that still have one (not compacted)."""
        wanted = list(dict.fromkeys(urls))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._db.execute(
                "SELECT url, json_extract(record, '$.text') FROM articles"
                f" WHERE NOT compacted AND url IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            found.update({url: text for url, text in rows if text})
        return found

    def assign(self, day: date, urls: Iterable[str], now: datetime) -> None:
        """Mark articles as shown in the digest of `day` and record that digest as built."""
        with self._db.transaction():
            self._db.executemany(
                "UPDATE articles SET digest_date = ? WHERE url = ? AND digest_date IS NULL",
                [(day.isoformat(), url) for url in urls],
            )
            self._db.execute(
                "INSERT INTO digests(date, built_at) VALUES (?, ?) ON CONFLICT(date)"
                " DO UPDATE SET built_at = max(built_at, excluded.built_at)",
                (day.isoformat(), stored_time(now)),
            )

    def compact(self, before: datetime) -> None:
        """Drop the text of articles first seen before `before` and shown in no edition since,
        but keep their rows, so an old item still in a feed is never taken for new."""
        with self._db.transaction():
            self._db.execute(
                "UPDATE articles SET compacted = 1,"
                " record = json_set(record, '$.text', '', '$.teaser', '')"
                " WHERE NOT compacted AND first_seen < ?"
                " AND (digest_date IS NULL OR digest_date < ?)",
                (stored_time(before), before.date().isoformat()),
            )


def dump_article(article: Article) -> str:
    """An article as the state keeps it: JSON text."""
    data = asdict(article)
    data["published"] = article.published.isoformat()
    return json.dumps(data, ensure_ascii=False)


def load_article(record: str) -> Article:
    data = json.loads(record)
    data["published"] = datetime.fromisoformat(data["published"])
    data["markers"] = tuple(data["markers"])
    data["categories"] = tuple(data.get("categories", ()))
    return Article(**data)
