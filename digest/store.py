"""EDGE: the SQLite state kept between runs (articles seen, feed health, digests built)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

from digest.errors import StateError
from digest.models import Article

# Each entry upgrades the schema by one version; never edit a released entry, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE articles (
        url TEXT PRIMARY KEY,
        first_seen TEXT NOT NULL,
        digest_date TEXT,
        record TEXT NOT NULL
    );
    CREATE INDEX articles_digest ON articles(digest_date);
    CREATE TABLE digests (
        date TEXT PRIMARY KEY,
        built_at TEXT NOT NULL
    );
    CREATE TABLE feed_health (
        name TEXT PRIMARY KEY,
        last_success TEXT,
        last_error TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        last_status TEXT
    );
    """,
)


class Store:
    """The state database; open it with `Store.open(path)` as a context manager."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[Store]:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            _migrate(connection)
        except sqlite3.DatabaseError as error:
            raise StateError(f"{path}: state database unusable: {error}") from None
        try:
            yield cls(connection)
        finally:
            connection.close()

    def remember(self, articles: Iterable[Article], now: datetime) -> None:
        """Record articles not seen before, with `now` as their first-seen time."""
        rows = [(a.url, now.isoformat(), _dump(a)) for a in articles]
        with self._transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO articles(url, first_seen, record) VALUES (?, ?, ?)", rows
            )

    def window(self, day: date, since: datetime | None) -> list[Article]:
        """Articles for the digest of `day`: those it already holds plus new ones not in another."""
        if since is None:
            row = self._db.execute(
                "SELECT max(built_at) FROM digests WHERE date < ?", (day.isoformat(),)
            ).fetchone()
            since_text = row[0] or ""
        else:
            since_text = since.isoformat()
        rows = self._db.execute(
            "SELECT record FROM articles WHERE digest_date = ?"
            " OR (digest_date IS NULL AND first_seen > ?) ORDER BY url",
            (day.isoformat(), since_text),
        ).fetchall()
        return [_load(record) for (record,) in rows]

    def assign(self, day: date, urls: Iterable[str], now: datetime) -> None:
        """Mark articles as shown in the digest of `day` and record that digest as built."""
        with self._transaction():
            self._db.executemany(
                "UPDATE articles SET digest_date = ? WHERE url = ? AND digest_date IS NULL",
                [(day.isoformat(), url) for url in urls],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO digests(date, built_at) VALUES (?, ?)",
                (day.isoformat(), now.isoformat()),
            )

    def record_feed(self, name: str, now: datetime, error: str | None, status: str) -> None:
        with self._transaction():
            if error is None:
                self._db.execute(
                    "INSERT INTO feed_health(name, last_success, failures, last_status)"
                    " VALUES (?, ?, 0, ?) ON CONFLICT(name) DO UPDATE SET"
                    " last_success = excluded.last_success, failures = 0,"
                    " last_status = excluded.last_status",
                    (name, now.isoformat(), status),
                )
            else:
                self._db.execute(
                    "INSERT INTO feed_health(name, last_error, failures, last_status)"
                    " VALUES (?, ?, 1, ?) ON CONFLICT(name) DO UPDATE SET"
                    " last_error = excluded.last_error, failures = failures + 1,"
                    " last_status = excluded.last_status",
                    (name, error, status),
                )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _migrate(connection: sqlite3.Connection) -> None:
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(f"schema version {version} is newer than this program")
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        connection.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")


def _dump(article: Article) -> str:
    data = asdict(article)
    data["published"] = article.published.isoformat()
    return json.dumps(data, ensure_ascii=False)


def _load(record: str) -> Article:
    data = json.loads(record)
    data["published"] = datetime.fromisoformat(data["published"])
    data["markers"] = tuple(data["markers"])
    return Article(**data)
