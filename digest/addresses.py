"""EDGE: which addresses a link may reach: the public-address rule and the guard at connect time.

A link from a feed may lead only to globally routable unicast addresses. An IPv6 address that
carries an IPv4 address (IPv4-mapped and IPv4-compatible, 6to4, the NAT64 prefix) is judged by
that IPv4 address, since that is where the packets end up; site-local and local-use NAT64
addresses are never public.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from digest.errors import FetchFailed

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[Address], bool]

_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it stands for one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # IPv4-compatible ::a.b.c.d (not :: or ::1)
        return ipaddress.IPv4Address(int(address))
    return None


def is_public_address(address: Address) -> bool:
    """True for globally routable unicast addresses; IPv6 carrying IPv4 is judged as that IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local or address in _NAT64_LOCAL_USE:
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public_address(inner)
    return address.is_global and not address.is_multicast


async def resolve(host: str, port: int, what: str) -> list[Address]:
    """Every address of `host`; FetchFailed ("dns") naming `what` when it does not resolve."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchFailed(f"{what} ({error})", "dns") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


async def url_addresses(url: str) -> list[Address]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return await resolve(host, port, f"{url}: cannot resolve host {host!r}")


async def require_public_host(url: str, is_public: AddressPolicy = is_public_address) -> None:
    """Refuse a URL whose host resolves to any non-public address."""
    host = urlsplit(url).hostname
    for address in await url_addresses(url):
        if not is_public(address):
            raise FetchFailed(f"{url}: refused, {host} resolves to non-public {address}", "refused")


async def resolves_public(url: str, is_public: AddressPolicy = is_public_address) -> bool:
    """True when every address of the URL's host is public."""
    return all(is_public(address) for address in await url_addresses(url))


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses `is_public` accepts, checking the very address
    it dials.

    require_public_host refuses a link early, with a clear message; this is the guard that holds
    when a name resolves to a public address for that check and to a private one a moment later
    (DNS rebinding): the connection goes to an address resolved and checked here, once."""

    def __init__(self, is_public: AddressPolicy = is_public_address) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._is_public = is_public

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port, f"cannot resolve host {host!r}")
        for address in addresses:
            if not self._is_public(address):
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


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool dialling through PublicOnlyBackend."""

    def __init__(self, limits: httpx.Limits, is_public: AddressPolicy = is_public_address) -> None:
        super().__init__(limits=limits)
        # httpx takes no network backend of its own, so the pool it built is replaced by the same
        # pool with ours (httpx 0.27 and 0.28 keep it in `_pool`).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicOnlyBackend(is_public),
        )
