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
from zoneinfo import ZoneInfo

from digest import (
    __version__,
    archive,
    continuity,
    editorial,
    extract,
    feeds,
    german,
    http,
    mail,
    render,
    select,
    summarize,
    termine,
)
from digest.config import Config, load_feed_list
from digest.errors import (
    EditionSentError,
    FeedError,
    FetchError,
    MailError,
    SummarizeError,
)
from digest.explain import explain_json, explain_text
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
from digest.relevance import load_topics
from digest.store import CachedPage, SentEdition, Store
from digest.urls import canonical_url
from digest.workers import Workers

log = logging.getLogger(__name__)

# A page that could not be fetched or had no main text is tried again after this long; one that
# was extracted is never fetched again (its URL names the same article).
PAGE_RETRY_AFTER = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build produced: the digest, the files written and what failed on the way.
    `kept`: the edition had been sent, so it was written again as sent (and `digest` is None)."""

    digest: Digest | None
    paths: tuple[Path, ...]
    failures: tuple[Failure, ...]
    kept: bool = False


def build(
    config: Config,
    *,
    day: date,
    now: datetime,
    feeds_path: Path | None = None,
    since: datetime | None = None,
    explain: bool = False,
    force: bool = False,
    new_edition: bool = False,
) -> BuildResult:
    """Build the digest of `day` from the configured feeds and write its files to out/.

    An edition that any recipient has is frozen: a rebuild writes it again exactly as it was
    sent, and later articles wait for the next edition. `force` (recompute the selection and key
    points) refuses such an edition unless `new_edition` starts a new one of the same date."""
    failures: list[Failure] = []
    breaker = http.HostBreaker()  # one per build: an origin that stops answering is skipped
    with Store.open(config.state_path) as store:
        sent = _sent_edition(store, day, now, force=force, new_edition=new_edition)
        if sent is not None:
            return _keep_sent(config, sent, explain)
        sources = load_feed_list(feeds_path or config.feeds)
        with _stage("fetch"):
            results = _fetch_feeds(sources, config, now, store, breaker)
        with _stage("parse"):
            entries = _parse_feeds(sources, results, now, failures, store)
        with _stage("articles"):
            fresh, guids = articles_from_entries(entries, now)
            store.remember(fresh, now, guids)
            articles = store.window(day, *news_window(config, day, now, since))
        with _stage("extract"):
            articles, page_failures = _full_texts(articles, config, store, now, breaker)
        earlier = _earlier_stories(config, day, store)
        fingerprint = _fingerprint(articles, config, continuity.fingerprint(earlier))
        cached = None if explain or force else store.cached_edition(day, fingerprint)
        if cached is None:
            with _stage("select"):
                selection = _select(articles, config, now)
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
        shown = {a.url for story in stories.values() for a in story.articles}
        unchanged = {c.story for c in continued if c.unchanged}
        digest = Digest(
            date=day,
            generated_at=now,
            title=config.title,
            sections=sections,
            top=tuple(stories[url] for url in top if url in stories and url not in unchanged),
            # The reader hears of the pages of stories in this edition; explain of every one.
            failures=(*failures, *(f for url, f in page_failures if url in shown)),
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
        if explain:  # never from the edition cache (above)
            everything = [*failures, *(f for _, f in page_failures)]
            files["explain.txt"] = explain_text(selection.considered, everything)
            files["explain.json"] = explain_json(day, selection.considered, everything)
        with _stage("archive"):
            paths = archive.write_edition(config.out_dir, day, files)
            paths += _write_site(config)
        store.assign(day, shown, now)
        store.compact(now - timedelta(days=config.keep_days))
    return BuildResult(digest=digest, paths=tuple(paths), failures=digest.failures)


def news_window(
    config: Config, day: date, now: datetime, since: datetime | None
) -> tuple[datetime, datetime | None]:
    """The publication times (undated articles: first-seen times) the edition of `day` takes
    articles from: `since` onwards with no end, or else the `window_hours` before the edition's
    time, which is `now`, or the end of `day` when that is earlier (an edition of a past day)."""
    if since is not None:
        return since, None
    day_end = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), ZoneInfo(config.timezone)
    )
    end = min(now, day_end)
    return end - timedelta(hours=config.window_hours), end


def _sent_edition(
    store: Store, day: date, now: datetime, *, force: bool, new_edition: bool
) -> SentEdition | None:
    """The edition of `day` as sent, if anyone has it and it is to be kept."""
    sent = store.sent_edition(day)
    if sent is None:
        return None
    served = store.served_count(day)
    if force and new_edition:
        revision = store.supersede_edition(day, now)
        log.warning(
            "edition of %s: a new edition (revision %d) replaces the one %d recipient(s) have;"
            " it will be sent to every recipient",
            day,
            revision,
            served,
        )
        return None
    if force:
        raise EditionSentError(
            f"the edition of {day} was sent to {served} recipient(s) and stays as sent; to"
            f" replace it with a new edition that every recipient gets again, run"
            f" `digest build --date {day} --force --new-edition`"
        )
    log.warning(
        "edition of %s was sent to %d recipient(s) already: kept exactly as sent; later articles"
        " wait for the next edition",
        day,
        served,
    )
    return sent


def _keep_sent(config: Config, sent: SentEdition, explain: bool) -> BuildResult:
    """Write a sent edition's files again as they were sent, and the archive pages."""
    files: dict[str, str | bytes] = {
        "digest.html": sent.html,
        "digest.txt": sent.text,
        "digest.json": sent.json,
    }
    if explain:
        files["explain.txt"] = (
            f"# Ausgabe {sent.day.isoformat()} ist bereits versandt und bleibt, wie sie ist;"
            " es wurde nichts neu ausgewählt.\n"
        )
    with _stage("archive"):
        paths = archive.write_edition(config.out_dir, sent.day, files)
        paths += _write_site(config)
    return BuildResult(digest=None, paths=tuple(paths), failures=(), kept=True)


