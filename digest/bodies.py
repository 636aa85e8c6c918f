"""Response bodies read under a size cap: every byte produced counts, compressed or not.

gzip and deflate are undone here as the body streams in, so the cap applies to the decoded bytes
and a gzip bomb is cut off at the cap, never inflated into memory.
"""

from __future__ import annotations

import zlib

import httpx

from digest.errors import FetchFailed

_GZIP_MAGIC = b"\x1f\x8b"


async def read_body(response: httpx.Response, limit: int, url: str) -> bytes:
    """The decoded body, refusing to hold more than `limit` decoded bytes at any moment.

    Content-Encoding is undone here; so is gzip sent without it (a body starting with the gzip
    signature), through the same bounded inflater: a bomb is cut at the cap, and bytes that only
    start like gzip fail here as a corrupt body instead of reaching the page parser."""
    header = response.headers.get("content-encoding", "")
    decoder: _Decoder | None = None
    head = b""
    body = bytearray()
    async for raw in response.aiter_raw():
        if decoder is None:
            head += raw
            if len(head) < len(_GZIP_MAGIC):
                continue
            decoder = _Decoder.for_body(header, head, url)
            raw, head = head, b""
        body += decoder.feed(raw, limit - len(body) + 1)
        if len(body) > limit:
            raise FetchFailed(f"{url}: larger than the limit of {limit} bytes", "too-large")
    if decoder is None and head:
        body += _Decoder.for_body(header, head, url).feed(head, limit + 1)
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
    def for_body(cls, header: str, head: bytes, url: str) -> _Decoder:
        """The decoder for a body whose Content-Encoding is `header` and that starts with
        `head`: gzip also when only the bytes say so."""
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if not codings:
            return cls(16 + zlib.MAX_WBITS if head.startswith(_GZIP_MAGIC) else None, url)
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
            # At most `room` bytes come out; input left over stays in unconsumed_tail, which only
            # happens when the cap is reached, and then the body is refused.
            return self._inflater.decompress(data, room)
        except zlib.error as error:
            raise FetchFailed(
                f"{self._url}: corrupt compressed body ({error})", "encoding"
            ) from None


def _is_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
