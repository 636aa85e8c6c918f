"""The daily run: on time across DST, missed runs within the grace, once per date, clean stop."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest import german, schedule
from digest.config import Config, ScheduleConfig
from digest.errors import ConfigError, LockedError
from digest.runs import exclusive, lock_path, run_day, settle_state
from digest.schedule import (
    JsonLogFormatter,
    daily_trigger,
    next_runs,
    parse_time,
    plan_start,
    run_missed,
    scheduled_run,
)
from digest.store import CachedPage, RunRecord, SentEdition, Store
from tests.conftest import TEST_FEEDS_WINDOW_HOURS, Reply, project_config

BERLIN = ZoneInfo("Europe/Berlin")
FEEDS = Path(__file__).parent / "data" / "feeds"
REPO = Path(__file__).resolve().parents[1]
MONDAY = date(2026, 11, 30)


def at(day: date, hour: int, minute: int = 0) -> Callable[[], datetime]:
    """A clock stopped at a Berlin wall-clock time."""
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)
    return lambda: moment


def config_for(tmp_path: Path, feeds: Path = FEEDS / "list.toml") -> Config:
    return project_config(tmp_path, feeds, window_hours=TEST_FEEDS_WINDOW_HOURS)


def ledger(config: Config) -> list[tuple[str, str, int]]:
    with Store.open(config.state_path) as store:
        return [(r.day.isoformat(), r.status, r.attempts) for r in store.runs.recent(100)]


# --- the trigger ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "utc_hours"),
    [
        # Summer time begins at 02:00 on 29 March 2026: 06:00 local moves from 05:00 to 04:00 UTC.
        (datetime(2026, 3, 27, 12, tzinfo=UTC), [5, 4, 4, 4]),
        # Summer time ends at 03:00 on 25 October 2026: 06:00 local moves from 04:00 to 05:00 UTC.
        (datetime(2026, 10, 23, 12, tzinfo=UTC), [4, 5, 5, 5]),
    ],
)
def test_next_fire_times_across_dst_changes_stay_at_six_local(
    start: datetime, utc_hours: list[int]
) -> None:
    trigger = daily_trigger(ScheduleConfig(), "Europe/Berlin")
    fires = next_runs(trigger, start, 4)
    assert [f.astimezone(BERLIN).strftime("%H:%M") for f in fires] == ["06:00"] * 4
    assert [f.astimezone(UTC).hour for f in fires] == utc_hours
    first = start.date() + timedelta(days=1)
    assert [f.astimezone(BERLIN).date() for f in fires] == [
        first + timedelta(days=n) for n in range(4)
    ]


def test_weekday_schedule_skips_the_weekend() -> None:
    trigger = daily_trigger(ScheduleConfig(days="mon-fri"), "Europe/Berlin")
    fires = next_runs(trigger, datetime(2026, 11, 27, 12, tzinfo=UTC), 2)  # a Friday
    assert [f.astimezone(BERLIN).date() for f in fires] == [date(2026, 11, 30), date(2026, 12, 1)]


def test_time_may_name_seconds() -> None:
    trigger = daily_trigger(ScheduleConfig(time="06:30:15"), "Europe/Berlin")
    (fire,) = next_runs(trigger, datetime(2026, 11, 30, 0, tzinfo=BERLIN), 1)
    assert fire == datetime(2026, 11, 30, 6, 30, 15, tzinfo=BERLIN)


@pytest.mark.parametrize("text", ["6", "24:00", "06:60", "06:00:60", "6 Uhr", "", "06:00am"])
def test_malformed_time_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match=r"schedule\.time"):
        parse_time(text)


def test_malformed_days_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"schedule\.days"):
        daily_trigger(ScheduleConfig(days="montag"), "Europe/Berlin")


@given(st.integers(0, 23), st.integers(0, 59), st.one_of(st.none(), st.integers(0, 59)))
def test_every_valid_time_reads_back(hour: int, minute: int, second: int | None) -> None:
    text = f"{hour:02d}:{minute:02d}" + ("" if second is None else f":{second:02d}")
    assert parse_time(text) == (hour, minute, second or 0)


def test_next_run_is_shown_in_german_local_time() -> None:
    trigger = daily_trigger(ScheduleConfig(), "Europe/Berlin")
    (fire,) = next_runs(trigger, datetime(2026, 11, 29, 10, tzinfo=UTC), 1)
    assert german.long_datetime(fire, "Europe/Berlin") == "Montag, 30. November 2026, 06:00 Uhr"


# --- missed runs on start ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "action"),
    [(5, "wait"), (6, "run"), (8, "run"), (12, "run"), (13, "skip"), (23, "skip")],
)
def test_start_plan_by_hour_with_six_hours_grace(hour: int, action: str) -> None:
    trigger = daily_trigger(ScheduleConfig(), "Europe/Berlin")
    plan = plan_start(trigger, at(MONDAY, hour)(), timedelta(hours=6), None)
    assert plan.action == action


def test_start_plan_does_not_repeat_a_done_run() -> None:
    trigger = daily_trigger(ScheduleConfig(), "Europe/Berlin")
    done = dataclasses.replace(_record(MONDAY), status="done")
    assert plan_start(trigger, at(MONDAY, 8)(), timedelta(hours=6), done).action == "wait"


def test_start_plan_waits_on_a_day_without_a_run() -> None:
    trigger = daily_trigger(ScheduleConfig(days="mon-fri"), "Europe/Berlin")
    assert plan_start(trigger, at(date(2026, 11, 29), 8)(), timedelta(hours=6), None).action == (
        "wait"
    )


def test_process_started_at_eight_runs_the_missed_run_once(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    trigger = daily_trigger(config.schedule, config.timezone)
    first = run_missed(config, trigger, clock=at(MONDAY, 8), wait=5)
    assert first is not None and first.ran
    assert (config.out_dir / "2026-11-30" / "digest.html").is_file()
    # A restart later the same morning finds the day done.
    again = run_missed(config, trigger, clock=at(MONDAY, 9), wait=5)
    assert again is None
    assert ledger(config) == [("2026-11-30", "done", 1)]


def test_process_started_at_thirteen_skips_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(tmp_path)
    trigger = daily_trigger(config.schedule, config.timezone)
    with caplog.at_level(logging.INFO, logger="digest"):
        assert run_missed(config, trigger, clock=at(MONDAY, 13), wait=5) is None
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "skipped" in warnings[0].getMessage()
    assert ledger(config) == []
    assert not (config.out_dir / "2026-11-30").exists()


def test_several_missed_days_are_not_all_run(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    trigger = daily_trigger(config.schedule, config.timezone)
    # The process was down since Friday; on Monday at 08:00 only Monday's run happens.
    run_missed(config, trigger, clock=at(MONDAY, 8), wait=5)
    assert ledger(config) == [("2026-11-30", "done", 1)]
    assert sorted(p.name for p in config.out_dir.glob("2026-*")) == ["2026-11-30"]


# --- once per date -------------------------------------------------------------------------------


def test_two_schedulers_against_the_same_state_run_the_day_once(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    start = threading.Barrier(2)
    outcomes = []

    def scheduler() -> None:
        start.wait()
        outcomes.append(scheduled_run(config, clock=at(MONDAY, 6), wait=60))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(o is not None and o.ran for o in outcomes) == [False, True]
    assert ledger(config) == [("2026-11-30", "done", 1)]


def test_a_held_lock_makes_a_second_run_fail_with_a_clear_message(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    with exclusive(config, wait=0), pytest.raises(LockedError, match="another digest run"):
        run_day(config, day=MONDAY, clock=at(MONDAY, 6), send=False, wait=0.2)
    assert ledger(config) == []
    assert lock_path(config).parent == config.state_path.parent


def test_a_manual_build_during_a_run_exits_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from digest import cli, runs

    monkeypatch.setattr(runs, "MANUAL_LOCK_WAIT_SECONDS", 0.2)
    config = config_for(tmp_path).with_out_dir(tmp_path / "out")  # what `--out` makes of it
    with exclusive(config, wait=0):
        result = CliRunner().invoke(
            cli.main,
            ["build", "--out", str(config.out_dir), "--feeds", str(FEEDS / "list.toml")],
        )
    assert result.exit_code == 1
    assert "another digest run holds the lock" in result.output
    assert not list(config.out_dir.glob("20*"))


def test_a_running_row_whose_lock_is_free_is_stale_and_runs_again(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    with Store.open(config.state_path) as store:
        store.runs.begin(MONDAY, at(MONDAY, 6)())  # the process died here
    outcome = run_day(config, day=MONDAY, clock=at(MONDAY, 8), send=False, wait=5)
    assert outcome.ran
    assert ledger(config) == [("2026-11-30", "done", 2)]


def test_a_failed_run_is_recorded_and_tried_again_on_the_next_start(tmp_path: Path) -> None:
    config = config_for(tmp_path, feeds=tmp_path / "missing.toml")
    trigger = daily_trigger(config.schedule, config.timezone)
    assert run_missed(config, trigger, clock=at(MONDAY, 7), wait=5) is None
    with Store.open(config.state_path) as store:
        record = store.runs.get(MONDAY)
    assert record is not None and record.status == "failed"
    assert record.error is not None and "missing.toml" in record.error
    repaired = dataclasses.replace(config, feeds=FEEDS / "list.toml")
    outcome = run_missed(repaired, trigger, clock=at(MONDAY, 8), wait=5)
    assert outcome is not None and outcome.ran
    assert ledger(config) == [("2026-11-30", "done", 2)]


def test_status_lists_next_run_runs_and_failing_feeds(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    run_day(config, day=MONDAY, clock=at(MONDAY, 6), send=False, wait=5)
    with Store.open(config.state_path) as store:
        store.feeds.record("Delta", at(MONDAY, 6)(), "HTTP 503", "503")
    lines = schedule.status_report(config, now=at(MONDAY, 7)())
    text = "\n".join(lines)
    assert "Nächster Lauf: Dienstag, 1. Dezember 2026, 06:00 Uhr" in text
    assert "2026-11-30  erledigt, gestartet Montag, 30. November 2026, 06:00 Uhr" in text
    assert "Delta: 1× fehlgeschlagen" in text and "HTTP 503" in text


def test_status_lists_the_pages_that_kept_their_teaser(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    failed = [
        CachedPage(f"https://zeitung.example/{n}", at(MONDAY, 6)(), None, f"HTTP 50{n}")
        for n in range(12)
    ]
    with Store.open(config.state_path) as store:
        store.pages.cache(failed)
    text = "\n".join(schedule.status_report(config, now=at(MONDAY, 7)()))
    assert "Seiten ohne Volltext (Anriss gezeigt, letzte 24 Stunden):" in text
    assert "HTTP 500" in text and "… und 2 weitere" in text
    tomorrow = schedule.status_report(config, now=at(MONDAY + timedelta(days=2), 7)())
    assert "HTTP 500" not in "\n".join(tomorrow)


def test_a_retried_run_of_a_sent_day_keeps_the_edition_as_sent(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    run_day(config, day=MONDAY, clock=at(MONDAY, 6), send=False, wait=5)
    folder = config.out_dir / MONDAY.isoformat()
    sent = SentEdition(
        MONDAY,
        1,
        "Briefing",
        (folder / "digest.html").read_text("utf-8"),
        (folder / "digest.txt").read_text("utf-8"),
        (folder / "digest.json").read_text("utf-8"),
    )
    with Store.open(config.state_path) as store:
        store.editions.freeze(sent, at(MONDAY, 6)())
        store.sends.accepted(MONDAY, 1, "a@example.org", at(MONDAY, 6)(), "<m>")
    before = (folder / "digest.html").read_bytes()
    fewer = dataclasses.replace(config, select=dataclasses.replace(config.select, max_total=1))
    outcome = run_day(fewer, day=MONDAY, clock=at(MONDAY, 9), send=False, wait=5, force=True)
    assert outcome.ran and (folder / "digest.html").read_bytes() == before


def test_a_state_left_in_out_by_an_earlier_version_moves_to_the_state_folder_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_for(tmp_path)
    legacy = dataclasses.replace(config, state_dir=config.out_dir)  # where it used to live
    run_day(legacy, day=MONDAY, clock=at(MONDAY, 6), send=False, wait=5)
    (config.out_dir / "cron.log").write_text("06:00 gelaufen\n", encoding="utf-8")
    assert (config.out_dir / "state.sqlite").is_file()
    with caplog.at_level("WARNING", logger="digest.runs"):
        settle_state(config)
    assert any("moved the state database" in r.getMessage() for r in caplog.records)
    assert ledger(config) == [("2026-11-30", "done", 1)]
    left = {p.name for p in config.out_dir.iterdir() if p.is_file()}
    assert left == {"index.html", "feed.xml"}
    assert (config.state_dir / "cron.log").read_text("utf-8") == "06:00 gelaufen\n"
    caplog.clear()
    with caplog.at_level("WARNING", logger="digest.runs"):
        settle_state(config)  # once: nothing left to move, nothing said
    assert caplog.records == []


def test_json_log_lines_carry_time_level_logger_and_message() -> None:
    record = logging.LogRecord(
        "digest.pipeline", logging.INFO, __file__, 1, "stage %s took %.2f s", ("render", 0.5), None
    )
    entry = json.loads(JsonLogFormatter().format(record))
    assert entry["level"] == "INFO" and entry["logger"] == "digest.pipeline"
    assert entry["message"] == "stage render took 0.50 s"
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None


# --- real processes ------------------------------------------------------------------------------


def about_noon() -> ZoneInfo:
    """A fixed-offset zone in which it is now between 12:00 and 13:00: the scheduler's "today"
    stays the same day for hours, so the tests below never meet midnight, whenever they run."""
    offset = 12 - datetime.now(UTC).hour  # hours east of UTC, -11 to +12
    return ZoneInfo(f"Etc/GMT{-offset:+d}")  # the Etc names count the other way round


def write_config(
    tmp_path: Path,
    *,
    feeds: Path,
    run_at: str,
    zone: ZoneInfo,
    grace: float = 24.0,
    email: str = "",
) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(
        f"""
