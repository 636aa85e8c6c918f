"""The one worker pool: a pure function over many items in worker processes, results in order."""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Generic, TypeVar

IN_PROCESS_LIMIT = 32  # fewer items than this are worked on in the calling process

# Workers start from a fork server, never by forking this process: the build also runs inside the
# scheduler, whose threads (and their locks) a plain fork would copy mid-flight. The server
# imports the modules of the work once (page extraction, with trafilatura), so each worker
# starts without importing them again.
_POOL_CONTEXT = multiprocessing.get_context("forkserver")
_POOL_CONTEXT.set_forkserver_preload(["digest.extract"])

Item = TypeVar("Item")
Result = TypeVar("Result")


def _apply(function: Callable[[Item], Result], chunk: Sequence[Item]) -> list[Result]:
    return [function(item) for item in chunk]


class Batch(Generic[Result]):
    """Results of one `Workers.submit`, in the order of its items."""

    def __init__(self, jobs: Sequence[Future[list[Result]]] = (), done: list[Result] | None = None):
        self._jobs = jobs
        self._done = done or []

    def results(self) -> list[Result]:
        """Wait for the results; an exception a function raised is raised here."""
        return self._done + [result for job in self._jobs for result in job.result()]


class Workers:
    """A pure function over many items in `processes` worker processes, results in input order
    and identical to running it here; one process or fewer than IN_PROCESS_LIMIT items stay in
    this process. The pool starts with the first batch large enough and ends with the block."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def submit(self, function: Callable[[Item], Result], items: Sequence[Item]) -> Batch[Result]:
        """Start `function` on every item (a module-level function or a partial of one)."""
        if self.processes <= 1 or len(items) < IN_PROCESS_LIMIT:
            return Batch(done=_apply(function, items))
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=_POOL_CONTEXT)
        size = max(4, math.ceil(len(items) / (self.processes * 4)))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        return Batch(jobs=[self._pool.submit(_apply, function, chunk) for chunk in chunks])

    def map(self, function: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
        return self.submit(function, items).results()
