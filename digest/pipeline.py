"""The one place that knows the order of the stages, from feeds to the rendered digest and mail."""

from __future__ import annotations

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

from digest import (
    __version__,
    archive,
    continuity,
    editorial,
    fetching,
    fulltext,
    german,
    http,
    mail,
    render,
    select,
    summarize,
    termine,
)
from digest.articles import articles_from_entries, news_window
from digest.config import Config, load_feed_list
from digest.errors import EditionSentError
from digest.explain import explain_json, explain_text
from digest.models import (
    Article,
    Considered,
    Continuation,
    Digest,
    EarlierStory,
    Entry,
    Failure,
    FeedSource,
    Rendered,
    Section,
    Termin,
)
from digest.relevance import Topics, load_topics
from digest.store import SentEdition, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build produced: the digest, the files written and what failed on the way.
    `kept`: the edition had been sent, so it was written again as sent (and `digest` is None)."""

    digest: Digest | None
    paths: tuple[Path, ...]
    failures: tuple[Failure, ...]
    kept: bool = False


@dataclass(frozen=True, slots=True)
class Stories:
    """The edition's stories with their key points: computed, or kept from the last build."""

    sections: tuple[Section, ...]
    top: tuple[str, ...]  # links of the top stories' leads
    omitted: int
    continued: tuple[Continuation, ...]
    failures: tuple[Failure, ...] = ()
    considered: tuple[Considered, ...] = ()  # empty when kept


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
    breaker = http.HostBreaker()  # one per build: an origin that stops answering is skipped
    with Store.open(config.state_path) as store:
        sent = _sent_edition(store, day, now, force=force, new_edition=new_edition)
        if sent is not None:
            return _keep_sent(config, sent, explain)
        sources = load_feed_list(feeds_path or config.feeds)
        with _stage("fetch"):
            results = fetching.fetch_feeds(sources, config.fetch, store, now, breaker)
        with _stage("parse"):
            entries, feed_failures = fetching.parse_feeds(sources, results, store, now)
        with _stage("articles"):
            articles = _window_articles(entries, config, store, day, now, since)
        with _stage("extract"):
            articles, page_failures = fulltext.full_texts(articles, config, store, now, breaker)
        stories = _stories(articles, config, store, day, now, recompute=explain or force)
        failures = [*feed_failures, *stories.failures]
        digest = _digest(config, day, now, stories, failures, page_failures)
        with _stage("render"):
            rendered = _render(digest, config)
        files = _files(rendered.html, rendered.text, rendered.json)
        if explain:  # never from the edition cache (see _stories)
            files |= _explained(day, stories, failures, page_failures)
        paths = _archive(config, day, files)
        store.articles.assign(day, {a.url for story in digest.stories for a in story.articles}, now)
        store.compact(now - timedelta(days=config.keep_days))
    return BuildResult(digest=digest, paths=tuple(paths), failures=digest.failures)


def _window_articles(
    entries: Sequence[tuple[FeedSource, Entry]],
    config: Config,
    store: Store,
    day: date,
    now: datetime,
    since: datetime | None,
) -> list[Article]:
    """Remember the articles not seen before; the edition takes those of its news window (and
    those it already holds) that no other edition showed."""
    fresh, guids = articles_from_entries(entries, now)
    store.articles.remember(fresh, now, guids)
    window = news_window(
        day, now, since, timezone=config.timezone, window_hours=config.window_hours
    )
    return store.articles.window(day, *window)


def _stories(
    articles: Sequence[Article],
    config: Config,
    store: Store,
    day: date,
    now: datetime,
    *,
    recompute: bool,
) -> Stories:
    """Selection, continuity and key points; kept from the last build of `day` when nothing they
    read has changed since (unless `recompute`)."""
    earlier = _earlier_stories(config, day, store)
    fingerprint = _fingerprint(articles, config, continuity.fingerprint(earlier))
    cached = None if recompute else store.editions.cached(day, fingerprint)
    topics = load_topics(config.select.topics)
    if cached is not None:
        log.info("nothing new for %s since its last build: selection and key points kept", day)
        sections, top, omitted = cached
        continued = _continuations(sections, earlier, topics, config, day)
        return Stories(sections=sections, top=top, omitted=omitted, continued=continued)
    with _stage("select"):
        selection = _select(articles, config, topics, now)
    with _stage("continuity"):
        continued = _continuations(selection.sections, earlier, topics, config, day)
    with _stage("summarize"):
        sections, failures = summarize.summarize_sections(
            selection.sections,
            config.summarize,
            continued=continued,
            earlier=earlier,
            only_new=config.continuity.only_new,
        )
    store.editions.cache(day, fingerprint, sections, selection.top, selection.omitted)
    return Stories(
        sections=sections,
        top=selection.top,
        omitted=selection.omitted,
        continued=continued,
        failures=tuple(failures),
        considered=selection.considered,
    )