[digest]
feeds = "{feeds}"
out_dir = "out"
timezone = "{zone.key}"

[schedule]
time = "{run_at}"
days = "mon-sun"
grace_hours = {grace}
{email}
""",
        encoding="utf-8",
    )
    return path


def slow_feeds(tmp_path: Path, http_server: Callable[..., object]) -> Path:
    """A feed list whose alpha feed answers after 3 s: a dependable "mid-run" for signals."""
    slow = Reply(
        body=(FEEDS / "alpha.xml").read_bytes(),
        delay=3.0,
        headers={"Content-Type": "application/rss+xml"},
    )
    server = http_server({"/alpha.xml": slow})
    return slow_feed_list(tmp_path, server.url("/alpha.xml"))  # type: ignore[attr-defined]


def slow_feed_list(tmp_path: Path, url: str) -> Path:
    """The test feeds, one of them behind a server that answers slowly."""
    path = tmp_path / "feeds.toml"
    path.write_text(
        f"""
[[feeds]]
name = "Alpha Nachrichten"
url = "{url}"

[[feeds]]
name = "Beta Sicherheitsreport"
url = "{FEEDS / "beta.atom"}"
""",
        encoding="utf-8",
    )
    return path


class Process:
    """`digest schedule` in a subprocess, its JSON log lines read as they come."""

    def __init__(self, config: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "digest",
                "-v",
                "--log-format",
                "json",
                "schedule",
                "--config",
                str(config),
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO,
        )
        self.lines: list[dict[str, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            try:
                self.lines.append(json.loads(line))
            except json.JSONDecodeError:
                self.lines.append({"level": "RAW", "message": line.rstrip()})

    def wait_for(self, fragment: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(fragment in entry["message"] for entry in list(self.lines)):
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no log line with {fragment!r}; got {self.messages()}")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.popen.send_signal(signum)
        code = self.popen.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def messages(self) -> list[str]:
        return [entry["message"] for entry in self.lines]


@pytest.fixture
def processes() -> Iterator[Callable[[Path], Process]]:
    started: list[Process] = []

    def start(config: Path) -> Process:
        process = Process(config)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.popen.poll() is None:
            process.popen.kill()
            process.popen.wait()


def edition_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file() and p.name != ".digest.lock")


def assert_no_partial_files(out: Path) -> None:
    files = edition_files(out)
    assert not [p for p in files if p.name.endswith(".tmp")]
    for path in files:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))  # complete, or it would not parse
        if path.suffix == ".html":
            assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")


def ledger_rows(state: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(state) as db:
        return list(db.execute("SELECT date, status, attempts FROM runs ORDER BY date"))


def test_sigterm_during_a_run_lets_it_finish_without_partial_files(
    tmp_path: Path, http_server: Callable[..., object], processes: Callable[[Path], Process]
) -> None:
    feeds = slow_feeds(tmp_path, http_server)
    zone = about_noon()
    config = write_config(tmp_path, feeds=feeds, run_at="00:00:00", zone=zone)
    process = processes(config)
    process.wait_for("run of")  # the missed run started and waits for the slow feed
    assert process.stop(signal.SIGTERM) == 0
    assert any("received SIGTERM" in m for m in process.messages())
    out = tmp_path / "out"
    assert_no_partial_files(out)
    today = datetime.now(zone).date().isoformat()
    assert (out / today / "digest.html").is_file()
    assert ledger_rows(tmp_path / "state" / "state.sqlite") == [(today, "done", 1)]
    # The next start finds the day done and does not run it again.
    again = processes(config)
    again.wait_for("already done")
    assert again.stop(signal.SIGINT) == 0
    assert ledger_rows(tmp_path / "state" / "state.sqlite") == [(today, "done", 1)]


def test_a_killed_run_leaves_no_partial_edition_and_runs_again_on_start(
    tmp_path: Path, http_server: Callable[..., object], processes: Callable[[Path], Process]
) -> None:
    feeds = slow_feeds(tmp_path, http_server)
    zone = about_noon()
    config = write_config(tmp_path, feeds=feeds, run_at="00:00:00", zone=zone)
    process = processes(config)
    process.wait_for("run of")
    process.stop(signal.SIGKILL)
    out = tmp_path / "out"
    today = datetime.now(zone).date().isoformat()
    assert not (out / today).exists()
    assert ledger_rows(tmp_path / "state" / "state.sqlite") == [(today, "running", 1)]
    again = processes(config)
    again.wait_for(f"run of {today} done")
    assert again.stop() == 0
    assert any("did not finish" in m for m in again.messages())
    assert_no_partial_files(out)
    assert ledger_rows(tmp_path / "state" / "state.sqlite") == [(today, "done", 2)]


def test_sigterm_during_a_triggered_run_stops_after_it(
    tmp_path: Path, http_server: Callable[..., object], processes: Callable[[Path], Process]
) -> None:
    feeds = slow_feeds(tmp_path, http_server)
    zone = about_noon()
    fire = (datetime.now(zone) + timedelta(seconds=8)).replace(microsecond=0)
    config = write_config(
        tmp_path, feeds=feeds, run_at=fire.strftime("%H:%M:%S"), zone=zone, grace=1.0
    )
    process = processes(config)
    process.wait_for(f"run of {fire.date().isoformat()} started", timeout=30)
    assert process.stop(signal.SIGTERM) == 0
    said = process.messages()
    done = next(i for i, m in enumerate(said) if f"run of {fire.date().isoformat()} done" in m)
    signalled = next(i for i, m in enumerate(said) if "received SIGTERM" in m)
    assert signalled < done < said.index("scheduler stopped")
    assert_no_partial_files(tmp_path / "out")
    assert ledger_rows(tmp_path / "state" / "state.sqlite") == [
        (fire.date().isoformat(), "done", 1)
    ]


# --- end to end with a real SMTP server ----------------------------------------------------------


class Inbox:
    """Collects what an aiosmtpd server on 127.0.0.1 receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.arrived: list[datetime] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        self.arrived.append(datetime.now(BERLIN))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    controller_module = pytest.importorskip("aiosmtpd.controller")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def email_section(port: int) -> str:
    return f"""
[email]
host = "127.0.0.1"
port = {port}
security = "none"
from = "briefing@example.org"
to = ["leser@example.org"]
retries = 0
"""


