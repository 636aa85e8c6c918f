"""EDGE: the SQLite state kept between runs (articles, feeds, pages, editions, sends, runs)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from digest.errors import StateError
from digest.ledger import Ledgers, RunRecord, SentEdition, read_time, stored_time
from digest.models import Article, ExtractedPage, Section, Story

OPEN_PATIENCE_SECONDS = 30.0

# Each entry upgrades the schema by one version; never edit a released entry, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE articles (
        url TEXT PRIMARY KEY,
        guid TEXT,
        first_seen TEXT NOT NULL,
        digest_date TEXT,
        record TEXT NOT NULL
    );
    CREATE INDEX articles_digest ON articles(digest_date);
    CREATE INDEX articles_first_seen ON articles(first_seen);
    CREATE INDEX articles_guid ON articles(guid);
    CREATE TABLE digests (
        date TEXT PRIMARY KEY,
        built_at TEXT NOT NULL
    );
    CREATE TABLE feed_health (
        name TEXT PRIMARY KEY,
        url TEXT,
        last_checked TEXT,
        last_success TEXT,
        last_error TEXT,
        last_error_at TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        last_status TEXT,
        etag TEXT,
        last_modified TEXT
    );
    """,
    # The run ledger: one row per edition date, so that a day's run happens at most once.
    """
    CREATE TABLE runs (
        date TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
        started TEXT NOT NULL,
        finished TEXT,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 1
    );
    """,
    # The send ledger: one row per edition date and recipient (mail.py).
    """
    CREATE TABLE sends (
        digest_date TEXT NOT NULL,
        recipient TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        message_id TEXT,
        first_attempt TEXT,
        last_attempt TEXT,
        sent_at TEXT,
        PRIMARY KEY (digest_date, recipient)
    );
    """,
    # The page cache: the extracted main text of article pages by canonical URL (pipeline).
    """
    CREATE TABLE pages (
        url TEXT PRIMARY KEY,
        fetched_at TEXT NOT NULL,
        error TEXT,
        title TEXT,
        author TEXT,
        published TEXT,
        text TEXT,
        language TEXT,
        paywalled INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX pages_fetched_at ON pages(fetched_at);
    """,
    # Feed freshness: until when a feed's last response may be reused without a request (http.py).
    """
    ALTER TABLE feed_health ADD COLUMN fresh_until TEXT;
    """,
    # The selected and summarised stories of each edition, keyed by a fingerprint of their inputs,
    # so a rebuild with nothing new skips selection and summarising (pipeline).
    """
    CREATE TABLE editions (
        date TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        sections TEXT NOT NULL,
        top TEXT NOT NULL,
        omitted INTEGER NOT NULL
    );
    """,
    # Compaction: articles older than the retention keep their identity but not their text.
    """
    ALTER TABLE articles ADD COLUMN compacted INTEGER NOT NULL DEFAULT 0;
    """,
    # The news window goes by publication time (undated articles: first seen), kept in UTC.
    """
    ALTER TABLE articles ADD COLUMN published TEXT;
    UPDATE articles SET published = coalesce(
        strftime('%Y-%m-%dT%H:%M:%S+00:00', json_extract(record, '$.published')), first_seen
    );
    CREATE INDEX articles_published ON articles(published);
    """,
    # Frozen editions: what the recipients of an edition were sent, so that every later recipient
    # gets the same bytes; a new edition of a date (a revision) is sent to everyone again.
    """
    CREATE TABLE sent_editions (
        date TEXT NOT NULL,
        revision INTEGER NOT NULL,
        subject TEXT NOT NULL,
        html TEXT NOT NULL,
        text TEXT NOT NULL,
        json TEXT NOT NULL,
        frozen_at TEXT NOT NULL,
        superseded_at TEXT,
        PRIMARY KEY (date, revision)
    );
    CREATE TABLE sends_by_revision (
        digest_date TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1,
        recipient TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        message_id TEXT,
        first_attempt TEXT,
        last_attempt TEXT,
        sent_at TEXT,
        PRIMARY KEY (digest_date, revision, recipient)
    );
    INSERT INTO sends_by_revision(digest_date, revision, recipient, status, attempts, last_error,
        message_id, first_attempt, last_attempt, sent_at)
        SELECT digest_date, 1, recipient, status, attempts, last_error, message_id, first_attempt,
        last_attempt, sent_at FROM sends;
    DROP TABLE sends;
    ALTER TABLE sends_by_revision RENAME TO sends;
    """,
)


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """How one feed fared: the last check, success and error, and the validators it gave."""

    name: str
    url: str | None
    last_checked: datetime | None
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    last_status: str | None
    etag: str | None
    last_modified: str | None


