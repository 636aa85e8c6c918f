"""The send ledger: one row per edition date, revision and recipient (see mail.py).

Before each attempt a recipient is recorded 'pending' (an attempt counted); once a server
accepted the message, 'sent'; when no attempt got through, 'failed' with the last error. Only
recipients not 'sent' get the edition again; a 'sent' row is never changed back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from digest.store.database import Database, stored_time
from digest.store.editions import Editions

_WHERE = " WHERE digest_date = ? AND revision = ? AND recipient = ?"


class Sends:
    """The send ledger. Recipients are keys: lower-cased addresses (mail.Recipient.key)."""

    def __init__(self, db: Database, editions: Editions) -> None:
        self._db = db
        self._editions = editions

    def unsent(self, day: date, recipients: Iterable[str], revision: int) -> list[str]:
        """The recipients, in the order given, whose message for revision `revision` of the
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

    def attempt(self, day: date, revision: int, recipient: str, now: datetime) -> None:
        """Count an attempt about to be made: the recipient is 'pending' until it is decided."""
        at = stored_time(now)
        with self._db.transaction():
            self._add(day, revision, recipient, at)
            self._db.execute(
                "UPDATE sends SET status = 'pending', attempts = attempts + 1, last_attempt = ?"
                + _WHERE,
                (at, day.isoformat(), revision, recipient),
            )

    def accepted(
        self, day: date, revision: int, recipient: str, now: datetime, message_id: str
    ) -> None:
        """A server accepted the message to `recipient`: it has the edition."""
        at = stored_time(now)
        with self._db.transaction():
            self._add(day, revision, recipient, at)
            self._db.execute(
                "UPDATE sends SET status = 'sent', sent_at = ?, message_id = ?, last_error = NULL"
                + _WHERE,
                (at, message_id, day.isoformat(), revision, recipient),
            )

    def failed(
        self, day: date, revision: int, recipients: Iterable[str], now: datetime, error: str
    ) -> None:
        """No attempt reached `recipients` (one, or all left when the connection failed): each
        is 'failed' with `error`, unless it is 'sent' already."""
        at = stored_time(now)
        with self._db.transaction():
            for recipient in recipients:
                self._add(day, revision, recipient, at)
                self._db.execute(
                    "UPDATE sends SET status = 'failed', last_error = ?"
                    + _WHERE
                    + " AND status != 'sent'",
                    (error, day.isoformat(), revision, recipient),
                )

    def by_recipient(self, day: date) -> dict[str, tuple[str, int, str | None]]:
        """recipient -> (status, attempts, last error) for the current revision of `day`."""
        rows = self._db.execute(
            "SELECT recipient, status, attempts, last_error FROM sends WHERE digest_date = ?"
            " AND revision = ?",
            (day.isoformat(), self._editions.revision(day)),
        )
        return {recipient: (status, attempts, error) for recipient, status, attempts, error in rows}

    def served_count(self, day: date) -> int:
        """How many recipients have the current edition of `day`."""
        return sum(1 for status, _, _ in self.by_recipient(day).values() if status == "sent")

    def _add(self, day: date, revision: int, recipient: str, at: str) -> None:
        self._db.execute(
            "INSERT INTO sends(digest_date, revision, recipient, status, attempts,"
            " first_attempt, last_attempt) VALUES (?, ?, ?, 'pending', 0, ?, ?)"
            " ON CONFLICT(digest_date, revision, recipient) DO NOTHING",
            (day.isoformat(), revision, recipient, at, at),
        )
