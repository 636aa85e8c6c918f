"""EDGE: the one way bytes come in: http(s) feeds and pages, and operator-configured local files.

Many URLs are fetched at once on one asyncio event loop, bounded overall and per host. Each fetch
follows at most `max_redirects` redirects, retries timeouts, 429 and 5xx a bounded number of times
(honouring a capped Retry-After), decodes gzip/deflate itself so that the size cap applies to the
decoded bytes while they stream in (a gzip bomb is cut off, never inflated into memory), and sends
If-None-Match / If-Modified-Since when the caller knows the feed's validators.

Nothing one URL does can stop or stall the others: every failure, whatever raised it, is a
FetchFailure for that URL; an origin that keeps failing to answer is skipped for the rest of the
build (HostBreaker); and each stage as a whole ends at its deadline (`feeds_deadline`,
`pages_deadline`), whatever is still pending then being given up.

Like a private HTTP cache, a feed is not requested at all while the freshness lifetime of its
previous response lasts (Cache-Control max-age, else Expires - Date; never with no-cache or
no-store; capped at MAX_FRESH_SECONDS): `Fetched.fresh_until` computes it, the caller stores it
and passes it back in `Validators.fresh_until` together with `now`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx

from digest import __version__, retry
from digest.addresses import (
    AddressPolicy,
    PublicOnlyTransport,
    is_public_address,
    require_public_host,
    resolves_public,
)
from digest.bodies import read_body
from digest.config import FetchConfig
from digest.errors import FetchFailed
from digest.models import FeedSource, is_web_url

log = logging.getLogger(__name__)

USER_AGENT = f"sipo-digest/{__version__} (+https://github.com/sipo-digest)"
ACCEPT_FEEDS = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9,"
    " text/xml;q=0.9, */*;q=0.5"
)
ACCEPT_PAGES = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
# Waits between attempts: BACKOFF_SECONDS * 2**attempt, or the server's Retry-After up to this cap.
BACKOFF_SECONDS = 0.5
MAX_RETRY_AFTER_SECONDS = 30.0
# A server's freshness lifetime is honoured up to this long, so a far-future Expires or a year of
# max-age never hides a feed's news from a daily digest.
MAX_FRESH_SECONDS = 3600.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_REUSE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\b", re.IGNORECASE)
# Unreachable answers in a row (timeouts, refused connections, DNS) after which one build sends
# no more requests to that origin: two, so that one lost packet does not condemn a host.
BREAKER_THRESHOLD = 2
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRYABLE = frozenset({429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524})


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said identifies the version it sent: echoed back on the next request."""

    etag: str | None = None
    last_modified: str | None = None
    fresh_until: datetime | None = None

    def is_fresh(self, now: datetime) -> bool:
        return self.fresh_until is not None and now < self.fresh_until

    def request_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True, slots=True)
class Fetched:
    """The bytes of one feed or page, with the URL they finally came from (empty on 304).
    `fresh` marks a 304 that was never requested: the previous response was still fresh."""

    url: str
    body: bytes
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    requested: str = ""
    fresh: bool = False

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def validators(self) -> Validators:
        found = {name.lower(): value for name, value in self.headers}
        return Validators(etag=found.get("etag"), last_modified=found.get("last-modified"))

    def fresh_until(self, received: datetime) -> datetime | None:
        """Until when this response may be reused without asking the server again, for a
        response received at `received`; None when it must be revalidated every time."""
        if self.fresh or self.status not in (200, 203, 304):
            return None
        lifetime = freshness_lifetime(self.headers)
        return received + timedelta(seconds=lifetime) if lifetime > 0 else None


def freshness_lifetime(headers: Sequence[tuple[str, str]]) -> float:
    """Seconds a response stays fresh for a private cache (RFC 9111 4.2.1), minus its Age,
    capped at MAX_FRESH_SECONDS; 0 when it says no-cache or no-store or gives no lifetime."""
    found: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        found[key] = f"{found[key]}, {value}" if key in found else value
    control = found.get("cache-control", "")
    if _NO_REUSE.search(control):
        return 0.0
    max_age = _MAX_AGE.search(control)
    if max_age:
        lifetime = float(max_age.group(1))
    else:
        expires = _http_date(found.get("expires", ""))
        sent = _http_date(found.get("date", ""))
        if expires is None or sent is None:
            return 0.0
        lifetime = (expires - sent).total_seconds()
    age = found.get("age", "").strip()
    if age.isdigit():
        lifetime -= float(age)
    return min(max(lifetime, 0.0), MAX_FRESH_SECONDS)


def _http_date(value: str) -> datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """One URL that gave nothing usable: a one-line message and a short status for feed health."""

    url: str
    message: str
    status: str


