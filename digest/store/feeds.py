"""Feed health: how each feed fared when last checked, its validators and its freshness."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from digest.store.database import Database, read_time, stored_time


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


class _Unchanged(enum.Enum):
    UNCHANGED = enum.auto()


# A check that got no answer about caching (a failure, a response reused while fresh, a check
# that stores nothing) leaves the stored freshness as it was.
UNCHANGED: Final = _Unchanged.UNCHANGED
# Until when a feed need not be asked again: a time, None (ask every time) or as stored.
Freshness = datetime | Literal[_Unchanged.UNCHANGED] | None


class Feeds:
    """One row per feed name: the outcome of its last check and what the answer said about
    asking again (ETag, Last-Modified, and until when it stays fresh; see http.py)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        name: str,
        now: datetime,
        error: str | None,
        status: str,
        *,
        url: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        fresh_until: Freshness = UNCHANGED,
    ) -> None:
        """Record one check of a feed. A success resets the failure count; its validators are
        kept unless the answer was 304 (which confirms the ones stored). `fresh_until` is until
        when the feed need not be requested again (None: ask every time)."""
        stamp = stored_time(now)
        with self._db.transaction():
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
            if fresh_until is not UNCHANGED:
                self._db.execute(
                    "UPDATE feed_health SET fresh_until = ? WHERE name = ?",
                    (stored_time(fresh_until) if fresh_until else None, name),
                )

    def health(self) -> list[FeedHealth]:
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

    def freshness(self) -> dict[str, datetime]:
        """Feed name -> until when its last response stays fresh, for feeds that said so."""
        rows = self._db.execute(
            "SELECT name, fresh_until FROM feed_health WHERE fresh_until IS NOT NULL"
        ).fetchall()
        return {name: datetime.fromisoformat(until) for name, until in rows}
