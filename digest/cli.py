"""The `digest` command: thin click commands; logging and exit codes are set up only here."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from digest import __version__
from digest.config import Config, load_config, load_feed_list
from digest.errors import DigestError, FetchError
from digest.models import FeedSource, is_web_url

if TYPE_CHECKING:
    from digest.mail import SendReport
    from digest.pipeline import BuildResult
    from digest.store import FeedHealth

# Each command imports the modules it uses when it runs: `digest --help` loads click and the
# config, `digest status` the state and the schedule, and only the commands that build, extract
# or summarise load the stages' libraries (about a second of start-up).

log = logging.getLogger("digest")


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--config and --out mean the same for every subcommand."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Configuration file (default: digest.toml of the project).",
    )
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Output folder for an independent run, with a state of its own outside it.",
    )
    @functools.wraps(command)
    def wrapper(*args: Any, config_path: Path | None, out_dir: Path | None, **kwargs: Any) -> Any:
        from digest import runs

        try:
            config = load_config(config_path)
            if out_dir is not None:
                config = config.with_out_dir(out_dir)
            runs.settle_state(config)
            return command(*args, config=config, **kwargs)
        except DigestError as error:
            raise click.ClickException(str(error)) from None

    return wrapper


def edition_date(
    help_text: str = "Date of the edition (default: today in the configured time zone).",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The --date option of the commands that work on one edition."""
    return click.option(
        "--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None, help=help_text
    )


@click.group()
@click.version_option(__version__, prog_name="sipo-digest")
@click.option("-v", "--verbose", is_flag=True, help="Log every stage.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text, or one JSON object a line.",
)
def main(verbose: bool, log_format: str) -> None:
    """sipo-digest: the German daily security-policy briefing."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        from digest.schedule import JsonLogFormatter

        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


@main.command()
@common_options
@edition_date()
@click.option(
    "--feeds",
    "feeds_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Feed list to use instead of the configured one.",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Take every article published since this date (not shown in another edition) instead"
    " of those published within window_hours.",
)
@click.option("--explain", is_flag=True, help="Also write explain.txt with every article's fate.")
@click.option(
    "--send",
    "send_after",
    is_flag=True,
    help="After a successful build, send the edition (like `digest send`).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Select and summarise again instead of reusing the last build's stories; refused for"
    " an edition already sent.",
)
@click.option(
    "--new-edition",
    is_flag=True,
    help="With --force on an edition already sent: make a new edition of that date, sent to"
    " every recipient again.",
)
def build(
    config: Config,
    day: datetime | None,
    feeds_path: Path | None,
    since: datetime | None,
    explain: bool,
    send_after: bool,
    force: bool,
    new_edition: bool,
) -> None:
    """Build one edition and print the paths of the files written.

    An edition any recipient has is kept exactly as sent: building it again writes the same
    files, and later articles wait for the next edition."""
    from digest import runs

    if new_edition and not force:
        raise click.UsageError("--new-edition replaces a sent edition only together with --force")
    now = datetime.now(UTC)
    zone = ZoneInfo(config.timezone)
    edition = day.date() if day else now.astimezone(zone).date()
    options = runs.BuildOptions(
        feeds_path=feeds_path,
        since=datetime.combine(since.date(), time(), zone) if since else None,
        explain=explain,
        force=force,
        new_edition=new_edition,
    )
    report_build = functools.partial(_report_build, edition)
    if not send_after:
        report_build(
            runs.build_day(
                config, day=edition, now=now, wait=runs.MANUAL_LOCK_WAIT_SECONDS, options=options
            )
        )
        return
    # A build that sends is a daily run (from cron, say): it goes into the run ledger like the
    # scheduler's, so `digest status` shows it and the scheduler does not run the day again.
    outcome = runs.run_day(
        config,
        day=edition,
        clock=lambda: datetime.now(UTC),
        send=True,
        wait=runs.MANUAL_LOCK_WAIT_SECONDS,
        force=True,
        options=options,
        built=report_build,
    )
    if outcome.report is not None:
        _report_send(outcome.report)
    if not outcome.sent:
        raise click.exceptions.Exit(1)


def _report_build(edition: date, result: BuildResult) -> None:
    if result.kept:
        click.echo(
            f"Ausgabe {edition.isoformat()} ist bereits versandt und bleibt unverändert;"
            " neue Artikel kommen in die nächste Ausgabe.",
            err=True,
        )
    for failure in result.failures:
        click.echo(f"Warnung: {failure.source}: {failure.message}", err=True)
    for path in result.paths:
        click.echo(str(path))


@main.command()
@common_options
@edition_date()
@click.option(
    "--dry-run", is_flag=True, help="Write digest.eml and list who would receive it; send nothing."
)
def send(config: Config, day: datetime | None, dry_run: bool) -> None:
    """Send a built edition to every recipient not yet served (safe to repeat)."""
    from digest import runs

    now = datetime.now(UTC)
    edition = day.date() if day else now.astimezone(ZoneInfo(config.timezone)).date()
    report = runs.send_day(
        config, day=edition, now=now, wait=runs.MANUAL_LOCK_WAIT_SECONDS, dry_run=dry_run
    )
    _report_send(report)
    if not report.ok:
        raise click.exceptions.Exit(1)


def _report_send(report: SendReport) -> None:
    """Print who got the edition (or would) and who did not."""
    for address in report.pending:
        click.echo(address)
    if report.aborted:
        click.echo(f"Fehler: {report.aborted}", err=True)
    else:
        for undelivered in report.failed:
            click.echo(f"Nicht zugestellt: {undelivered.address}: {undelivered.error}", err=True)
    click.echo(report.summary(), err=not report.ok)


@main.command("summarize")
@common_options
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--points", type=click.IntRange(1, 10), default=3, show_default=True)
@click.option("--title", default=None, help="The article's title, to weigh sentences by it.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of lines.")
def summarize_command(
    config: Config, source: Any, points: int, title: str | None, as_json: bool
) -> None:
    """Print the key points of one text (FILE or - for standard input)."""
    from digest import summarize

    points_found = summarize.key_points(source.read(), title=title, max_points=points)
    if as_json:
        click.echo(json.dumps(points_found, ensure_ascii=False, indent=2))
    else:
        for point in points_found:
            click.echo(f"- {point}")


@main.command()
@common_options
@edition_date("Open this edition's digest.html (default: the archive page).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
def preview(config: Config, day: datetime | None, port: int) -> None:
    """Serve the edition files of out/ on 127.0.0.1 and print the URL; stop with Ctrl+C.

    Only index.html, feed.xml and each edition's .html, .txt and .json files are served."""
    from digest.preview import preview_server

    page = f"{day.date().isoformat()}/digest.html" if day else "index.html"
    if not (config.out_dir / page).is_file():
        missing = config.out_dir / page
        raise click.ClickException(f"{missing} does not exist; run `digest build` first")
    try:
        server = preview_server(config.out_dir, port)
    except OSError as error:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None
    with server:
        click.echo(f"http://127.0.0.1:{server.server_address[1]}/{page}")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()


