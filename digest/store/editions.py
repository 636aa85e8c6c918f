"""Editions: the stories an edition was built with, and each edition as its recipients got it.

The edition cache keeps the selected and summarised stories of each date under a fingerprint of
their inputs, so a rebuild with nothing new skips selection and summarising. The sent editions
keep what the recipients of an edition got, so that every later recipient gets the very same
bytes and a rebuild never changes an edition anyone has (pipeline.build, pipeline.send); a new
edition of the same date is a new revision, sent to everyone again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from digest.errors import StateError
from digest.models import Section, Story
from digest.store.articles import dump_article, load_article
from digest.store.database import Database, stored_time


@dataclass(frozen=True, slots=True)
class SentEdition:
    """An edition as its recipients got it: subject and the files' exact text."""

    day: date
    revision: int
    subject: str
    html: str
    text: str
    json: str


class Editions:
    """The edition cache (one row per date) and the sent editions (one per date and revision).
    An edition counts as sent once a recipient of its revision was (or may have been) served:
    the send ledger (digest.store.sends) says so."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- edition cache (selection and key points of an edition, by input fingerprint) ---

    def cached(
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

    def cache(
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
        with self._db.transaction():
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

    def forget(self, before: date) -> None:
        """Drop the edition cache of the dates before `before` (sent editions stay)."""
        with self._db.transaction():
            self._db.execute("DELETE FROM editions WHERE date < ?", (before.isoformat(),))

    # --- sent editions (what was sent; see pipeline.build and pipeline.send) ---

    def revision(self, day: date) -> int:
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

    def freeze(self, edition: SentEdition, now: datetime) -> SentEdition:
        """Keep `edition` as the one being sent, unless a recipient of its revision was (or may
        have been) served already: then that edition stays, and is returned, so that everyone
        gets the same bytes."""
        key = (edition.day.isoformat(), edition.revision)
        with self._db.transaction():
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

    def sent(self, day: date) -> SentEdition | None:
        """The current edition of `day` as it was sent, once any recipient was served (or may
        have been: an attempt left 'pending' by a crash counts, the server may have accepted)."""
        revision = self.revision(day)
        served = self._db.execute(
            "SELECT count(*) FROM sends WHERE digest_date = ? AND revision = ?"
            " AND status IN ('sent', 'pending')",
            (day.isoformat(), revision),
        ).fetchone()[0]
        return self._frozen(day, revision) if served else None

    def supersede(self, day: date, now: datetime) -> int:
        """Make way for a new edition of `day`: the sent one stays on record, the next revision
        (returned) starts with nobody served."""
        revision = self.revision(day)
        with self._db.transaction():
            self._db.execute(
                "UPDATE sent_editions SET superseded_at = ? WHERE date = ? AND revision = ?",
                (stored_time(now), day.isoformat(), revision),
            )
        return self.revision(day)

    def _frozen(self, day: date, revision: int) -> SentEdition | None:
        row = self._db.execute(
            "SELECT subject, html, text, json FROM sent_editions WHERE date = ? AND revision = ?",
            (day.isoformat(), revision),
        ).fetchone()
        if row is None:
            return None
        subject, html, text, data = row
        return SentEdition(day, revision, subject, html, text, data)


def _story_data(story: Story) -> dict[str, object]:
    return {
        "articles": [dump_article(a) for a in story.articles],
        "section": story.section,
        "score": story.score,
        "key_points": list(story.key_points),
    }


def _story(data: dict[str, Any]) -> Story:
    lead, *others = (load_article(a) for a in data["articles"])
    return Story(
        lead=lead,
        others=tuple(others),
        section=data["section"],
        score=data["score"],
        key_points=tuple(data["key_points"]),
    )
