"""EDGE: APScheduler around the daily run: cron trigger, missed run on start, stop on signals."""

from __future__ import annotations

import json
import logging
import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from types import FrameType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from digest import german
from digest.config import Config, ScheduleConfig
from digest.errors import ConfigError, DigestError, LockedError
from digest.runs import Clock, RunOutcome, exclusive, run_day
from digest.store import FeedHealth, RunRecord, Store

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

JOB_ID = "daily-digest"
# How long a scheduled run waits for another run (a manual build, a second scheduler) to finish.
LOCK_WAIT_SECONDS = 30 * 60.0

_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")


def system_clock() -> datetime:
    return datetime.now(UTC)


def parse_time(text: str) -> tuple[int, int, int]:
    """'06:00' or '06:00:30' -> (hour, minute, second); anything else is a ConfigError."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"schedule.time must be HH:MM or HH:MM:SS, got {text!r}")
    hour, minute, second = match.groups()
    return int(hour), int(minute), int(second or 0)


def daily_trigger(schedule: ScheduleConfig, timezone: str) -> CronTrigger:
    """The cron trigger of the configured local time and days; DST-safe because it is zone-aware."""
    hour, minute, second = parse_time(schedule.time)
    try:
        return CronTrigger(
            hour=hour,
            minute=minute,
            second=second,
            day_of_week=schedule.days,
            timezone=ZoneInfo(timezone),
        )
    except ValueError as error:
        raise ConfigError(f"schedule.days {schedule.days!r} is not valid: {error}") from None


def next_runs(trigger: CronTrigger, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times strictly after `after`, in the trigger's time zone."""
    found: list[datetime] = []
    previous: datetime | None = None
    moment = after + timedelta(microseconds=1)
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        found.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)
    return found


def due_today(trigger: CronTrigger, now: datetime) -> datetime | None:
    """Today's (local) scheduled time if today is a scheduled day and that time has come."""
    zone = trigger.timezone
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date(), time(), zone)
    fire = trigger.get_next_fire_time(None, midnight)
    if fire is None or fire.astimezone(zone).date() != local.date() or fire > now:
        return None
    return fire


@dataclass(frozen=True, slots=True)
class StartPlan:
    """What to do about today's run when the scheduler starts."""

    action: str  # "run" now, "wait" for the trigger, or "skip" today (missed beyond the grace)
    due: datetime | None
    reason: str


def plan_start(
    trigger: CronTrigger, now: datetime, grace: timedelta, today: RunRecord | None
) -> StartPlan:
    """Run today's missed run once if it is within the grace period and not done; else wait.

    Only today counts: missed earlier days are not made up (the coalesce rule). A failed run or a
    'running' row left by a stopped process is not done, so it is tried again."""
    due = due_today(trigger, now)
    if due is None:
        return StartPlan(action="wait", due=None, reason="today's run is not due yet or not today")
    if today is not None and today.status == "done":
        return StartPlan(action="wait", due=due, reason="today's run is already done")
    late = now - due
    if late > grace:
        return StartPlan(
            action="skip",
            due=due,
            reason=f"today's run at {due.isoformat()} was missed by {_hours(late)}, more than the"
            f" grace period of {_hours(grace)}: skipped",
        )
    return StartPlan(
        action="run",
        due=due,
        reason=f"today's run at {due.isoformat()} was missed by {_hours(late)}: running it now",
    )


def scheduled_run(config: Config, *, clock: Clock, wait: float) -> RunOutcome | None:
    """The job: build and send today's edition once; errors are logged (the ledger has them)."""
    now = clock()
    day = now.astimezone(ZoneInfo(config.timezone)).date()
    try:
        return run_day(config, day=day, clock=clock, send=bool(config.email.host), wait=wait)
    except LockedError as error:
        log.warning("run of %s not started: %s", day, error)
    except DigestError as error:
        log.error("run of %s failed: %s", day, error)
    return None


def run_missed(
    config: Config, trigger: CronTrigger, *, clock: Clock, wait: float
) -> RunOutcome | None:
    """On start: run today's missed run once (within the grace period), or log why not."""
    now = clock()
    day = now.astimezone(trigger.timezone).date()
    with Store.open(config.state_path) as store:
        today = store.runs.get(day)
    plan = plan_start(trigger, now, timedelta(hours=config.schedule.grace_hours), today)
    if plan.action == "skip":
        log.warning("%s", plan.reason)
    else:
        log.info("%s", plan.reason)
    return scheduled_run(config, clock=clock, wait=wait) if plan.action == "run" else None