def _digest(
    config: Config,
    day: date,
    now: datetime,
    stories: Stories,
    failures: Sequence[Failure],
    page_failures: Sequence[tuple[str, Failure]],
) -> Digest:
    """The edition as the renderers see it; the reader hears of the pages of its own stories."""
    by_lead = {s.lead.url: s for section in stories.sections for s in section.stories}
    shown = {a.url for story in by_lead.values() for a in story.articles}
    unchanged = {c.story for c in stories.continued if c.unchanged}
    return Digest(
        date=day,
        generated_at=now,
        title=config.title,
        sections=stories.sections,
        top=tuple(by_lead[url] for url in stories.top if url in by_lead and url not in unchanged),
        failures=(*failures, *(f for url, f in page_failures if url in shown)),
        omitted=stories.omitted,
        continuations=stories.continued,
        termine=_termine(stories.sections, config, day),
    )


def _render(digest: Digest, config: Config) -> Rendered:
    return render.render(
        digest, config.render, timezone=config.timezone, archive_url=config.continuity.archive_url
    )


def _files(html: str, text: str, json_text: str) -> dict[str, str | bytes]:
    return {"digest.html": html, "digest.txt": text, "digest.json": json_text}


def _explained(
    day: date,
    stories: Stories,
    failures: Sequence[Failure],
    page_failures: Sequence[tuple[str, Failure]],
) -> dict[str, str | bytes]:
    """explain.txt and explain.json: every article's fate, and every failure on the way."""
    everything = [*failures, *(f for _, f in page_failures)]
    return {
        "explain.txt": explain_text(stories.considered, everything),
        "explain.json": explain_json(day, stories.considered, everything),
    }


def _archive(config: Config, day: date, files: dict[str, str | bytes]) -> list[Path]:
    """Write the edition's files, then the archive page and feed that list it."""
    with _stage("archive"):
        return archive.write_edition(config.out_dir, day, files) + _write_site(config)


def _sent_edition(
    store: Store, day: date, now: datetime, *, force: bool, new_edition: bool
) -> SentEdition | None:
    """The edition of `day` as sent, if anyone has it and it is to be kept."""
    sent = store.editions.sent(day)
    if sent is None:
        return None
    served = store.sends.served_count(day)
    if force and new_edition:
        revision = store.editions.supersede(day, now)
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
    files = _files(sent.html, sent.text, sent.json)
    if explain:
        files["explain.txt"] = (
            f"# Ausgabe {sent.day.isoformat()} ist bereits versandt und bleibt, wie sie ist;"
            " es wurde nichts neu ausgewählt.\n"
        )
    paths = _archive(config, sent.day, files)
    return BuildResult(digest=None, paths=tuple(paths), failures=(), kept=True)


def _write_site(config: Config) -> list[Path]:
    editions = archive.read_editions(config.out_dir)
    site = {"title": config.title, "timezone": config.timezone}
    return archive.write_site(
        config.out_dir,
        render.render_archive(editions, config.render, **site),
        render.render_feed(editions, config.render, **site),
    )


def _select(
    articles: Sequence[Article], config: Config, topics: Topics, now: datetime
) -> select.Selection:
    """The editorial model's judgement of each article, then stories, Ressorts and limits."""
    settings = config.select
    model = editorial.load_model(settings.model)
    judgements = editorial.judge(articles, model, topics, editorial.operator_terms(settings))
    return select.select(articles, judgements, model, topics, settings, now=now)


def _earlier_stories(config: Config, day: date, store: Store) -> list[EarlierStory]:
    """The stories of the last continuity.days editions before `day` as they were sent, with
    the texts of their articles while the state keeps them."""
    settings = config.continuity
    if not settings.enabled or settings.days <= 0:
        return []
    found = []
    for edition_day, text in archive.earlier_editions(config.out_dir, day, settings.days):
        try:
            texts = store.articles.texts(continuity.source_links(text))
            found.extend(continuity.earlier_stories(edition_day, text, texts))
        except (ValueError, TypeError, AttributeError) as error:
            log.warning("edition %s unreadable for continuity: %s", edition_day, error)
    return found


def _continuations(
    sections: Sequence[Section],
    earlier: Sequence[EarlierStory],
    topics: Topics,
    config: Config,
    day: date,
) -> tuple[Continuation, ...]:
    if not earlier:
        return ()
    stories = [story for section in sections for story in section.stories]
    return continuity.match(
        stories,
        earlier,
        day=day,
        topics=topics,
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
        sent = store.editions.sent(day)
        if sent is None:
            sent = _to_send(config, day, store.editions.revision(day))
            if not dry_run:
                sent = store.editions.freeze(sent, now)
        letter = mail.Letter(
            day=day, subject=sent.subject, text=sent.text, html=sent.html, revision=sent.revision
        )
        copy = mail.archive_copy(letter, config=settings, now=now)
        folder = archive.edition_dir(config.out_dir, day)
        archive.write_atomic(folder / "digest.eml", copy.as_bytes())
        if dry_run:
            return mail.plan(letter, recipients, store.sends)
        password = mail.read_password(settings, os.environ)
        with _stage("send"):
            return mail.deliver(
                letter,
                recipients,
                store.sends,
                settings,
                now=now,
                password=password,
                ssl_context=ssl_context,
                backoff=backoff,
            )


def _to_send(config: Config, day: date, revision: int) -> SentEdition:
    """The built edition of `day` from out/ with its subject, as it is about to be sent."""
    built = archive.read_built(config.out_dir, day)
    subject = mail.make_subject(config.email.subject, day, german.long_date(day), built.title)
    return SentEdition(
        day=day,
        revision=revision,
        subject=subject,
        html=built.html,
        text=built.text,
        json=built.json,
    )