# ---------------------------------------------------------------------------------------------
# Entry points (synchronous; each runs its own event loop)


def fetch_feeds(
    sources: Sequence[FeedSource],
    config: FetchConfig,
    validators: Mapping[str, Validators] | None = None,
    *,
    now: datetime | None = None,
    breaker: HostBreaker | None = None,
    is_public: AddressPolicy = is_public_address,
) -> list[Fetched | FetchFailure]:
    """Fetch every configured feed, in the order given, within `config.feeds_deadline`.
    `validators` is keyed by feed URL. With `now`, a feed whose validators are still fresh then
    is not requested: it comes back as a 304 marked `fresh`. Local paths and private addresses
    are allowed because the operator named them; a redirect leads to a private address only
    when the operator's own URL was private (`is_public` judges addresses)."""
    known = validators or {}
    results: list[Fetched | FetchFailure | None] = [None] * len(sources)
    remote: list[tuple[int, str]] = []
    for index, source in enumerate(sources):
        if source.is_local:
            results[index] = _read_local_result(Path(source.url), config)
        elif now is not None and known.get(source.url, Validators()).is_fresh(now):
            results[index] = Fetched(
                url=source.url, body=b"", status=304, requested=source.url, fresh=True
            )
        else:
            remote.append((index, source.url))
    session = _Session(
        config,
        accept=ACCEPT_FEEDS,
        guard="origin",
        breaker=breaker or HostBreaker(),
        is_public=is_public,
        validators=known,
    )
    fetched = asyncio.run(session.fetch_all([url for _, url in remote], config.feeds_deadline))
    for (index, _), result in zip(remote, fetched, strict=True):
        results[index] = result
    return [r for r in results if r is not None]


def fetch_pages(
    urls: Sequence[str],
    config: FetchConfig,
    *,
    allow_private: bool = False,
    breaker: HostBreaker | None = None,
    is_public: AddressPolicy = is_public_address,
) -> list[Fetched | FetchFailure]:
    """Fetch pages that feeds link to, within `config.pages_deadline`: http(s) only, and unless
    `allow_private`, only hosts whose every address is public (no loopback, private, link-local
    or cloud-metadata addresses), checked again on every redirect and at connect time."""
    session = _Session(
        config,
        accept=ACCEPT_PAGES,
        guard="never" if allow_private else "always",
        breaker=breaker or HostBreaker(),
        is_public=is_public,
    )
    return asyncio.run(session.fetch_all(list(urls), config.pages_deadline))


def read_local(path: Path, config: FetchConfig) -> Fetched:
    path = path.absolute()
    try:
        with path.open("rb") as handle:
            body = handle.read(config.max_bytes + 1)
    except OSError as error:
        raise FetchFailed(f"{path}: cannot read file ({error.strerror})", "unreadable") from None
    if len(body) > config.max_bytes:
        raise FetchFailed(f"{path}: larger than the limit of {config.max_bytes} bytes", "too-large")
    return Fetched(url=path.as_uri(), body=body, status=200, requested=str(path))


def _read_local_result(path: Path, config: FetchConfig) -> Fetched | FetchFailure:
    try:
        return read_local(path, config)
    except FetchFailed as error:
        return FetchFailure(url=str(path), message=str(error), status=error.status)


# ---------------------------------------------------------------------------------------------
# The circuit breaker: one build gives up on an origin that keeps failing to answer.

# Failures that say the origin is unreachable (not that one URL is wrong): they open the breaker.
_UNREACHABLE = frozenset({"timeout", "network", "dns"})


class HostBreaker:
    """Origins (scheme, host, port) that failed to connect, resolve or answer in time
    `threshold` times in a row: no further request goes to them for the rest of the build.
    One breaker lives for one build and is shared by its feed and page stages."""

    def __init__(self, threshold: int = BREAKER_THRESHOLD) -> None:
        self.threshold = max(1, threshold)
        self._failures: defaultdict[str, int] = defaultdict(int)
        self._open: set[str] = set()

    def is_open(self, url: str) -> bool:
        return _origin(url) in self._open

    def record(self, url: str, status: str | None) -> bool:
        """Count one attempt: a success (None) closes the count, an unreachable status adds.
        True when this attempt opened the breaker for the URL's origin."""
        origin = _origin(url)
        if status is None:
            self._failures.pop(origin, None)
            return False
        if status not in _UNREACHABLE or origin in self._open:
            return False
        self._failures[origin] += 1
        if self._failures[origin] < self.threshold:
            return False
        self._open.add(origin)
        log.warning(
            "%s failed %d times in a row (%s): no more requests to it in this build",
            origin,
            self._failures[origin],
            status,
        )
        return True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port or default}"


