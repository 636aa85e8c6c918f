"""EDGE: the one way bytes come in: http(s) feeds and pages, and operator-configured local files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from digest import __version__
from digest.config import FetchConfig
from digest.errors import FetchError
from digest.models import FeedSource

USER_AGENT = f"sipo-digest/{__version__} (+https://github.com/sipo-digest)"


@dataclass(frozen=True, slots=True)
class Fetched:
    """The bytes of one feed or page, with the URL they finally came from."""

    url: str
    body: bytes
    status: int
    headers: tuple[tuple[str, str], ...] = ()


def fetch_source(source: FeedSource, config: FetchConfig) -> Fetched:
    """Fetch one configured feed; local paths are allowed here because the operator named them."""
    if source.is_local:
        return read_local(Path(source.url), config)
    return fetch_url(source.url, config)


def read_local(path: Path, config: FetchConfig) -> Fetched:
    try:
        with path.open("rb") as handle:
            body = handle.read(config.max_bytes + 1)
    except OSError as error:
        raise FetchError(f"{path}: cannot read file ({error.strerror})") from None
    if len(body) > config.max_bytes:
        raise FetchError(f"{path}: larger than the limit of {config.max_bytes} bytes")
    return Fetched(url=path.as_uri(), body=body, status=200)


def fetch_url(url: str, config: FetchConfig) -> Fetched:
    timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
    try:
        with httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            max_redirects=config.max_redirects,
            headers={"User-Agent": USER_AGENT},
        ) as client, client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise FetchError(f"{url}: HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > config.max_bytes:
                    raise FetchError(f"{url}: larger than the limit of {config.max_bytes} bytes")
                chunks.append(chunk)
            return Fetched(
                url=str(response.url),
                body=b"".join(chunks),
                status=response.status_code,
                headers=tuple(response.headers.items()),
            )
    except httpx.HTTPError as error:
        raise FetchError(f"{url}: {type(error).__name__}: {error}") from None
