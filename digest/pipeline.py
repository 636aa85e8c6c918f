"""The one place that knows the order of the stages, from feeds to the rendered digest and mail."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from digest import (
    __version__,
    archive,
    continuity,
    extract,
    feeds,
    http,
    mail,
    render,
    select,
    summarize,
    termine,
)
from digest.config import Config, load_feed_list
from digest.errors import (
    DigestError,
    FeedError,
    FetchError,
    MailError,
    SummarizeError,
)
from digest.models import (
    Article,
    Continuation,
    Digest,
    EarlierStory,
    Entry,
    Failure,
    FeedSource,
    Section,
    Story,
    Termin,
    is_web_url,
)
from digest.store import CachedPage, Store
from digest.urls import canonical_url

log = logging.getLogger(__name__)

# A page that could not be fetched or had no main text is tried again after this long; one that
# was extracted is never fetched again (its URL names the same article).
PAGE_RETRY_AFTER = timedelta(hours=6)


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
        with _stage("fetch"):
            results = _fetch_feeds(sources, config, now, store)
        with _stage("parse"):
            entries = _parse_feeds(sources, results, now, failures, store)
        with _stage("articles"):
            fresh, guids = _articles(entries, sources, now)
            store.remember(fresh, now, guids)
            if since is None and config.window_hours > 0:
                since = now - timedelta(hours=config.window_hours)
            articles = store.window(day, since)
        with _stage("extract"):
            articles = _full_texts(articles, config, store, now)
        earlier = _earlier_stories(config, day, store)
        fingerprint = _fingerprint(articles, config, continuity.fingerprint(earlier))
        cached = None if explain else store.cached_edition(day, fingerprint)
        if cached is None:
            with _stage("select"):
                selection = select.select(articles, config.select, now=now)
            with _stage("continuity"):
                continued = _continuations(selection.sections, earlier, config, day)
            with _stage("summarize"):
                sections = _summarize(selection.sections, config, failures, continued, earlier)
            top, omitted = selection.top, selection.omitted
            store.cache_edition(day, fingerprint, sections, top, omitted)
        else:
            log.info("nothing new for %s since its last build: selection and key points kept", day)
            sections, top, omitted = cached
            continued = _continuations(sections, earlier, config, day)
        stories = {s.lead.url: s for section in sections for s in section.stories}
        unchanged = {c.story for c in continued if c.unchanged}
        digest = Digest(
            date=day,
            generated_at=now,
            title=config.title,
            sections=sections,
            top=tuple(stories[url] for url in top if url in stories and url not in unchanged),
            failures=tuple(failures),
            omitted=omitted,
            continuations=continued,
            termine=_termine(sections, config, day),
        )
        with _stage("render"):
            rendered = render.render(
                digest,
                config.render,
                timezone=config.timezone,
                archive_url=config.continuity.archive_url,
            )
        files: dict[str, str | bytes] = {
            "digest.html": rendered.html,
            "digest.txt": rendered.text,
            "digest.json": rendered.json,
        }
        if explain:
            files["explain.txt"] = "\n".join(selection.explain) + "\n"  # never cached (above)
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
        store.compact(now - timedelta(days=config.keep_days))
    return BuildResult(digest=digest, paths=tuple(paths), failures=tuple(failures))


def _fetch_feeds(
    sources: Sequence[FeedSource], config: Config, now: datetime, store: Store
) -> list[http.Fetched | http.FetchFailure]:
    """Fetch every feed at once, revalidating what the store knows (ETag, Last-Modified) and
    skipping feeds whose last answer is still fresh."""
    fresh = store.freshness()
    validators = {
        health.url: http.Validators(
            etag=health.etag,
            last_modified=health.last_modified,
            fresh_until=fresh.get(health.name),
        )
        for health in store.feed_health()
        if health.url
    }
    return http.fetch_feeds(sources, config.fetch, validators, now=now)


def _parse_feeds(
    sources: Sequence[FeedSource],
    results: Sequence[http.Fetched | http.FetchFailure],
    now: datetime,
    failures: list[Failure],
    store: Store,
) -> list[tuple[FeedSource, Entry]]:
    """Parse the feeds that changed; a bad feed is one log line and one Failure. A 304 parses
    nothing: that feed's earlier articles are already in the store."""
    entries: list[tuple[FeedSource, Entry]] = []
    for source, result in zip(sources, results, strict=True):
        url = None if source.is_local else source.url
        try:
            if not isinstance(result, http.FetchFailure) and result.not_modified:
                store.record_feed(source.name, now, None, "304", url=url)
                if not result.fresh:
                    store.record_freshness(source.name, result.fresh_until(now))
                continue
            fetched, parsed = _parse_fetched(source, result, now)
        except (FetchError, FeedError) as error:
            status = _failure_status(error)
            log.warning("feed %s failed: %s", source.name, error)
            failures.append(Failure(source=source.name, stage="feed", message=str(error)))
            store.record_feed(source.name, now, str(error), status, url=url)
            continue
        for warning in parsed.warnings:
            log.warning("%s", warning)
        found = fetched.validators
        store.record_feed(
            source.name,
            now,
            None,
            str(fetched.status),
            url=url,
            etag=found.etag,
            last_modified=found.last_modified,
        )
        store.record_freshness(source.name, fetched.fresh_until(now))
        entries.extend((source, entry) for entry in parsed.entries)
    return entries


