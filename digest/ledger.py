"""The ledgers in the state: runs, sends and the editions as sent (a part of digest.store.Store).

The run ledger has one row per edition date, so that a day's run happens at most once; the send
ledger one row per edition date, revision and recipient (mail.py); the sent editions keep what
the recipients of an edition got, so that every later recipient gets the very same bytes and a
rebuild never changes an edition anyone has (pipeline.build, pipeline.send).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime

from digest.errors import StateError


class Ledgers:
    """The ledger methods of Store, which supplies the connection and the transactions."""

    _db: sqlite3.Connection

    def _transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    # --- run ledger (one row per edition date) ---

    def begin_run(self, day: date, now: datetime) -> None:
        """Record that the run of `day` has started (again, if an earlier attempt died)."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO runs(date, status, started) VALUES (?, 'running', ?)"
                " ON CONFLICT(date) DO UPDATE SET status = 'running', started = excluded.started,"
                " finished = NULL, error = NULL, attempts = attempts + 1",
                (day.isoformat(), stored_time(now)),
            )

    def end_run(self, day: date, now: datetime, error: str | None) -> None:
        """Record the outcome of the run of `day`: done, or failed with `error`."""
        with self._transaction():
            self._db.execute(
                "UPDATE runs SET status = ?, finished = ?, error = ? WHERE date = ?",
                ("done" if error is None else "failed", stored_time(now), error, day.isoformat()),
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

    # --- send ledger (one row per edition date, revision and recipient; see mail.py) ---

    def unsent(self, day: date, recipients: Iterable[str], revision: int) -> list[str]:
        """The recipients (lower-cased addresses) whose message for revision `revision` of the
        edition of `day` no server accepted yet."""
        sent = {
            recipient
            for (recipient,) in self._db.execute(
                "SELECT recipient FROM sends WHERE digest_date = ? AND revision = ?"
                " AND status = 'sent'",
                (day.isoformat(), revision),
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
        revision: int,
        error: str | None = None,
        message_id: str | None = None,
    ) -> None:
        """'pending' counts an attempt; 'sent' (server accepted) and 'failed' close it."""
        at = stored_time(now)
        key = (day.isoformat(), revision, recipient)
        with self._transaction():
            self._db.execute(
                "INSERT INTO sends(digest_date, revision, recipient, status, attempts,"
                " first_attempt, last_attempt) VALUES (?, ?, ?, 'pending', 0, ?, ?)"
                " ON CONFLICT(digest_date, revision, recipient) DO NOTHING",
                (*key, at, at),
            )
            where = " WHERE digest_date = ? AND revision = ? AND recipient = ?"
            if status == "pending":
                self._db.execute(
                    "UPDATE sends SET status = 'pending', attempts = attempts + 1,"
                    " last_attempt = ?" + where,
                    (at, *key),
                )
            elif status == "sent":
                self._db.execute(
                    "UPDATE sends SET status = 'sent', sent_at = ?, message_id = ?,"
                    " last_error = NULL" + where,
                    (at, message_id, *key),
                )
            elif status == "failed":
                self._db.execute(
                    "UPDATE sends SET status = 'failed', last_error = ?"
                    + where
                    + " AND status != 'sent'",
                    (error, *key),
                )
            else:
                raise ValueError(f"unknown send status {status!r}")

    def sends(self, day: date) -> dict[str, tuple[str, int, str | None]]:
        """recipient -> (status, attempts, last error) for the current revision of `day`."""
        rows = self._db.execute(
            "SELECT recipient, status, attempts, last_error FROM sends WHERE digest_date = ?"
            " AND revision = ?",
            (day.isoformat(), self.edition_revision(day)),
        )
        return {recipient: (status, attempts, error) for recipient, status, attempts, error in rows}

    # --- frozen editions (what was sent; see pipeline.build and pipeline.send) ---

    def edition_revision(self, day: date) -> int:
        """The revision of the edition of `day` that is current: 1 unless a sent one was
        superseded by a new edition of the same date."""
        row = self._db.execute(
            "SELECT revision, superseded_at FROM sent_editions WHERE date = ?"
            " ORDER BY revision DESC LIMIT 1",
            (day.isoformat(),),
        ).fetchone()
        if row is None:
            return 1
        revision, superseded = row
        return int(revision) + 1 if superseded else int(revision)

    def freeze_edition(self, edition: SentEdition, now: datetime) -> SentEdition:
        """Keep `edition` as the one being sent, unless a recipient of its revision was (or may
        have been) served already: then that edition stays, and is returned, so that everyone
        gets the same bytes."""
        key = (edition.day.isoformat(), edition.revision)
        with self._transaction():
            self._db.execute(
                "INSERT INTO sent_editions(date, revision, subject, html, text, json, frozen_at)"
                " SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM sends"
                " WHERE digest_date = ? AND revision = ? AND status IN ('sent', 'pending'))"
                " ON CONFLICT(date, revision) DO UPDATE SET subject = excluded.subject,"
                " html = excluded.html, text = excluded.text, json = excluded.json,"
                " frozen_at = excluded.frozen_at",
                (
                    *key,
                    edition.subject,
                    edition.html,
                    edition.text,
                    edition.json,
                    stored_time(now),
                    *key,
                ),
            )
        kept = self._frozen(edition.day, edition.revision)
        if kept is None:  # pragma: no cover - the row was written in the transaction above
            raise StateError(f"edition {edition.day} could not be kept")
        return kept

    def sent_edition(self, day: date) -> SentEdition | None:
        """The current edition of `day` as it was sent, once any recipient was served (or may
        have been: an attempt left 'pending' by a crash counts, the server may have accepted)."""
        revision = self.edition_revision(day)
        served = self._db.execute(
            "SELECT count(*) FROM sends WHERE digest_date = ? AND revision = ?"
            " AND status IN ('sent', 'pending')",
            (day.isoformat(), revision),
        ).fetchone()[0]
        return self._frozen(day, revision) if served else None

    def served_count(self, day: date) -> int:
        """How many recipients have the current edition of `day`."""
        return sum(1 for status, _, _ in self.sends(day).values() if status == "sent")

    def supersede_edition(self, day: date, now: datetime) -> int:
        """Make way for a new edition of `day`: the sent one stays on record, the next revision
        (returned) starts with nobody served."""
        revision = self.edition_revision(day)
        with self._transaction():
            self._db.execute(
                "UPDATE sent_editions SET superseded_at = ? WHERE date = ? AND revision = ?",
                (stored_time(now), day.isoformat(), revision),
            )
        return self.edition_revision(day)

    def _frozen(self, day: date, revision: int) -> SentEdition | None:
        row = self._db.execute(
            "SELECT subject, html, text, json FROM sent_editions WHERE date = ? AND revision = ?",
            (day.isoformat(), revision),
        ).fetchone()
        if row is None:
            return None
        subject, html, text, data = row
        return SentEdition(day, revision, subject, html, text, data)


def stored_time(moment: datetime) -> str:
    """An aware time as the state stores it: UTC ISO text, so that text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("state times must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def read_time(text: str | None) -> datetime | None:
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
    started = read_time(row[2])
    if started is None:
        raise StateError(f"run ledger row {row[0]} has no start time")
    return RunRecord(
        day=date.fromisoformat(row[0]),
        status=row[1],
        started=started,
        finished=read_time(row[3]),
        error=row[4],
        attempts=row[5],
    )


@dataclass(frozen=True, slots=True)
class SentEdition:
    """An edition as its recipients got it: subject and the files' exact text."""

    day: date
    revision: int
    subject: str
    html: str
    text: str
    json: str