class _Stopper:
    """Signal handler: stop the scheduler once, letting a run in progress finish."""

    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler
        self.requested = False

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if self.requested:
            log.info("received %s again: still waiting for the run in progress", _name(signum))
            return
        self.requested = True
        log.info("received %s: stopping (a run in progress finishes first)", _name(signum))
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def serve(config: Config, *, clock: Clock = system_clock, wait: float = LOCK_WAIT_SECONDS) -> None:
    """Run in the foreground until SIGTERM or SIGINT: today's missed run, then the daily trigger."""
    from apscheduler.events import EVENT_SCHEDULER_STARTED
    from apscheduler.schedulers.blocking import BlockingScheduler  # not needed by `status`

    trigger = daily_trigger(config.schedule, config.timezone)
    scheduler = BlockingScheduler(timezone=trigger.timezone)
    scheduler.add_job(
        scheduled_run,
        trigger,
        kwargs={"config": config, "clock": clock, "wait": wait},
        id=JOB_ID,
        name="daily digest",
        misfire_grace_time=max(1, round(config.schedule.grace_hours * 3600)),
        coalesce=True,
        max_instances=1,
    )
    stopper = _Stopper(scheduler)

    def started(_event: object) -> None:
        # Announced only once the scheduler runs: a signal that came before it ran could not
        # stop it, and would otherwise leave it blocking for good.
        if stopper.requested:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            return
        upcoming = next_runs(trigger, clock(), 1)
        if upcoming:
            log.info("next run: %s", upcoming[0].isoformat())

    scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
    previous = {number: signal.signal(number, stopper) for number in _STOP_SIGNALS}
    try:
        run_missed(config, trigger, clock=clock, wait=wait)
        if stopper.requested:
            return
        scheduler.start()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    log.info("scheduler stopped")


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


# --- `digest status` -------------------------------------------------------------------------

# Pages whose fetch or extraction failed are listed for this long, at most this many.
PAGE_FAILURES_SHOWN_FOR = timedelta(hours=24)
MAX_PAGE_FAILURES_SHOWN = 10

_STATUS_WORDS = {"done": "erledigt", "failed": "fehlgeschlagen", "running": "läuft"}


def status_lines(
    *,
    timezone: str,
    next_run: datetime | None,
    runs: Sequence[RunRecord],
    feeds: Sequence[FeedHealth],
    stale: bool,
) -> list[str]:
    """The German status report: next run, last runs, failing feeds. `stale`: the newest
    'running' row has no live process (its lock is free)."""
    planned = german.long_datetime(next_run, timezone) if next_run else "keiner geplant"
    lines = [
        "Nächster Lauf: " + planned,
        "",
        "Letzte Läufe:",
    ]
    if not runs:
        lines.append("  noch keine")
    for run in runs:
        word = _STATUS_WORDS.get(run.status, run.status)
        if run.status == "running" and stale:
            word = "abgebrochen (wird beim nächsten Start wiederholt)"
        started = german.long_datetime(run.started, timezone)
        line = f"  {run.day.isoformat()}  {word}, gestartet {started}"
        if run.attempts > 1:
            line += f", {run.attempts} Versuche"
        if run.error:
            line += f": {run.error}"
        lines.append(line)
    failing = [feed for feed in feeds if feed.failures > 0]
    lines += ["", "Fehlerhafte Feeds:"]
    if not failing:
        lines.append("  keine")
    for feed in failing:
        since = feed.last_error_at or feed.last_checked
        when = f" (zuletzt {german.long_datetime(since, timezone)})" if since else ""
        lines.append(f"  {feed.name}: {feed.failures}× fehlgeschlagen{when}: {feed.last_error}")
    return lines


def status_report(config: Config, *, now: datetime, limit: int = 7) -> list[str]:
    """Read the state and the schedule: the lines `digest status` prints."""
    trigger = daily_trigger(config.schedule, config.timezone)
    upcoming = next_runs(trigger, now, 1)
    if not config.state_path.exists():
        runs: list[RunRecord] = []
        feeds: list[FeedHealth] = []
        undelivered: list[tuple[str, str, str]] = []
        pages: list[tuple[str, datetime, str]] = []
    else:
        with Store.open(config.state_path) as store:
            runs = store.runs.recent(limit)
            feeds = store.feeds.health()
            pages = store.pages.failed(now - PAGE_FAILURES_SHOWN_FOR)
            undelivered = [
                (run.day.isoformat(), recipient, error or status)
                for run in runs
                for recipient, (status, _attempts, error) in sorted(
                    store.sends.by_recipient(run.day).items()
                )
                if status != "sent"
            ]
    stale = any(run.status == "running" for run in runs) and _lock_is_free(config)
    lines = status_lines(
        timezone=config.timezone,
        next_run=upcoming[0] if upcoming else None,
        runs=runs,
        feeds=feeds,
        stale=stale,
    )
    lines += ["", "Seiten ohne Volltext (Anriss gezeigt, letzte 24 Stunden):"]
    lines += [
        f"  {german.long_datetime(when, config.timezone)}  {' '.join(error.split())}"
        for _url, when, error in pages[:MAX_PAGE_FAILURES_SHOWN]
    ] or ["  keine"]
    if len(pages) > MAX_PAGE_FAILURES_SHOWN:
        lines.append(f"  … und {len(pages) - MAX_PAGE_FAILURES_SHOWN} weitere")
    lines += ["", "Nicht zugestellte Mails:"]
    lines += [f"  {day}  {recipient}: {reason}" for day, recipient, reason in undelivered] or [
        "  keine"
    ]
    return lines


def _lock_is_free(config: Config) -> bool:
    try:
        with exclusive(config, wait=0):
            return True
    except LockedError:
        return False


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.1f} h"


def _name(signum: int) -> str:
    return signal.Signals(signum).name