def check_feeds(
    sources: Sequence[FeedSource], config: Config, store: Store, now: datetime
) -> list[str]:
    """Fetch every feed unconditionally and parse it like a build does; record each outcome in
    feed health and return the parser's warnings. The stored validators are kept as they were,
    because a check stores no articles: the next build must still get a feed that changed."""
    stored = {record.name: record for record in store.feed_health()}
    warnings: list[str] = []
    for source, result in zip(sources, http.fetch_feeds(sources, config.fetch), strict=True):
        url = None if source.is_local else source.url
        try:
            fetched, parsed = _parse_fetched(source, result, now)
        except (FetchError, FeedError) as error:
            store.record_feed(source.name, now, str(error), _failure_status(error), url=url)
            continue
        warnings.extend(parsed.warnings)
        old = stored.get(source.name)
        store.record_feed(
            source.name,
            now,
            None,
            str(fetched.status),
            url=url,
            etag=old.etag if old else None,
            last_modified=old.last_modified if old else None,
        )
    return warnings


def _parse_fetched(
    source: FeedSource, result: http.Fetched | http.FetchFailure, now: datetime
) -> tuple[http.Fetched, feeds.ParsedFeed]:
    """The fetch and its parsed feed; FetchError when the fetch failed, FeedError for bad bytes."""
    if isinstance(result, http.FetchFailure):
        raise http.FetchFailed(result.message, result.status)
    parsed = feeds.parse_feed(
        result.body,
        source=source,
        now=now,
        base_url=None if source.is_local else result.url,
        headers=dict(result.headers),
    )
    return result, parsed


def _failure_status(error: FetchError | FeedError) -> str:
    return error.status if isinstance(error, http.FetchFailed) else "unparsable"


