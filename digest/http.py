"""EDGE: the one way bytes come in: http(s) feeds and pages, and operator-configured local files.

Many URLs are fetched at once on one asyncio event loop, bounded overall and per host. Each fetch
follows at most `max_redirects` redirects, retries timeouts, 429 and 5xx a bounded number of times
(honouring a capped Retry-After), decodes gzip/deflate itself so that the size cap applies to the
decoded bytes while they stream in (a gzip bomb is cut off, never inflated into memory), and sends
If-None-Match / If-Modified-Since when the caller knows the feed's validators.

Like a private HTTP cache, a feed is not requested at all while the freshness lifetime of its
previous response lasts (Cache-Control max-age, else Expires - Date; never with no-cache or
no-store; capped at MAX_FRESH_SECONDS): `Fetched.fresh_until` computes it, the caller stores it
and passes it back in `Validators.fresh_until` together with `now`.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import re
import socket
import zlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from digest import __version__
from digest.config import FetchConfig
from digest.errors import FetchError
from digest.models import FeedSource, is_web_url

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


class FetchFailed(FetchError):
    """A fetch that failed for a reason worth a short status ("404", "timeout", "too-large")."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------
# Entry points (synchronous; each runs its own event loop)


def fetch_feeds(
    sources: Sequence[FeedSource],
    config: FetchConfig,
    validators: Mapping[str, Validators] | None = None,
    *,
    now: datetime | None = None,
) -> list[Fetched | FetchFailure]:
    """Fetch every configured feed, in the order given. `validators` is keyed by feed URL.
    With `now`, a feed whose validators are still fresh then is not requested: it comes back as
    a 304 marked `fresh`. Local paths are allowed here because the operator named them; private
    addresses too."""
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
    fetched = asyncio.run(
        _fetch_all(
            [url for _, url in remote],
            config,
            accept=ACCEPT_FEEDS,
            allow_private=True,
            validators=known,
        )
    )
    for (index, _), result in zip(remote, fetched, strict=True):
        results[index] = result
    return [r for r in results if r is not None]


def fetch_pages(
    urls: Sequence[str], config: FetchConfig, *, allow_private: bool = False
) -> list[Fetched | FetchFailure]:
    """Fetch pages that feeds link to: http(s) only, and unless `allow_private`, only hosts whose
    every address is public (no loopback, private, link-local or cloud-metadata addresses),
    checked again on every redirect."""
    return asyncio.run(
        _fetch_all(
            list(urls), config, accept=ACCEPT_PAGES, allow_private=allow_private, validators={}
        )
    )


def fetch_source(source: FeedSource, config: FetchConfig) -> Fetched:
    """Fetch one configured feed, raising FetchError on failure."""
    (result,) = fetch_feeds([source], config)
    if isinstance(result, FetchFailure):
        raise FetchFailed(result.message, result.status)
    return result


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


async def _fetch_all(
    urls: list[str],
    config: FetchConfig,
    *,
    accept: str,
    allow_private: bool,
    validators: Mapping[str, Validators],
) -> list[Fetched | FetchFailure]:
    if not urls:
        return []
    limiter = _Limiter(config.concurrency, config.per_host)
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
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
    transport = (
        httpx.AsyncHTTPTransport(limits=limits) if allow_private else _PublicOnlyTransport(limits)
    )
    async with httpx.AsyncClient(
        timeout=timeout, headers=headers, follow_redirects=False, transport=transport
    ) as client:
        tasks = [
            _fetch_one(
                client,
                url,
                config,
                limiter,
                validators.get(url, Validators()),
                allow_private=allow_private,
            )
            for url in urls
        ]
        return list(await asyncio.gather(*tasks))


async def _fetch_one(
    client: httpx.AsyncClient,
    url: str,
    config: FetchConfig,
    limiter: _Limiter,
    validators: Validators,
    *,
    allow_private: bool,
) -> Fetched | FetchFailure:
    """One URL with bounded retries; every failure comes back as a FetchFailure."""
    attempts = max(0, config.retries) + 1
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            async with limiter.slot(url):
                async with asyncio.timeout(config.total_timeout):
                    return await _get(client, url, config, validators, allow_private=allow_private)
        except _Retryable as error:
            if last:
                return FetchFailure(url=url, message=str(error), status=error.status)
            await asyncio.sleep(error.wait if error.wait is not None else _backoff(attempt))
        except (TimeoutError, httpx.TimeoutException) as error:
            if last:
                what = "took longer than" if isinstance(error, TimeoutError) else "no answer within"
                limit = (
                    config.total_timeout if isinstance(error, TimeoutError) else config.read_timeout
                )
                return FetchFailure(
                    url=url, message=f"{url}: timeout ({what} {limit:g} s)", status="timeout"
                )
            await asyncio.sleep(_backoff(attempt))
        except FetchFailed as error:
            return FetchFailure(url=url, message=str(error), status=error.status)
        except httpx.HTTPError as error:
            detail = str(error) or type(error).__name__
            return FetchFailure(url=url, message=f"{url}: {detail}", status="network")
    raise AssertionError("unreachable: the last attempt always returns")  # pragma: no cover


