"""EDGE: one run of a day at a time: the lock file and the run ledger around build-then-send."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from digest.config import Config
from digest.errors import LockedError
from digest.store import Store, adopt_legacy_state

if TYPE_CHECKING:
    from digest.mail import SendReport
    from digest.pipeline import BuildResult

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

LOCK_NAME = ".digest.lock"
# The log deploy/crontab appends to, in the state folder (earlier versions: in out/).
CRON_LOG = "cron.log"
# How long a manual `digest build` or `digest send` waits for a run in progress.
MANUAL_LOCK_WAIT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """How a build departs from the daily one: the arguments of the same name of pipeline.build."""

    feeds_path: Path | None = None
    since: datetime | None = None
    explain: bool = False
    force: bool = False
    new_edition: bool = False


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What one call of `run_day` did: ran the day's job, or left it because it was already done.
    `report`: what the send did, when the run sent."""

    day: date
    ran: bool
    sent: bool
    paths: tuple[Path, ...] = ()
    report: SendReport | None = None


def lock_path(config: Config) -> Path:
    """The lock file lives next to the state database: one lock per state."""
    return config.state_path.parent / LOCK_NAME


def settle_state(config: Config) -> None:
    """Move what earlier versions kept in out/ (the state database with the send ledger, the
    run lock, cron's log) into the state folder, once, with a log line. out/ is the folder one
    publishes; nothing private belongs there. A state left in out/ beside one in the state
    folder is never merged: it is reported until someone deletes it."""
    legacy = config.out_dir / "state.sqlite"
    if legacy.exists():
        if config.state_path.exists():
            log.warning(
                "%s is left from an earlier version and no longer read (the state is %s);"
                " it holds recipients' addresses: delete it from the published folder",
                legacy,
                config.state_path,
            )
            return
        with exclusive(config, wait=MANUAL_LOCK_WAIT_SECONDS):
            if adopt_legacy_state(legacy, config.state_path):
                log.warning(
                    "moved the state database from %s to %s: out/ is published, the state is not",
                    legacy,
                    config.state_path,
                )
    (config.out_dir / LOCK_NAME).unlink(missing_ok=True)
    old_log, new_log = config.out_dir / CRON_LOG, config.state_path.parent / CRON_LOG
    if old_log.is_file() and not new_log.exists():
        new_log.parent.mkdir(parents=True, exist_ok=True)
        old_log.replace(new_log)
        log.warning("moved %s to %s", old_log, new_log)


@contextmanager
def exclusive(config: Config, *, wait: float) -> Iterator[None]:
    """Hold the run lock; wait at most `wait` seconds for it, else raise LockedError."""
    path = lock_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=wait)
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if wait == 0:
                raise
            log.info("%s: another digest run holds the lock; waiting up to %g s", path, wait)
            lock.acquire()
    except Timeout:
        raise LockedError(
            f"{path}: another digest run holds the lock (waited {wait:g} s); try again later"
        ) from None
    try:
        yield
    finally:
        lock.release()


def run_day(
    config: Config,
    *,
    day: date,
    clock: Clock,
    send: bool,
    wait: float,
    force: bool = False,
    options: BuildOptions = BuildOptions(),
    built: Callable[[BuildResult], None] | None = None,
) -> RunOutcome:
    """Build (and send) the edition of `day` unless the ledger says that day is done.

    The lock makes the ledger check and the run one step: a second caller waits for the lock and
    then finds the day done. A row left 'running' is stale (its process died: the lock is free), so
    the day runs again. `force` runs even a done day (a manual rebuild); `options` are the
    build's (see pipeline.build); `built` hears of the build before the send starts."""
    with exclusive(config, wait=wait):
        with Store.open(config.state_path) as store:
            previous = store.runs.get(day)
            if previous is not None and previous.status == "done" and not force:
                log.info(
                    "run of %s already done at %s; not running it again", day, previous.finished
                )
                return RunOutcome(day=day, ran=False, sent=False)
            if previous is not None and previous.status == "running":
                log.warning(
                    "run of %s started at %s did not finish (process stopped); running it again",
                    day,
                    previous.started,
                )
            now = clock()
            store.runs.begin(day, now)
        started = time.perf_counter()
        log.info("run of %s started", day)
        try:
            result = _build(config, day, now, options)
            if built is not None:
                built(result)
            report = _send(config, day, now) if send else None
        except BaseException as error:
            _finish(config, day, clock(), f"{type(error).__name__}: {error}")
            log.error(
                "run of %s failed after %.2f s: %s", day, time.perf_counter() - started, error
            )
            raise
        # Someone not served fails the run, so that a restart within the grace period tries
        # those recipients again.
        undelivered = None if report is None or report.ok else report.aborted or report.summary()
        _finish(config, day, clock(), undelivered)
        if undelivered:
            log.error("run of %s built, but %s", day, undelivered)
        else:
            log.info("run of %s done in %.2f s", day, time.perf_counter() - started)
        return RunOutcome(
            day=day, ran=True, sent=send and not undelivered, paths=result.paths, report=report
        )


def build_day(
    config: Config, *, day: date, now: datetime, wait: float, options: BuildOptions
) -> BuildResult:
    """Build the edition of `day` under the run lock, sending nothing and leaving the ledger be
    (a build by hand)."""
    with exclusive(config, wait=wait):
        return _build(config, day, now, options)


def send_day(config: Config, *, day: date, now: datetime, wait: float, dry_run: bool) -> SendReport:
    """Send the built edition of `day` under the run lock (by hand: the ledger is left be)."""
    with exclusive(config, wait=wait):
        return _send(config, day, now, dry_run=dry_run)


# The stages and their libraries load when a day is built or sent, not for `digest status`:
# the pipeline is imported on first use.


def _build(config: Config, day: date, now: datetime, options: BuildOptions) -> BuildResult:
    from digest import pipeline

    return pipeline.build(
        config,
        day=day,
        now=now,
        feeds_path=options.feeds_path,
        since=options.since,
        explain=options.explain,
        force=options.force,
        new_edition=options.new_edition,
    )


def _send(config: Config, day: date, now: datetime, *, dry_run: bool = False) -> SendReport:
    from digest import pipeline

    return pipeline.send(config, day=day, now=now, dry_run=dry_run)


def _finish(config: Config, day: date, now: datetime, error: str | None) -> None:
    with Store.open(config.state_path) as store:
        store.runs.end(day, now, error)