def _write_site(config: Config) -> list[Path]:
    editions = archive.read_editions(config.out_dir)
    site = {"title": config.title, "timezone": config.timezone}
    return archive.write_site(
        config.out_dir,
        render.render_archive(editions, config.render, **site),
        render.render_feed(editions, config.render, **site),
    )


def _select(articles: Sequence[Article], config: Config, now: datetime) -> select.Selection:
    """The editorial model's judgement of each article, then stories, Ressorts and limits."""
    settings = config.select
    topics = load_topics(settings.topics)
    model = editorial.load_model(settings.model)
    judgements = editorial.judge(articles, model, topics, editorial.operator_terms(settings))
    return select.select(articles, judgements, model, topics, settings, now=now)


def _fetch_feeds(
    sources: Sequence[FeedSource],
    config: Config,
    now: datetime,
    store: Store,
    breaker: http.HostBreaker,
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
    return http.fetch_feeds(sources, config.fetch, validators, now=now, breaker=breaker)


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
    try:
        parsed = feeds.parse_feed(
            result.body,
            source=source,
            now=now,
            base_url=None if source.is_local else result.url,
            headers=dict(result.headers),
        )
    except FeedError:
        raise
    except Exception as error:  # a parser fault on one feed's bytes costs that feed only
        detail = f"{type(error).__name__}: {error}"
        raise FeedError(f"{source.name}: feed could not be parsed ({detail})") from None
    return result, parsed


def _failure_status(error: FetchError | FeedError) -> str:
    return error.status if isinstance(error, http.FetchFailed) else "unparsable"


def articles_from_entries(
    entries: Sequence[tuple[FeedSource, Entry]], now: datetime
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
        try:
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
                categories=entry.categories,
            )
        except ValueError as error:  # e.g. a link that is no valid URL once made canonical
            log.warning("feed %s: item %r left out: %s", source.name, entry.title, error)
    return list(seen.values()), guids


def _full_texts(
    articles: Sequence[Article],
    config: Config,
    store: Store,
    now: datetime,
    breaker: http.HostBreaker,
) -> tuple[list[Article], list[tuple[str, Failure]]]:
    """Texts cleaned, teasers replaced by their page's main text, languages detected; only the
    configured languages go on. Pages come from the cache, or are fetched together (links from
    feeds: http(s) only, no private addresses unless extract.allow_private) and cached. Also
    returns a Failure for every teaser whose page gave no text (by article URL): it keeps its
    teaser."""
    settings = config.extract
    finish = functools.partial(extract.finish_article, min_words=settings.min_words)
    with Workers(_processes(config)) as workers:
        texts = workers.map(extract.feed_text, articles)
        teasers = [extract.is_teaser_text(text, settings.min_words) for text in texts]
        work = list(zip(articles, texts, teasers, strict=True))
        # Articles with a text of their own are finished while the teasers' pages are fetched.
        complete = workers.submit(finish, [(a, t, None) for a, t, teaser in work if not teaser])
        urls = [a.url for a, _, teaser in work if teaser]
        pages = _pages(urls, config, store, now, workers, breaker)
        with_pages = workers.map(
            finish, [(a, t, pages[a.url].page) for a, t, teaser in work if teaser]
        )
        own, paged = iter(complete.results()), iter(with_pages)
        done = [next(paged) if teaser else next(own) for teaser in teasers]
    failed = [
        (a.url, Failure(source=a.source, stage="page", message=_page_error(a.url, pages[a.url])))
        for a, _, teaser in work
        if teaser and pages[a.url].page is None
    ]
    return [a for a in done if a.language in config.languages], failed


# Fetch outcomes that say a page was not tried at all (its origin was given up, or the stage
# ran out of time): not cached, so the next build tries the page.
_NOT_TRIED = frozenset({"skipped", "deadline"})


def _pages(
    urls: Sequence[str],
    config: Config,
    store: Store,
    now: datetime,
    workers: Workers,
    breaker: http.HostBreaker,
) -> dict[str, CachedPage]:
    """Every URL's page, or why there is none: from the cache, or fetched, extracted and cached
    (a failure too, so that a page that fails is not fetched again for PAGE_RETRY_AFTER)."""
    cached = store.cached_pages(urls)
    retry_before = now - PAGE_RETRY_AFTER
    stale = [
        url
        for url in urls
        if url not in cached or (cached[url].page is None and cached[url].fetched_at < retry_before)
    ]
    results = http.fetch_pages(
        stale, config.fetch, allow_private=config.extract.allow_private, breaker=breaker
    )
    bodies = [(r.body, r.url) for r in results if not isinstance(r, http.FetchFailure)]
    extracted = iter(workers.map(extract.extract_page_or_error, bodies))
    fetched: list[CachedPage] = []
    untried: list[CachedPage] = []
    for url, result in zip(stale, results, strict=True):
        outcome = result if isinstance(result, http.FetchFailure) else next(extracted)
        if isinstance(outcome, extract.ExtractedPage):
            fetched.append(CachedPage(url, now, outcome))
            continue
        message = outcome.message if isinstance(outcome, http.FetchFailure) else str(outcome)
        log.info("page %s: teaser kept: %s", url, message)
        failed = CachedPage(url, now, None, message)
        tried = not (isinstance(outcome, http.FetchFailure) and outcome.status in _NOT_TRIED)
        (fetched if tried else untried).append(failed)
    store.cache_pages(fetched)
    return {c.url: c for c in [*cached.values(), *fetched, *untried]}


def _page_error(url: str, cached: CachedPage) -> str:
    error = cached.error or "no main text"
    return error if url in error else f"{url}: {error}"


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
        topics=load_topics(config.select.topics),
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
    """Key points drawn across every version of the story in the lead's language, lead first;
    `versions` ((title, text) pairs) replaces the articles' own texts."""
    settings = config.summarize
    lead = story.lead
    try:
        points = summarize.story_key_points(
            versions
            if versions is not None
            else [(a.title, a.text) for a in story.articles if a.language == lead.language],
            max_points=settings.max_points,
            language=lead.language,
            word_budget=settings.word_budget,
            method=settings.method,
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
    # Files by content, never by path: an edited topic list or model is a new input.
    select_settings = replace(config.select, topics=None, model=None)
    settings = (
        select_settings,
        config.summarize,
        config.languages,
        config.continuity,
        __version__,
    )
    digest.update(repr(settings).encode())
    for name, content in _selection_files(config):
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    digest.update(earlier.encode())
    for article in sorted(articles, key=lambda a: a.url):
        digest.update(json.dumps(asdict(article), default=str, sort_keys=True).encode())
    return digest.hexdigest()


PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def _selection_files(config: Config) -> list[tuple[str, bytes]]:
    """(name, content) of every file selection and summarising read: the package's data files
    (topic list, models) and a configured topic list or editorial model."""
    paths = sorted(
        p for p in PACKAGE_DATA.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    named = [(p.relative_to(PACKAGE_DATA).as_posix(), p) for p in paths]
    if config.select.topics is not None:
        named.append(("select.topics", config.select.topics))
    if config.select.model is not None:
        named.append(("select.model", config.select.model))
    files = []
    for name, path in named:
        try:
            files.append((name, path.read_bytes()))
        except OSError as error:  # selection reports it; here it only has to differ
            files.append((name, f"unreadable: {error.strerror}".encode()))
    return files


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
    with Store.open(config.state_path) as store:
        # Once anyone has the edition, everyone else gets the very same one: the bytes kept
        # when it was first sent, whatever out/ holds now.
        sent = store.sent_edition(day)
        if sent is None:
            sent = _built_edition(config, day, store.edition_revision(day))
            if not dry_run:
                sent = store.freeze_edition(sent, now)
        letter = mail.Letter(
            day=day, subject=sent.subject, text=sent.text, html=sent.html, revision=sent.revision
        )
        copy = mail.archive_copy(letter, config=settings, now=now)
        folder = archive.edition_dir(config.out_dir, day)
        archive.write_atomic(folder / "digest.eml", copy.as_bytes())
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


def _built_edition(config: Config, day: date, revision: int) -> SentEdition:
    """The built edition of `day` read back from out/: subject, text, HTML and JSON."""
    folder = archive.edition_dir(config.out_dir, day)
    try:
        text = (folder / "digest.txt").read_text(encoding="utf-8")
        html = (folder / "digest.html").read_text(encoding="utf-8")
        raw = (folder / "digest.json").read_text(encoding="utf-8")
        data = json.loads(raw)
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
        config.email.subject, day, german.long_date(day), str(data.get("title", ""))
    )
    return SentEdition(day=day, revision=revision, subject=subject, html=html, text=text, json=raw)