# ---------------------------------------------------------------------------------------------
# The event loop side


class _Limiter:
    """At most `total` requests in flight, and at most `per_host` to any one host."""

    def __init__(self, total: int, per_host: int) -> None:
        self._total = asyncio.Semaphore(max(1, total))
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(max(1, per_host))
        )

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        # The host slot first, so a queue for one busy host never holds overall slots.
        async with self._hosts[(urlsplit(url).hostname or "").lower()], self._total:
            yield


class _Session:
    """One stage's fetching: settings, limits, breaker and address rule, and the two clients
    (one dialling any address, one dialling only public ones).

    `guard` says which hops must reach public addresses only: "always" (pages), "never" (pages
    with extract.allow_private) or "origin" (feeds: every hop when the operator's URL is public,
    none when it is private)."""

    def __init__(
        self,
        config: FetchConfig,
        *,
        accept: str,
        guard: Literal["always", "never", "origin"],
        breaker: HostBreaker,
        is_public: AddressPolicy,
        validators: Mapping[str, Validators] | None = None,
    ) -> None:
        self.config = config
        self.accept = accept
        self.guard = guard
        self.breaker = breaker
        self.is_public = is_public
        self.validators = validators or {}
        self.limiter = _Limiter(config.concurrency, config.per_host)
        # Requests under way by origin: when an origin's breaker opens, they are given up too,
        # so a dead host costs one read timeout, not one more for each request already waiting.
        self._under_way: defaultdict[str, set[asyncio.Future[Fetched]]] = defaultdict(set)

    async def fetch_all(self, urls: list[str], deadline: float) -> list[Fetched | FetchFailure]:
        """Every URL's result in order; what is still running at `deadline` seconds is given
        up (status "deadline"), so no host can hold the stage longer than that."""
        if not urls:
            return []
        config = self.config
        timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=config.read_timeout,
            write=config.read_timeout,
            pool=None,
        )
        limits = httpx.Limits(
            max_connections=max(1, config.concurrency),
            max_keepalive_connections=max(1, config.concurrency),
        )
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": self.accept,
            "Accept-Encoding": "gzip, deflate",
        }
        options: dict[str, Any] = {
            "timeout": timeout,
            "headers": headers,
            "follow_redirects": False,
        }
        async with (
            httpx.AsyncClient(
                transport=httpx.AsyncHTTPTransport(limits=limits), **options
            ) as open_,
            httpx.AsyncClient(
                transport=PublicOnlyTransport(limits, self.is_public), **options
            ) as guarded,
        ):
            tasks = [
                asyncio.create_task(self._fetch_one(open_, guarded, url), name=url) for url in urls
            ]
            _, pending = await asyncio.wait(tasks, timeout=deadline if deadline > 0 else None)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
                log.warning(
                    "%d of %d fetches were not done within the deadline of %g s: given up",
                    len(pending),
                    len(urls),
                    deadline,
                )
        return [_outcome(task, url, deadline) for task, url in zip(tasks, urls, strict=True)]

    async def _fetch_one(
        self, open_: httpx.AsyncClient, guarded: httpx.AsyncClient, url: str
    ) -> Fetched | FetchFailure:
        """One URL with bounded retries; every failure, whatever raised it, comes back as a
        FetchFailure for this URL alone."""
        config = self.config
        if not is_web_url(url):
            return FetchFailure(
                url=url, message=f"{url}: not a valid http(s) URL", status="invalid-url"
            )
        failure: FetchFailure | None = None  # the last attempt's, when another may follow
        for attempt in retry.attempts(config.retries, BACKOFF_SECONDS):
            try:
                async with self.limiter.slot(url):
                    if self.breaker.is_open(url):  # tried before: that failure; else not tried
                        return failure or _skipped(url)
                    async with asyncio.timeout(config.total_timeout):
                        fetched = await self._attempt(open_, guarded, url)
                if fetched is None:  # given up under way: its origin stopped answering
                    return failure or _skipped(url)
                self.breaker.record(url, None)
                return fetched
            except _Retryable as error:
                failure = FetchFailure(url=url, message=str(error), status=error.status)
                if attempt.last:
                    return failure
                await asyncio.sleep(attempt.wait(error.wait))
            except (TimeoutError, httpx.TimeoutException) as error:
                self._record(url, "timeout")
                what = "took longer than" if isinstance(error, TimeoutError) else "no answer within"
                limit = (
                    config.total_timeout if isinstance(error, TimeoutError) else config.read_timeout
                )
                failure = FetchFailure(
                    url=url, message=f"{url}: timeout ({what} {limit:g} s)", status="timeout"
                )
                if attempt.last or self.breaker.is_open(url):
                    return failure
                await asyncio.sleep(attempt.wait())
            except FetchFailed as error:
                self._record(url, error.status)
                return FetchFailure(url=url, message=str(error), status=error.status)
            except httpx.HTTPError as error:
                # Only a connection that failed says the origin is unreachable; a malformed
                # answer (a bad Location, a protocol error) is this URL's fault.
                unreachable = isinstance(error, httpx.NetworkError)
                self._record(url, "network" if unreachable else "protocol")
                detail = str(error) or type(error).__name__
                return FetchFailure(url=url, message=f"{url}: {detail}", status="network")
            except Exception as error:
                # A fault of this one URL (a malformed answer, a library's own bug): its item
                # keeps its teaser, the rest of the stage goes on.
                detail = f"{type(error).__name__}: {error}"
                return FetchFailure(url=url, message=f"{url}: {detail}", status="error")
        raise AssertionError("unreachable: the last attempt always returns")  # pragma: no cover

    async def _attempt(
        self, open_: httpx.AsyncClient, guarded: httpx.AsyncClient, url: str
    ) -> Fetched | None:
        """One GET as a task of its own, so that the breaker can give it up (None) while it
        waits; a cancellation of this whole fetch (the stage deadline) goes on as one."""
        request = asyncio.ensure_future(self._get(open_, guarded, url))
        under_way = self._under_way[_origin(url)]
        under_way.add(request)
        try:
            return await request
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if request.cancelled() and current is not None and not current.cancelling():
                return None
            raise
        finally:
            under_way.discard(request)
            if not request.done():
                request.cancel()

    def _record(self, url: str, status: str) -> None:
        """Count a failure; when it opens the breaker, give up what is under way there."""
        if self.breaker.record(url, status):
            for request in self._under_way.pop(_origin(url), set()):
                request.cancel()

    async def _get(self, open_: httpx.AsyncClient, guarded: httpx.AsyncClient, url: str) -> Fetched:
        """GET following redirects by hand, so every hop is validated, checked and counted."""
        config = self.config
        validators = self.validators.get(url, Validators())
        must_be_public = self.guard == "always" or (
            self.guard == "origin" and await resolves_public(url, self.is_public)
        )
        client = guarded if must_be_public else open_
        current = url
        for _ in range(config.max_redirects + 1):
            if not is_web_url(current):
                raise FetchFailed(f"{url}: not a valid http(s) URL: {current}", "refused")
            if must_be_public:
                await require_public_host(current, self.is_public)
            request = client.build_request("GET", current, headers=validators.request_headers())
            response = await client.send(request, stream=True)
            try:
                status = response.status_code
                if status in _REDIRECTS and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if status == 304:
                    return _result(url, current, b"", response)
                if status in _RETRYABLE:
                    raise _Retryable(
                        f"{url}: HTTP {status}", str(status), _retry_after(response.headers)
                    )
                if status >= 400 or status < 200:
                    raise FetchFailed(f"{url}: HTTP {status}", str(status))
                body = await read_body(response, config.max_bytes, url)
                return _result(url, current, body, response)
            finally:
                await response.aclose()
        raise FetchFailed(f"{url}: more than {config.max_redirects} redirects", "redirects")


