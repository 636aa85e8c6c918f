"""Feed entries -> articles, one per canonical link or permalink guid; the news window (pure)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from digest.models import Article, Entry, FeedSource, is_web_url
from digest.urls import canonical_url

log = logging.getLogger(__name__)


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


def _guid_key(source: FeedSource, entry: Entry) -> str | None:
    """A permalink guid names the article wherever it appears; any other guid only in its feed.
    A guid that is a site's front page names no article."""
    if not entry.guid:
        return None
    if is_web_url(entry.guid):
        permalink = canonical_url(entry.guid)
        return None if urlsplit(permalink).path in ("", "/") else permalink
    return f"{source.name}#{entry.guid}"


def news_window(
    day: date, now: datetime, since: datetime | None, *, timezone: str, window_hours: float
) -> tuple[datetime, datetime | None]:
    """The publication times (undated articles: first-seen times) the edition of `day` takes
    articles from: `since` onwards with no end, or else the `window_hours` before the edition's
    time, which is `now`, or the end of `day` when that is earlier (an edition of a past day)."""
    if since is not None:
        return since, None
    day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo(timezone))
    end = min(now, day_end)
    return end - timedelta(hours=window_hours), end
