"""EDGE: the configured feeds fetched (revalidating what the state knows) and parsed, each
outcome recorded in the state's feed health; a bad feed costs that feed only."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from digest import feeds, http
from digest.config import FetchConfig
from digest.errors import FeedError, FetchError
from digest.models import Entry, Failure, FeedSource
from digest.store import UNCHANGED, FeedHealth, Store
from digest.store.feeds import Freshness

log = logging.getLogger(__name__)


def fetch_feeds(
    sources: Sequence[FeedSource],
    settings: FetchConfig,
    store: Store,
    now: datetime,
    breaker: http.HostBreaker,
) -> list[http.Fetched | http.FetchFailure]:
    """Fetch every feed at once, revalidating what the store knows (ETag, Last-Modified) and
    skipping feeds whose last answer is still fresh."""
    fresh = store.feeds.freshness()
    validators = {
        health.url: http.Validators(
            etag=health.etag,
            last_modified=health.last_modified,
            fresh_until=fresh.get(health.name),
        )
        for health in store.feeds.health()
        if health.url
    }
    return http.fetch_feeds(sources, settings, validators, now=now, breaker=breaker)


def parse_feeds(
    sources: Sequence[FeedSource],
    results: Sequence[http.Fetched | http.FetchFailure],
    store: Store,
    now: datetime,
) -> tuple[list[tuple[FeedSource, Entry]], list[Failure]]:
    """The entries of the feeds that changed; a bad feed is one log line and one Failure. A 304
    parses nothing: that feed's earlier articles are already in the store."""
    entries: list[tuple[FeedSource, Entry]] = []
    failures: list[Failure] = []
    for source, result in zip(sources, results, strict=True):
        url = None if source.is_local else source.url
        try:
            if not isinstance(result, http.FetchFailure) and result.not_modified:
                fresh_until = UNCHANGED if result.fresh else result.fresh_until(now)
                store.feeds.record(source.name, now, None, "304", url=url, fresh_until=fresh_until)
                continue
            fetched, parsed = _parse_fetched(source, result, now)
        except (FetchError, FeedError) as error:
            status = _failure_status(error)
            log.warning("feed %s failed: %s", source.name, error)
            failures.append(Failure(source=source.name, stage="feed", message=str(error)))
            store.feeds.record(source.name, now, str(error), status, url=url)
            continue
        for warning in parsed.warnings:
            log.warning("%s", warning)
        _record_parsed(store, source, fetched, now, fetched.validators, fetched.fresh_until(now))
        entries.extend((source, entry) for entry in parsed.entries)
    return entries, failures


def check_feeds(
    sources: Sequence[FeedSource], settings: FetchConfig, store: Store, now: datetime
) -> list[str]:
    """Fetch every feed unconditionally and parse it like a build does; record each outcome in
    feed health and return the parser's warnings. The stored validators are kept as they were,
    because a check stores no articles: the next build must still get a feed that changed."""
    stored = {record.name: record for record in store.feeds.health()}
    warnings: list[str] = []
    for source, result in zip(sources, http.fetch_feeds(sources, settings), strict=True):
        url = None if source.is_local else source.url
        try:
            fetched, parsed = _parse_fetched(source, result, now)
        except (FetchError, FeedError) as error:
            store.feeds.record(source.name, now, str(error), _failure_status(error), url=url)
            continue
        warnings.extend(parsed.warnings)
        _record_parsed(store, source, fetched, now, stored.get(source.name), UNCHANGED)
    return warnings


def _record_parsed(
    store: Store,
    source: FeedSource,
    fetched: http.Fetched,
    now: datetime,
    validators: http.Validators | FeedHealth | None,
    fresh_until: Freshness,
) -> None:
    """A feed fetched and parsed: its health, with the validators to send next time."""
    store.feeds.record(
        source.name,
        now,
        None,
        str(fetched.status),
        url=None if source.is_local else source.url,
        etag=validators.etag if validators else None,
        last_modified=validators.last_modified if validators else None,
        fresh_until=fresh_until,
    )


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
