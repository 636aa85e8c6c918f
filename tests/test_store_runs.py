"""The run ledger: one row per edition date, running until done or failed; a run started again
counts its attempts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from digest.store import Store

T0 = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
DAY = date(2024, 6, 3)


def test_a_run_is_running_until_it_ends_done_or_failed(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        runs = store.runs
        assert runs.get(DAY) is None
        runs.begin(DAY, T0)
        record = runs.get(DAY)
        assert record is not None and record.status == "running" and record.finished is None
        runs.end(DAY, T0 + timedelta(minutes=2), None)
        record = runs.get(DAY)
        assert record is not None and record.status == "done" and record.error is None
        assert record.finished == T0 + timedelta(minutes=2) and record.attempts == 1


def test_a_run_started_again_counts_its_attempts_and_forgets_the_last_error(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        runs = store.runs
        runs.begin(DAY, T0)
        runs.end(DAY, T0, "MailError: unreachable")
        failed = runs.get(DAY)
        assert failed is not None and failed.status == "failed"
        runs.begin(DAY, T0 + timedelta(hours=1))
        record = runs.get(DAY)
        assert record is not None
        assert (record.status, record.error, record.attempts) == ("running", None, 2)
        assert record.started == T0 + timedelta(hours=1)


def test_recent_runs_come_newest_date_first(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        for offset in (0, 2, 1):
            store.runs.begin(DAY + timedelta(days=offset), T0 + timedelta(days=offset))
        assert [r.day.day for r in store.runs.recent(2)] == [5, 4]
        assert len(store.runs.recent()) == 3