@main.command()
@common_options
def schedule(config: Config) -> None:
    """Run in the foreground: build and send every scheduled day; stop with Ctrl+C or SIGTERM.

    On start, today's run happens at once if it was missed by less than schedule.grace_hours."""
    from digest.schedule import serve

    serve(config)


@main.command()
@common_options
@click.option(
    "--runs",
    "limit",
    type=click.IntRange(1, 100),
    default=7,
    show_default=True,
    help="How many of the latest runs to list.",
)
def status(config: Config, limit: int) -> None:
    """Print the next scheduled run, the latest runs, failing feeds and mails not delivered."""
    from digest.schedule import status_report

    for line in status_report(config, now=datetime.now(UTC), limit=limit):
        click.echo(line)


@main.command("extract")
@common_options
@click.argument("target")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print title, author, date, language, paywall flag and text as JSON.",
)
def extract_command(config: Config, target: str, as_json: bool) -> None:
    """Print the main text of one article page (URL or FILE), paragraphs separated by blank lines.

    A URL is fetched like a page a feed links to (private addresses only with
    extract.allow_private); a FILE is read from disk."""
    from digest import extract, http

    if is_web_url(target):
        (result,) = http.fetch_pages(
            [target], config.fetch, allow_private=config.extract.allow_private
        )
        if isinstance(result, http.FetchFailure):
            raise FetchError(result.message)
        body, url = result.body, result.url
    elif "://" in target:
        raise FetchError(f"{target}: only http(s) URLs or file paths can be extracted")
    else:
        body, url = http.read_local(Path(target).absolute(), config.fetch).body, None
    page = extract.extract_page_or_error((body, url))
    if isinstance(page, DigestError):
        raise page
    if as_json:
        fields = {
            "url": url,
            "title": page.title,
            "author": page.author,
            "date": page.date.isoformat() if page.date else None,
            "language": page.language,
            "paywalled": page.paywalled,
            "text": page.text,
        }
        click.echo(json.dumps(fields, ensure_ascii=False, indent=2))
    else:
        click.echo(page.text)