def _backoff(attempt: int) -> float:
    return BACKOFF_SECONDS * 2**attempt


class _Retryable(FetchFailed):
    def __init__(self, message: str, status: str, wait: float | None) -> None:
        super().__init__(message, status)
        self.wait = wait


async def _get(
    client: httpx.AsyncClient,
    url: str,
    config: FetchConfig,
    validators: Validators,
    *,
    allow_private: bool,
) -> Fetched:
    """GET following redirects by hand, so every hop is checked and counted."""
    current = url
    for _ in range(config.max_redirects + 1):
        if not is_web_url(current):
            raise FetchFailed(f"{url}: not an http(s) URL: {current}", "refused")
        if not allow_private:
            await _require_public_host(current)
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
            body = await _read_body(response, config.max_bytes, url)
            return _result(url, current, body, response)
        finally:
            await response.aclose()
    raise FetchFailed(f"{url}: more than {config.max_redirects} redirects", "redirects")


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


async def _read_body(response: httpx.Response, limit: int, url: str) -> bytes:
    """The decoded body, refusing to hold more than `limit` decoded bytes at any moment."""
    decoder = _Decoder.for_encoding(response.headers.get("content-encoding", ""), url)
    body = bytearray()
    async for raw in response.aiter_raw():
        body += decoder.feed(raw, limit - len(body) + 1)
        if len(body) > limit:
            raise FetchFailed(f"{url}: larger than the limit of {limit} bytes", "too-large")
    return bytes(body)


class _Decoder:
    """Content-Encoding undone piece by piece, never producing more than asked for."""

    def __init__(self, wbits: int | None, url: str) -> None:
        self._wbits = wbits
        self._url = url
        self._inflater = zlib.decompressobj(wbits) if wbits is not None else None
        self._first = True

    @classmethod
    def for_encoding(cls, header: str, url: str) -> _Decoder:
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if not codings:
            return cls(None, url)
        if len(codings) == 1 and codings[0] in ("gzip", "x-gzip"):
            return cls(16 + zlib.MAX_WBITS, url)
        if len(codings) == 1 and codings[0] == "deflate":
            return cls(zlib.MAX_WBITS, url)
        raise FetchFailed(f"{url}: unsupported content encoding {header!r}", "encoding")

    def feed(self, data: bytes, room: int) -> bytes:
        if self._inflater is None:
            return data[:room]
        if self._first and self._wbits == zlib.MAX_WBITS and data and not _is_zlib_header(data):
            # Many servers send raw deflate under "deflate"; accept both.
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._first = False
        try:
            return self._inflater.decompress(data, room)
        except zlib.error as error:
            raise FetchFailed(
                f"{self._url}: corrupt compressed body ({error})", "encoding"
            ) from None


def _is_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to public addresses, checking the very address it dials.

    _require_public_host refuses a link early, with a clear message; this is the guard that holds
    when a name resolves to a public address for that check and to a private one a moment later
    (DNS rebinding): the connection goes to an address resolved and checked here, once."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as error:
            raise FetchFailed(f"cannot resolve host {host!r} ({error})", "dns") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        for address in addresses:
            if not is_public_address(address):
                raise FetchFailed(f"refused, {host} resolves to non-public {address}", "refused")
        return await self._inner.connect_tcp(
            str(addresses[0]),
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise FetchFailed(f"refused, {path} is a local socket", "refused")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool dialling through PublicOnlyBackend."""

    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # httpx takes no network backend of its own, so the pool it built is replaced by the same
        # pool with ours (httpx 0.27 and 0.28 keep it in `_pool`).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicOnlyBackend(),
        )


async def _require_public_host(url: str) -> None:
    """Refuse a URL whose host resolves to any non-public address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchFailed(f"{url}: cannot resolve host {host!r} ({error})", "dns") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not is_public_address(address):
            raise FetchFailed(f"{url}: refused, {host} resolves to non-public {address}", "refused")


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses (IPv4-mapped IPv6 judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
