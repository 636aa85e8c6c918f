"""EDGE: teasers replaced by their page's main text: pages from the state's cache, or fetched
together, extracted in worker processes and cached."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from datetime import datetime, timedelta

from digest import extract, http
from digest.config import Config
from digest.models import Article, ExtractedPage, Failure
from digest.store import CachedPage, Store
from digest.workers import Workers

log = logging.getLogger(__name__)

# A page that could not be fetched or had no main text is tried again after this long; one that
# was extracted is never fetched again (its URL names the same article).
PAGE_RETRY_AFTER = timedelta(hours=6)


def full_texts(
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
    cached = store.pages.cached(urls)
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
        if isinstance(outcome, ExtractedPage):
            fetched.append(CachedPage(url, now, outcome))
            continue
        message = outcome.message if isinstance(outcome, http.FetchFailure) else str(outcome)
        log.info("page %s: teaser kept: %s", url, message)
        failed = CachedPage(url, now, None, message)
        tried = not (isinstance(outcome, http.FetchFailure) and outcome.status in _NOT_TRIED)
        (fetched if tried else untried).append(failed)
    store.pages.cache(fetched)
    return {c.url: c for c in [*cached.values(), *fetched, *untried]}


def _page_error(url: str, cached: CachedPage) -> str:
    error = cached.error or "no main text"
    return error if url in error else f"{url}: {error}"


def _processes(config: Config) -> int:
    """Worker processes for the CPU-bound stages: as configured, or one per usable core."""
    return config.processes or len(os.sched_getaffinity(0)) or 1