# --- feeds: health check and OPML ---------------------------------------------------------------


@main.group("feeds")
def feeds_group() -> None:
    """Check the configured feeds; convert feed lists to and from OPML."""


@feeds_group.command("check")
@common_options
@click.option(
    "--feeds",
    "feeds_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Feed list to check instead of the configured one.",
)
@click.option(
    "--fetch/--no-fetch",
    default=True,
    show_default=True,
    help="Fetch and parse every feed once first (no articles are stored); "
    "--no-fetch only shows what the last build or check recorded.",
)
def feeds_check(config: Config, feeds_path: Path | None, fetch: bool) -> None:
    """Print each feed's health: status, last success, last error, consecutive failures.

    Times are UTC in ISO 8601. Exit status 1 when any feed is failing (its last check failed)."""
    from digest import fetching
    from digest.store import Store

    sources = load_feed_list(feeds_path or config.feeds)
    with Store.open(config.state_path) as store:
        if fetch:
            for warning in fetching.check_feeds(sources, config.fetch, store, datetime.now(UTC)):
                click.echo(f"warning: {warning}", err=True)
        health = {record.name: record for record in store.feeds.health()}
    for line in health_table(sources, health):
        click.echo(line)
    failing = [s.name for s in sources if s.name in health and health[s.name].failures > 0]
    if failing:
        click.echo(f"{len(failing)} of {len(sources)} feeds failing", err=True)
        raise click.exceptions.Exit(1)


HEALTH_COLUMNS = ("Feed", "Status", "Last success", "Last error", "Failures")
MAX_ERROR_CHARS = 80


def health_table(sources: tuple[FeedSource, ...], health: dict[str, FeedHealth]) -> list[str]:
    """A header line and one line per configured feed, columns aligned; a feed never checked
    shows "unchecked"."""
    rows = [HEALTH_COLUMNS]
    for source in sources:
        record = health.get(source.name)
        if record is None:
            rows.append((source.name, "unchecked", "-", "-", "0"))
            continue
        error = "-"
        if record.failures > 0 and record.last_error:
            error = _iso(record.last_error_at) + " " + " ".join(record.last_error.split())
            if len(error) > MAX_ERROR_CHARS:
                error = error[: MAX_ERROR_CHARS - 1] + "…"
        status = record.last_status or "-"
        rows.append((source.name, status, _iso(record.last_success), error, str(record.failures)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEALTH_COLUMNS) - 1)]
    failures_width = len(HEALTH_COLUMNS[-1])
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1].rjust(failures_width)
        for row in rows
    ]


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ") if moment else "-"


@feeds_group.command("import")
@common_options
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the TOML feed list to this file (default: print it).",
)
@click.option("--force", is_flag=True, help="Replace --to if it already exists.")
def feeds_import(config: Config, opml_file: Path, target: Path | None, force: bool) -> None:
    """Convert an OPML file into a TOML feed list (http(s) feeds only; category -> section)."""
    from digest import opml
    from digest.archive import write_atomic

    try:
        imported = opml.parse_opml(opml_file.read_bytes())
    except DigestError as error:
        raise click.ClickException(f"{opml_file}: {error}") from None
    for warning in imported.warnings:
        click.echo(f"warning: {opml_file}: {warning}", err=True)
    text = opml.feed_list_toml(imported.feeds, comment=f"Imported from {opml_file.name}.")
    if target is None:
        click.echo(text, nl=False)
        return
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; use --force to replace it")
    write_atomic(target, text)
    load_feed_list(target)  # what was written must read back
    click.echo(f"{len(imported.feeds)} feeds written to {target}", err=True)


@feeds_group.command("export")
@common_options
@click.option(
    "--feeds",
    "feeds_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Feed list to export instead of the configured one.",
)
def feeds_export(config: Config, feeds_path: Path | None) -> None:
    """Print the feed list as OPML 2.0 (local files are left out with a warning)."""
    from digest import opml

    exported = opml.to_opml(load_feed_list(feeds_path or config.feeds), title=config.title)
    for warning in exported.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(exported.document.decode("utf-8"), nl=False)