def _outcome(
    task: asyncio.Task[Fetched | FetchFailure], url: str, deadline: float
) -> Fetched | FetchFailure:
    if task.cancelled():
        return FetchFailure(
            url=url,
            message=f"{url}: not done within the deadline of {deadline:g} s",
            status="deadline",
        )
    error = task.exception()
    if error is not None:  # _fetch_one returns every failure; this is a last guard
        return FetchFailure(
            url=url, message=f"{url}: {type(error).__name__}: {error}", status="error"
        )
    return task.result()


def _skipped(url: str) -> FetchFailure:
    return FetchFailure(
        url=url,
        message=f"{url}: not requested, {_origin(url)} did not answer earlier in this build",
        status="skipped",
    )


class _Retryable(FetchFailed):
    def __init__(self, message: str, status: str, wait: float | None) -> None:
        super().__init__(message, status)
        self.wait = wait


def _result(requested: str, final: str, body: bytes, response: httpx.Response) -> Fetched:
    return Fetched(
        url=final,
        body=body,
        status=response.status_code,
        headers=tuple(response.headers.items()),
        requested=requested,
    )


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asked us to wait, capped; None when it said nothing usable."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


__all__ = [
    "FetchFailed",
    "FetchFailure",
    "Fetched",
    "HostBreaker",
    "Validators",
    "fetch_feeds",
    "fetch_pages",
    "freshness_lifetime",
    "is_public_address",
    "read_local",
]