def wait_for_mail(inbox: Inbox, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def test_schedule_fires_a_few_seconds_ahead_and_one_mail_arrives(
    tmp_path: Path, smtp: tuple[Inbox, int], processes: Callable[[Path], Process]
) -> None:
    inbox, port = smtp
    zone = about_noon()
    fire = (datetime.now(zone) + timedelta(seconds=8)).replace(microsecond=0)
    config = write_config(
        tmp_path,
        feeds=FEEDS / "list.toml",
        run_at=fire.strftime("%H:%M:%S"),
        zone=zone,
        grace=1.0,
        email=email_section(port),
    )
    process = processes(config)
    wait_for_mail(inbox, 1)
    assert inbox.arrived and inbox.arrived[0] >= fire
    process.wait_for(f"run of {fire.date().isoformat()} done")
    time.sleep(1.0)  # a second mail, if any, would have arrived by now
    assert process.stop() == 0
    assert len(inbox.messages) == 1
    assert b"leser@example.org" in inbox.messages[0]
    assert ledger_rows(tmp_path / "state" / "state.sqlite") == [
        (fire.date().isoformat(), "done", 1)
    ]


def test_two_scheduler_processes_against_the_same_state_send_one_mail(
    tmp_path: Path, smtp: tuple[Inbox, int], processes: Callable[[Path], Process]
) -> None:
    inbox, port = smtp
    zone = about_noon()
    config = write_config(
        tmp_path, feeds=FEEDS / "list.toml", run_at="00:00:00", zone=zone, email=email_section(port)
    )
    first, second = processes(config), processes(config)
    today = datetime.now(zone).date().isoformat()
    for process in (first, second):
        process.wait_for("next run")
    assert first.stop() == 0 and second.stop() == 0
    assert len(inbox.messages) == 1
    assert ledger_rows(tmp_path / "state" / "state.sqlite") == [(today, "done", 1)]
    said = first.messages() + second.messages()
    assert sum(f"run of {today} done" in m for m in said) == 1
    assert sum("already done" in m for m in said) == 1


def _record(day: date) -> RunRecord:
    return RunRecord(
        day=day, status="running", started=at(day, 6)(), finished=None, error=None, attempts=1
    )