def _articles(
    entries: Sequence[tuple[FeedSource, Entry]], sources: Sequence[FeedSource], now: datetime
) -> tuple[list[Article], dict[str, str]]:
    """One article per canonical link or permalink guid; the first feed to carry it wins.
    Also returns each article's guid key (canonical URL -> guid) for the store."""
    seen: dict[str, Article] = {}
    owner: dict[str, str] = {}  # identity key -> canonical URL of the article it belongs to
    guids: dict[str, str] = {}
    for source, entry in entries:
        url = canonical_url(entry.url)
        guid = _guid_key(source, entry)
        keys = [url] if guid is None else [url, guid]
        if any(key in owner for key in keys):
            continue
        for key in keys:
            owner[key] = url
        if guid is not None:
            guids[url] = guid
        text = entry.content if len(entry.content) > len(entry.summary) else entry.summary
        seen[url] = Article(
            url=url,
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
    return list(seen.values()), guids


def _full_texts(
    articles: Sequence[Article], config: Config, store: Store, now: datetime
) -> list[Article]:
    """Texts cleaned, teasers replaced by their page's main text, languages detected; only the
    configured languages go on. Pages come from the cache, or are fetched together (links from
    feeds: http(s) only, no private addresses unless extract.allow_private) and cached."""
    settings = config.extract
    finish = functools.partial(extract.finish_article, min_words=settings.min_words)
    with extract.Workers(_processes(config)) as workers:
        texts = workers.map(extract.feed_text, articles)
        teasers = [extract.is_teaser_text(text, settings.min_words) for text in texts]
        work = list(zip(articles, texts, teasers, strict=True))
        # Articles with a text of their own are finished while the teasers' pages are fetched.
        complete = workers.submit(finish, [(a, t, None) for a, t, teaser in work if not teaser])
        pages = _pages([a.url for a, _, teaser in work if teaser], config, store, now, workers)
        with_pages = workers.map(
            finish, [(a, t, pages.get(a.url)) for a, t, teaser in work if teaser]
        )
        own, paged = iter(complete.results()), iter(with_pages)
        done = [next(paged) if teaser else next(own) for teaser in teasers]
    return [a for a in done if a.language in config.languages]


def _pages(
    urls: Sequence[str], config: Config, store: Store, now: datetime, workers: extract.Workers
) -> dict[str, extract.ExtractedPage | None]:
    """The extracted page of every URL: from the cache, or fetched, extracted and cached."""
    cached = store.cached_pages(urls)
    retry_before = now - PAGE_RETRY_AFTER
    stale = [
        url
        for url in urls
        if url not in cached or (cached[url].page is None and cached[url].fetched_at < retry_before)
    ]
    results = http.fetch_pages(stale, config.fetch, allow_private=config.extract.allow_private)
    bodies = [(r.body, r.url) for r in results if not isinstance(r, http.FetchFailure)]
    extracted = iter(workers.map(extract.extract_page_or_error, bodies))
    fetched = []
    for url, result in zip(stale, results, strict=True):
        if isinstance(result, http.FetchFailure):
            outcome: extract.ExtractedPage | DigestError = http.FetchFailed(
                result.message, result.status
            )
        else:
            outcome = next(extracted)
        if isinstance(outcome, extract.ExtractedPage):
            fetched.append(CachedPage(url, now, outcome))
        else:
            log.info("page %s: teaser kept: %s", url, outcome)
            fetched.append(CachedPage(url, now, None, str(outcome)))
    store.cache_pages(fetched)
    return {c.url: c.page for c in cached.values()} | {c.url: c.page for c in fetched}


def _processes(config: Config) -> int:
    """Worker processes for the CPU-bound stages: as configured, or one per usable core."""
    return config.processes or len(os.sched_getaffinity(0)) or 1


def _guid_key(source: FeedSource, entry: Entry) -> str | None:
    """A permalink guid names the article wherever it appears; any other guid only in its feed.
    A guid that is a site's front page names no article."""
    if not entry.guid:
        return None
    if is_web_url(entry.guid):
        permalink = canonical_url(entry.guid)
        return None if urlsplit(permalink).path in ("", "/") else permalink
    return f"{source.name}#{entry.guid}"


def _earlier_stories(config: Config, day: date, store: Store) -> list[EarlierStory]:
    """The stories of the last continuity.days editions before `day` as they were sent, with
    the texts of their articles while the state keeps them."""
    settings = config.continuity
    if not settings.enabled or settings.days <= 0:
        return []
    found = []
    for edition_day, text in archive.earlier_editions(config.out_dir, day, settings.days):
        try:
            texts = store.article_texts(continuity.source_links(text))
            found.extend(continuity.earlier_stories(edition_day, text, texts))
        except (ValueError, TypeError, AttributeError) as error:
            log.warning("edition %s unreadable for continuity: %s", edition_day, error)
    return found


def _continuations(
    sections: Sequence[Section], earlier: Sequence[EarlierStory], config: Config, day: date
) -> tuple[Continuation, ...]:
    if not earlier:
        return ()
    stories = [story for section in sections for story in section.stories]
    return continuity.match(
        stories,
        earlier,
        day=day,
        topics=select.load_topics(config.select.topics),
        only_new=config.continuity.only_new,
    )


def _termine(sections: Sequence[Section], config: Config, day: date) -> tuple[Termin, ...]:
    settings = config.termine
    if not settings.enabled:
        return ()
    articles = [a for section in sections for story in section.stories for a in story.articles]
    return termine.find_termine(
        articles, day=day, horizon_days=settings.days, timezone=config.timezone
    )


def _summarize(
    sections: Sequence[Section],
    config: Config,
    failures: list[Failure],
    continued: Sequence[Continuation] = (),
    earlier: Sequence[EarlierStory] = (),
) -> tuple[Section, ...]:
    """Key points for every story; a continued one's only from sentences not sent before."""
    by_story = {c.story: c for c in continued} if config.continuity.only_new else {}
    done = []
    for section in sections:
        stories = []
        for story in section.stories:
            continuation = by_story.get(story.lead.url)
            if continuation is None:
                points = _key_points(story, config, failures)
            elif continuation.unchanged:
                points = ()  # listed as "Weiterhin in den Nachrichten", not told again
            else:
                sent = continuity.matched_stories(continuation, earlier)
                fresh = continuity.fresh_texts(story, sent)
                points = _key_points(story, config, failures, fresh)
            stories.append(replace(story, key_points=points))
        done.append(replace(section, stories=tuple(stories)))
    return tuple(done)


def _key_points(
    story: Story,
    config: Config,
    failures: list[Failure],
    versions: Sequence[tuple[str, str]] | None = None,
) -> tuple[str, ...]:
    """Key points of the lead, or drawn across every outlet's version when there are several;
    `versions` ((title, text) pairs) replaces the articles' own texts."""
    settings = config.summarize
    lead = story.lead
    try:
        if versions is not None and len(versions) == 1:
            points = summarize.key_points(
                versions[0][1],
                title=versions[0][0],
                max_points=settings.max_points,
                language=lead.language,
                word_budget=settings.word_budget,
            )
        elif versions is not None or story.others:
            points = summarize.story_key_points(
                versions
                if versions is not None
                else [(a.title, a.text) for a in story.articles if a.language == lead.language],
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


def _fingerprint(articles: Sequence[Article], config: Config, earlier: str = "") -> str:
    """A digest of everything selection and summarising read: the articles and their settings.

    The same fingerprint means the same stories and key points, so they need not be computed
    again; templates and rendering are not part of it (rendering is cheap and always redone)."""
    digest = hashlib.sha256()
    settings = (config.select, config.summarize, config.languages, config.continuity, __version__)
    digest.update(repr(settings).encode())
    digest.update(earlier.encode())
    for article in sorted(articles, key=lambda a: a.url):
        digest.update(json.dumps(asdict(article), default=str, sort_keys=True).encode())
    return digest.hexdigest()


@contextmanager
def _stage(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    log.info("stage %s took %.2f s", name, time.perf_counter() - started)


def send(
    config: Config,
    *,
    day: date,
    now: datetime,
    dry_run: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    backoff: float = 5.0,
) -> mail.SendReport:
    """Send the built edition of `day` to every recipient not yet served; write its digest.eml."""
    settings = config.email
    mail.check_settings(settings)
    recipients = mail.load_recipients(settings)
    letter = _letter(config, day)
    copy = mail.archive_copy(letter, config=settings, now=now)
    archive.write_atomic(archive.edition_dir(config.out_dir, day) / "digest.eml", copy.as_bytes())
    with Store.open(config.state_path) as store:
        if dry_run:
            return mail.plan(letter, recipients, store)
        password = mail.read_password(settings, os.environ)
        with _stage("send"):
            return mail.deliver(
                letter,
                recipients,
                store,
                settings,
                now=now,
                password=password,
                ssl_context=ssl_context,
                backoff=backoff,
            )


def _letter(config: Config, day: date) -> mail.Letter:
    """The built edition of `day` read back from out/: subject, text and HTML."""
    folder = archive.edition_dir(config.out_dir, day)
    try:
        text = (folder / "digest.txt").read_text(encoding="utf-8")
        html = (folder / "digest.html").read_text(encoding="utf-8")
        data = json.loads((folder / "digest.json").read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise MailError(
            f"{folder}: no built edition ({Path(error.filename).name} missing);"
            f" run `digest build --date {day.isoformat()}` first"
        ) from None
    except (OSError, ValueError) as error:
        raise MailError(f"{folder}: cannot read the built edition: {error}") from None
    if data.get("date") != day.isoformat():
        raise MailError(f"{folder}/digest.json is the edition of {data.get('date')!r}, not {day}")
    subject = mail.make_subject(
        config.email.subject, day, render.german_long_date(day), str(data.get("title", ""))
    )
    return mail.Letter(day=day, subject=subject, text=text, html=html)
