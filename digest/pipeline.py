"""The only place that knows the order of the stages: feeds -> articles -> selection -> key points -> digest."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from digest import archive, feeds, http, render, select, summarize
from digest.config import Config, load_feed_list
from digest.errors import FeedError, FetchError, SummarizeError
from digest.models import (
    Article,
    Digest,
    Entry,
    Failure,
    FeedSource,
    Section,
    Story,
)
from digest.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build produced: the digest, the files written and what failed on the way."""

    digest: Digest
    paths: tuple[Path, ...]
    failures: tuple[Failure, ...]


def build(
    config: Config,
    *,
    day: date,
    now: datetime,
    feeds_path: Path | None = None,
    since: datetime | None = None,
    explain: bool = False,
) -> BuildResult:
    """Build the digest of `day` from the configured feeds and write its files to out/."""
    sources = load_feed_list(feeds_path or config.feeds)
    failures: list[Failure] = []
    with Store.open(config.state_path) as store:
        with _stage("fetch+parse"):
            entries = _read_feeds(sources, config, now, failures, store)
        with _stage("articles"):
            store.remember(_articles(entries, sources, now), now)
            articles = [a for a in store.window(day, since) if a.language in config.languages]
        with _stage("select"):
            selection = select.select(articles, config.select, now=now)
        with _stage("summarize"):
            sections = _summarize(selection.sections, config, failures)
        stories = {s.lead.url: s for section in sections for s in section.stories}
        digest = Digest(
            date=day,
            generated_at=now,
            title=config.title,
            sections=sections,
            top=tuple(stories[url] for url in selection.top if url in stories),
            failures=tuple(failures),
            omitted=selection.omitted,
        )
        with _stage("render"):
            rendered = render.render(digest, config.render, timezone=config.timezone)
        files: dict[str, str | bytes] = {
            "digest.html": rendered.html,
            "digest.txt": rendered.text,
            "digest.json": rendered.json,
        }
        if explain:
            files["explain.txt"] = "\n".join(selection.explain) + "\n"
        with _stage("archive"):
            paths = archive.write_edition(config.out_dir, day, files)
            editions = archive.read_editions(config.out_dir)
            site = {"title": config.title, "timezone": config.timezone}
            paths += archive.write_site(
                config.out_dir,
                render.render_archive(editions, config.render, **site),
                render.render_feed(editions, config.render, **site),
            )
        shown = [a.url for story in digest.stories for a in story.articles]
        store.assign(day, shown, now)
    return BuildResult(digest=digest, paths=tuple(paths), failures=tuple(failures))


def _read_feeds(
    sources: Sequence[FeedSource],
    config: Config,
    now: datetime,
    failures: list[Failure],
    store: Store,
) -> list[tuple[FeedSource, Entry]]:
    entries: list[tuple[FeedSource, Entry]] = []
    for source in sources:
        try:
            fetched = http.fetch_source(source, config.fetch)
            parsed = feeds.parse_feed(
                fetched.body,
                source=source,
                now=now,
                base_url=fetched.url if not source.is_local else None,
                headers=dict(fetched.headers),
            )
        except (FetchError, FeedError) as error:
            log.warning("feed %s failed: %s", source.name, error)
            failures.append(Failure(source=source.name, stage="feed", message=str(error)))
            store.record_feed(source.name, now, str(error), "error")
            continue
        for warning in parsed.warnings:
            log.warning("%s", warning)
        store.record_feed(source.name, now, None, str(fetched.status))
        entries.extend((source, entry) for entry in parsed.entries)
    return entries


def _articles(
    entries: Sequence[tuple[FeedSource, Entry]], sources: Sequence[FeedSource], now: datetime
) -> list[Article]:
    """One article per link; the first feed to carry it wins."""
    seen: dict[str, Article] = {}
    for source, entry in entries:
        if entry.url in seen:
            continue
        text = entry.content if len(entry.content) > len(entry.summary) else entry.summary
        seen[entry.url] = Article(
            url=entry.url,
            title=entry.title,
            source=source.name,
            published=entry.published or now,
            text=text or entry.title,
            language=source.language,
            teaser=entry.summary,
            author=entry.author,
            section_hint=source.section,
            weight=source.weight,
            markers=entry.markers,
        )
    return list(seen.values())


def _summarize(
    sections: Sequence[Section], config: Config, failures: list[Failure]
) -> tuple[Section, ...]:
    done = []
    for section in sections:
        stories = []
        for story in section.stories:
            stories.append(replace(story, key_points=_key_points(story, config, failures)))
        done.append(replace(section, stories=tuple(stories)))
    return tuple(done)


def _key_points(story: Story, config: Config, failures: list[Failure]) -> tuple[str, ...]:
    """Key points of the lead, or drawn across every outlet's version when there are several."""
    settings = config.summarize
    lead = story.lead
    try:
        if story.others:
            points = summarize.story_key_points(
                [(a.title, a.text) for a in story.articles if a.language == lead.language],
                max_points=settings.max_points,
                language=lead.language,
                word_budget=settings.word_budget,
            )
        else:
            points = summarize.key_points(
                lead.text,
                title=lead.title,
                max_points=settings.max_points,
                language=lead.language,
                word_budget=settings.word_budget,
            )
    except SummarizeError as error:
        failures.append(Failure(source=lead.source, stage="summarize", message=str(error)))
        return ()
    return tuple(points)


@contextmanager
def _stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log.info("stage %s took %.2f s", name, time.perf_counter() - started)