class Store(Ledgers):
    """The state database; open it with `Store.open(path)` as a context manager.
    Times are stored as UTC ISO strings, so comparing the strings compares the instants."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[Store]:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = _connect(path)
        except sqlite3.DatabaseError as error:
            raise StateError(f"{path}: state database unusable: {error}") from None
        try:
            yield cls(connection)
        finally:
            connection.close()

    def remember(
        self, articles: Iterable[Article], now: datetime, guids: Mapping[str, str] | None = None
    ) -> None:
        """Record articles not seen before, with `now` as their first-seen time. An article whose
        URL or permalink guid (`guids`: URL -> guid) is already stored is the same article."""
        known = guids or {}
        with self._transaction():
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
                        _dump(article),
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
        return [_load(record) for (record,) in rows]

    def article_texts(self, urls: Iterable[str]) -> dict[str, str]:
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
        with self._transaction():
            self._db.executemany(
                "UPDATE articles SET digest_date = ? WHERE url = ? AND digest_date IS NULL",
                [(day.isoformat(), url) for url in urls],
            )
            self._db.execute(
                "INSERT INTO digests(date, built_at) VALUES (?, ?) ON CONFLICT(date)"
                " DO UPDATE SET built_at = max(built_at, excluded.built_at)",
                (day.isoformat(), stored_time(now)),
            )

    def record_feed(
        self,
        name: str,
        now: datetime,
        error: str | None,
        status: str,
        *,
        url: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Record one check of a feed. A success resets the failure count; its validators are
        kept unless the answer was 304 (which confirms the ones stored)."""
        stamp = stored_time(now)
        with self._transaction():
            self._db.execute(
                "INSERT INTO feed_health(name) VALUES (?) ON CONFLICT(name) DO NOTHING", (name,)
            )
            if error is None:
                self._db.execute(
                    "UPDATE feed_health SET url = ?, last_checked = ?, last_success = ?,"
                    " failures = 0, last_status = ? WHERE name = ?",
                    (url, stamp, stamp, status, name),
                )
                if status != "304":
                    self._db.execute(
                        "UPDATE feed_health SET etag = ?, last_modified = ? WHERE name = ?",
                        (etag, last_modified, name),
                    )
            else:
                self._db.execute(
                    "UPDATE feed_health SET url = ?, last_checked = ?, last_error = ?,"
                    " last_error_at = ?, failures = failures + 1, last_status = ? WHERE name = ?",
                    (url, stamp, error, stamp, status, name),
                )

    def feed_health(self) -> list[FeedHealth]:
        """Every feed ever checked, by name."""
        rows = self._db.execute(
            "SELECT name, url, last_checked, last_success, last_error, last_error_at, failures,"
            " last_status, etag, last_modified FROM feed_health ORDER BY name"
        ).fetchall()
        return [
            FeedHealth(
                name=row[0],
                url=row[1],
                last_checked=read_time(row[2]),
                last_success=read_time(row[3]),
                last_error=row[4],
                last_error_at=read_time(row[5]),
                failures=row[6],
                last_status=row[7],
                etag=row[8],
                last_modified=row[9],
            )
            for row in rows
        ]

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- page cache (one row per canonical article URL; see pipeline._full_texts) ---

    def cached_pages(self, urls: Iterable[str]) -> dict[str, CachedPage]:
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

    def failed_pages(self, since: datetime) -> list[tuple[str, datetime, str]]:
        """(URL, when, error) of every page whose fetch or extraction failed since `since`,
        newest first."""
        rows = self._db.execute(
            "SELECT url, fetched_at, error FROM pages WHERE error IS NOT NULL AND fetched_at >= ?"
            " ORDER BY fetched_at DESC, url",
            (stored_time(since),),
        ).fetchall()
        return [(url, datetime.fromisoformat(at), error) for url, at, error in rows]

    def cache_pages(self, pages: Iterable[CachedPage]) -> None:
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
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO pages(url, fetched_at, error, title, author, published,"
                " text, language, paywalled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    # --- feed freshness (HTTP caching lifetime of each feed's last response; see http.py) ---

    def record_freshness(self, name: str, fresh_until: datetime | None) -> None:
        """Remember until when feed `name` need not be requested again (None: ask every time).
        Call it after `record_feed` for the same check."""
        with self._transaction():
            self._db.execute(
                "UPDATE feed_health SET fresh_until = ? WHERE name = ?",
                (stored_time(fresh_until) if fresh_until else None, name),
            )

    def freshness(self) -> dict[str, datetime]:
        """Feed name -> until when its last response stays fresh, for feeds that said so."""
        rows = self._db.execute(
            "SELECT name, fresh_until FROM feed_health WHERE fresh_until IS NOT NULL"
        ).fetchall()
        return {name: datetime.fromisoformat(until) for name, until in rows}

    # --- edition cache (selection and key points of an edition, by input fingerprint) ---

    def cached_edition(
        self, day: date, fingerprint: str
    ) -> tuple[tuple[Section, ...], tuple[str, ...], int] | None:
        """Sections, top story links and omitted count of `day` if built from the same inputs."""
        row = self._db.execute(
            "SELECT sections, top, omitted FROM editions WHERE date = ? AND fingerprint = ?",
            (day.isoformat(), fingerprint),
        ).fetchone()
        if row is None:
            return None
        sections = tuple(
            Section(title=section["title"], stories=tuple(_story(s) for s in section["stories"]))
            for section in json.loads(row[0])
        )
        return sections, tuple(json.loads(row[1])), row[2]

    def cache_edition(
        self,
        day: date,
        fingerprint: str,
        sections: Sequence[Section],
        top: Sequence[str],
        omitted: int,
    ) -> None:
        payload = [
            {"title": section.title, "stories": [_story_data(s) for s in section.stories]}
            for section in sections
        ]
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO editions(date, fingerprint, sections, top, omitted)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    day.isoformat(),
                    fingerprint,
                    json.dumps(payload, ensure_ascii=False),
                    json.dumps(list(top)),
                    omitted,
                ),
            )

    # --- retention ---

    def compact(self, before: datetime) -> None:
        """Forget what is older than `before` but keep every article's identity, so an old item
        still in a feed is never taken for new: its text goes, its row stays. Cached pages and
        edition caches of earlier days go entirely (they are rebuilt when needed)."""
        stamp, day = stored_time(before), before.date().isoformat()
        with self._transaction():
            self._db.execute("DELETE FROM pages WHERE fetched_at < ?", (stamp,))
            self._db.execute("DELETE FROM editions WHERE date < ?", (day,))
            self._db.execute(
                "UPDATE articles SET compacted = 1,"
                " record = json_set(record, '$.text', '', '$.teaser', '')"
                " WHERE NOT compacted AND first_seen < ?"
                " AND (digest_date IS NULL OR digest_date < ?)",
                (stamp, day),
            )


