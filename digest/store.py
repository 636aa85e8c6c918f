"""EDGE: the SQLite state kept between runs (articles, feeds, pages, editions, sends, runs)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from digest.errors import StateError
from digest.extract import ExtractedPage
from digest.models import Article, Section, Story

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


class Store:
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
                    "INSERT OR IGNORE INTO articles(url, guid, first_seen, record)"
                    " SELECT ?, ?, ?, ? WHERE ? IS NULL"
                    " OR NOT EXISTS (SELECT 1 FROM articles WHERE guid = ? OR url = ?)",
                    (article.url, guid, _utc(now), _dump(article), guid, guid, guid),
                )

    def window(self, day: date, since: datetime | None) -> list[Article]:
        """Articles for the digest of `day`: those it already holds plus new ones not in another,
        first seen after `since` (default: when the latest earlier digest was built)."""
        if since is None:
            row = self._db.execute(
                "SELECT max(built_at) FROM digests WHERE date < ?", (day.isoformat(),)
            ).fetchone()
            since_text = row[0] or ""
        else:
            since_text = _utc(since)
        rows = self._db.execute(
            "SELECT record FROM articles WHERE NOT compacted AND (digest_date = ?"
            " OR (digest_date IS NULL AND first_seen > ?)) ORDER BY url",
            (day.isoformat(), since_text),
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
                (day.isoformat(), _utc(now)),
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
        stamp = _utc(now)
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
                last_checked=_parse(row[2]),
                last_success=_parse(row[3]),
                last_error=row[4],
                last_error_at=_parse(row[5]),
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

    # --- run ledger (one row per edition date) ---

    def begin_run(self, day: date, now: datetime) -> None:
        """Record that the run of `day` has started (again, if an earlier attempt died)."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO runs(date, status, started) VALUES (?, 'running', ?)"
                " ON CONFLICT(date) DO UPDATE SET status = 'running', started = excluded.started,"
                " finished = NULL, error = NULL, attempts = attempts + 1",
                (day.isoformat(), _utc(now)),
            )

    def end_run(self, day: date, now: datetime, error: str | None) -> None:
        """Record the outcome of the run of `day`: done, or failed with `error`."""
        with self._transaction():
            self._db.execute(
                "UPDATE runs SET status = ?, finished = ?, error = ? WHERE date = ?",
                ("done" if error is None else "failed", _utc(now), error, day.isoformat()),
            )

    def run_record(self, day: date) -> RunRecord | None:
        """The ledger row of `day`, if a run of that day ever started."""
        row = self._db.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE date = ?", (day.isoformat(),)
        ).fetchone()
        return _run_record(row) if row else None

    def recent_runs(self, limit: int = 7) -> list[RunRecord]:
        """The latest `limit` ledger rows, newest date first."""
        rows = self._db.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY date DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_run_record(row) for row in rows]

    # --- send ledger (one row per edition date and recipient; see mail.py) ---

    def unsent(self, day: date, recipients: Iterable[str]) -> list[str]:
        """The recipients (lower-cased addresses) whose message for `day` no server accepted yet."""
        sent = {
            recipient
            for (recipient,) in self._db.execute(
                "SELECT recipient FROM sends WHERE digest_date = ? AND status = 'sent'",
                (day.isoformat(),),
            )
        }
        return [r for r in recipients if r not in sent]

    def record_send(
        self,
        day: date,
        recipient: str,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        message_id: str | None = None,
    ) -> None:
        """'pending' counts an attempt; 'sent' (server accepted) and 'failed' close it."""
        at = _utc(now)
        with self._transaction():
            self._db.execute(
                "INSERT INTO sends(digest_date, recipient, status, attempts, first_attempt,"
                " last_attempt) VALUES (?, ?, 'pending', 0, ?, ?)"
                " ON CONFLICT(digest_date, recipient) DO NOTHING",
                (day.isoformat(), recipient, at, at),
            )
            if status == "pending":
                self._db.execute(
                    "UPDATE sends SET status = 'pending', attempts = attempts + 1,"
                    " last_attempt = ? WHERE digest_date = ? AND recipient = ?",
                    (at, day.isoformat(), recipient),
                )
            elif status == "sent":
                self._db.execute(
                    "UPDATE sends SET status = 'sent', sent_at = ?, message_id = ?,"
                    " last_error = NULL WHERE digest_date = ? AND recipient = ?",
                    (at, message_id, day.isoformat(), recipient),
                )
            elif status == "failed":
                self._db.execute(
                    "UPDATE sends SET status = 'failed', last_error = ?"
                    " WHERE digest_date = ? AND recipient = ? AND status != 'sent'",
                    (error, day.isoformat(), recipient),
                )
            else:
                raise ValueError(f"unknown send status {status!r}")

    def sends(self, day: date) -> dict[str, tuple[str, int, str | None]]:
        """recipient -> (status, attempts, last error) for the edition of `day`."""
        rows = self._db.execute(
            "SELECT recipient, status, attempts, last_error FROM sends WHERE digest_date = ?",
            (day.isoformat(),),
        )
        return {recipient: (status, attempts, error) for recipient, status, attempts, error in rows}

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

    def cache_pages(self, pages: Iterable[CachedPage]) -> None:
        """Remember fetched pages (or why they failed), replacing what was cached for their URLs."""
        rows = []
        for cached in pages:
            page = cached.page
            rows.append(
                (
                    cached.url,
                    _utc(cached.fetched_at),
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
                (_utc(fresh_until) if fresh_until else None, name),
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
        stamp, day = _utc(before), before.date().isoformat()
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
    return Article(**data)


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("state times must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One ledger row: the run of an edition date, its status and when it started and ended."""

    day: date
    status: str
    started: datetime
    finished: datetime | None
    error: str | None
    attempts: int


_RUN_COLUMNS = "date, status, started, finished, error, attempts"


def _run_record(row: tuple[str, str, str, str | None, str | None, int]) -> RunRecord:
    started = _parse(row[2])
    if started is None:
        raise StateError(f"run ledger row {row[0]} has no start time")
    return RunRecord(
        day=date.fromisoformat(row[0]),
        status=row[1],
        started=started,
        finished=_parse(row[3]),
        error=row[4],
        attempts=row[5],
    )


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
            date=_parse(published),
            text=text or "",
            language=language,
            paywalled=bool(paywalled),
        )
    fetched = datetime.fromisoformat(fetched_at)
    return CachedPage(url=url, fetched_at=fetched, page=page, error=error)
