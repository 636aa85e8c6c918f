"""The run ledger: one row per edition date, so that a day's run happens at most once (runs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from digest.errors import StateError
from digest.store.database import Database, read_time, stored_time


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One ledger row: the run of an edition date, its status and when it started and ended."""

    day: date
    status: str
    started: datetime
    finished: datetime | None
    error: str | None
    attempts: int


_COLUMNS = "date, status, started, finished, error, attempts"


class Runs:
    """The run ledger: 'running' from the start of a day's run, then 'done' or 'failed'."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def begin(self, day: date, now: datetime) -> None:
        """Record that the run of `day` has started (again, if an earlier attempt died)."""
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO runs(date, status, started) VALUES (?, 'running', ?)"
                " ON CONFLICT(date) DO UPDATE SET status = 'running', started = excluded.started,"
                " finished = NULL, error = NULL, attempts = attempts + 1",
                (day.isoformat(), stored_time(now)),
            )

    def end(self, day: date, now: datetime, error: str | None) -> None:
        """Record the outcome of the run of `day`: done, or failed with `error`."""
        with self._db.transaction():
            self._db.execute(
                "UPDATE runs SET status = ?, finished = ?, error = ? WHERE date = ?",
                ("done" if error is None else "failed", stored_time(now), error, day.isoformat()),
            )

    def get(self, day: date) -> RunRecord | None:
        """The ledger row of `day`, if a run of that day ever started."""
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM runs WHERE date = ?", (day.isoformat(),)
        ).fetchone()
        return _run_record(row) if row else None

    def recent(self, limit: int = 7) -> list[RunRecord]:
        """The latest `limit` ledger rows, newest date first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM runs ORDER BY date DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_run_record(row) for row in rows]


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