def adopt_legacy_state(legacy: Path, target: Path) -> bool:
    """Move the state database an earlier version kept at `legacy` (in out/) to `target`, once:
    copied through SQLite's backup (so a WAL file's content comes along), then removed. False
    when there is nothing to move or `target` already exists (then nothing is touched)."""
    if not legacy.is_file() or target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.moving")
    temp.unlink(missing_ok=True)
    try:
        with (
            contextlib.closing(sqlite3.connect(legacy)) as source,
            contextlib.closing(sqlite3.connect(temp)) as copy,
        ):
            source.backup(copy)
    except sqlite3.DatabaseError as error:
        temp.unlink(missing_ok=True)
        raise StateError(f"{legacy}: cannot move the state database: {error}") from None
    os.replace(temp, target)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{legacy}{suffix}").unlink(missing_ok=True)
    return True


def _connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode with the schema up to date.

    While another process is setting up the same state (a new file switching to WAL, say),
    SQLite can answer "database is locked" at once instead of waiting for its busy timeout;
    opening is then tried again, for at most OPEN_PATIENCE_SECONDS."""
    deadline = time.monotonic() + OPEN_PATIENCE_SECONDS
    while True:
        connection = sqlite3.connect(path, timeout=OPEN_PATIENCE_SECONDS, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            _migrate(connection)
            return connection
        except sqlite3.OperationalError as error:
            connection.close()
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        except BaseException:
            connection.close()
            raise


def _migrate(connection: sqlite3.Connection) -> None:
    """Bring the schema up to date in one write transaction: the version is read under the same
    lock that applies the migrations, so two processes opening a new state never both migrate."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version > len(MIGRATIONS):
            raise sqlite3.DatabaseError(f"schema version {version} is newer than this program")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in _statements(script):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _statements(script: str) -> Iterator[str]:
    """The SQL statements of a migration script, one at a time (executescript would commit)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise sqlite3.DatabaseError(f"incomplete statement in a migration: {pending.strip()!r}")


def _story_data(story: Story) -> dict[str, object]:
    return {
        "articles": [_dump(a) for a in story.articles],
        "section": story.section,
        "score": story.score,
        "key_points": list(story.key_points),
    }


def _story(data: dict[str, Any]) -> Story:
    lead, *others = (_load(a) for a in data["articles"])
    return Story(
        lead=lead,
        others=tuple(others),
        section=data["section"],
        score=data["score"],
        key_points=tuple(data["key_points"]),
    )


def _dump(article: Article) -> str:
    data = asdict(article)
    data["published"] = article.published.isoformat()
    return json.dumps(data, ensure_ascii=False)


def _load(record: str) -> Article:
    data = json.loads(record)
    data["published"] = datetime.fromisoformat(data["published"])
    data["markers"] = tuple(data["markers"])
    data["categories"] = tuple(data.get("categories", ()))
    return Article(**data)


@dataclass(frozen=True, slots=True)
class CachedPage:
    """An article page as last fetched: its extracted main text, or the error that stopped it."""

    url: str
    fetched_at: datetime
    page: ExtractedPage | None
    error: str | None = None


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


__all__ = ["CachedPage", "FeedHealth", "RunRecord", "SentEdition", "Store", "adopt_legacy_state"]
