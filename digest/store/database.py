"""The state's SQLite file: the schema and its migrations, the connection, transactions, times."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


class Database:
    """One connection to the state, shared by the classes of each concern (digest.store.Store).

    A write is a transaction taken with BEGIN IMMEDIATE, so that two processes never interleave
    one; a transaction opened inside another joins it, so a step over several concerns (Store.
    compact) commits or rolls back as one."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, parameters)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        return self.connection.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.connection.in_transaction:
            yield
            return
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")


def connect(path: Path) -> sqlite3.Connection:
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


def stored_time(moment: datetime) -> str:
    """An aware time as the state stores it: UTC ISO text, so that text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("state times must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def read_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


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
