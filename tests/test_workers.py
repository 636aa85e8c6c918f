"""The worker pool: large batches in other processes, small ones here, never a plain fork."""

from __future__ import annotations

import os

import pytest

from digest.workers import IN_PROCESS_LIMIT, Workers


def pid_of_worker(_: int) -> int:
    return os.getpid()


def parent_of_worker(_: int) -> int:
    return os.getppid()


def fails_on_three(item: int) -> int:
    if item == 3:
        raise ValueError("three")
    return item


def test_a_large_batch_runs_in_other_processes() -> None:
    with Workers(2) as workers:
        pids = workers.map(pid_of_worker, range(IN_PROCESS_LIMIT * 2))
    assert len(pids) == IN_PROCESS_LIMIT * 2
    assert os.getpid() not in pids


def test_a_small_batch_stays_in_this_process() -> None:
    with Workers(2) as workers:
        assert workers.map(pid_of_worker, range(IN_PROCESS_LIMIT - 1)) == [os.getpid()] * (
            IN_PROCESS_LIMIT - 1
        )


def test_one_process_keeps_every_batch_here() -> None:
    with Workers(1) as workers:
        assert set(workers.map(pid_of_worker, range(IN_PROCESS_LIMIT * 2))) == {os.getpid()}


def test_results_keep_the_order_of_the_items() -> None:
    items = list(range(IN_PROCESS_LIMIT * 3))
    with Workers(2) as workers:
        batch = workers.submit(abs, [-n for n in items])
        assert batch.results() == items


def test_an_exception_in_a_worker_is_raised_when_results_are_read() -> None:
    with Workers(2) as workers:
        batch = workers.submit(fails_on_three, list(range(IN_PROCESS_LIMIT * 2)))
        with pytest.raises(ValueError, match="three"):
            batch.results()


def test_the_worker_pool_never_forks_the_calling_process() -> None:
    """The build also runs inside the scheduler, whose threads a plain fork would copy with
    their locks held: workers come from a fork server instead."""
    with Workers(2) as workers:
        parents = set(workers.map(parent_of_worker, list(range(IN_PROCESS_LIMIT * 2))))
    assert os.getpid() not in parents
