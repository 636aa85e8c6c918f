"""EDGE: the SQLite state kept between runs, one class per concern over one connection.

    store.articles   seen articles, the news window, who showed what      (articles.py)
    store.feeds      feed health: last check, validators, freshness        (feeds.py)
    store.pages      the page cache: extracted main texts, or why not      (pages.py)
    store.editions   the edition cache and the editions as sent            (editions.py)
    store.sends      the send ledger: one row per edition and recipient    (sends.py)
    store.runs       the run ledger: one row per edition date              (runs.py)

The schema, its migrations and the transactions live in database.py. Times are stored as UTC
ISO strings, so comparing the strings compares the instants.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from digest.errors import StateError
from digest.store.articles import Articles
from digest.store.database import MIGRATIONS, Database, connect
from digest.store.editions import Editions, SentEdition
from digest.store.feeds import UNCHANGED, FeedHealth, Feeds
from digest.store.pages import CachedPage, Pages
from digest.store.runs import RunRecord, Runs
from digest.store.sends import Sends


class Store:
    """The state database; open it with `Store.open(path)` as a context manager."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = Database(connection)
        self.articles = Articles(self.db)
        self.feeds = Feeds(self.db)
        self.pages = Pages(self.db)
        self.editions = Editions(self.db)
        self.sends = Sends(self.db, self.editions)
        self.runs = Runs(self.db)

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[Store]:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = connect(path)
        except sqlite3.DatabaseError as error:
            raise StateError(f"{path}: state database unusable: {error}") from None
        try:
            yield cls(connection)
        finally:
            connection.close()

    def compact(self, before: datetime) -> None:
        """Forget what is older than `before` but keep every article's identity, so an old item
        still in a feed is never taken for new: its text goes, its row stays. Cached pages and
        edition caches of earlier days go entirely (they are rebuilt when needed). One
        transaction."""
        with self.db.transaction():
            self.pages.forget(before)
            self.editions.forget(before.date())
            self.articles.compact(before)


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


__all__ = [
    "MIGRATIONS",
    "UNCHANGED",
    "Articles",
    "CachedPage",
    "Editions",
    "FeedHealth",
    "Feeds",
    "Pages",
    "RunRecord",
    "Runs",
    "Sends",
    "SentEdition",
    "Store",
    "adopt_legacy_state",
]
