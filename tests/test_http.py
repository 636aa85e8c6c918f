"""The HTTP edge against a real server on 127.0.0.1: limits, retries, redirects, caps, 304."""

from __future__ import annotations

import gzip
import ipaddress
import threading
import time
import zlib
from collections.abc import Iterator

import pytest

from digest import http
from digest.config import FetchConfig
from digest.http import (
    USER_AGENT,
    Fetched,
    FetchFailure,
    Validators,
    fetch_feeds,
    fetch_pages,
    is_public_address,
)
from digest.models import FeedSource
from tests.conftest import Reply, Request

FAST = FetchConfig(
    concurrency=8, per_host=8, connect_timeout=1.0, read_timeout=0.5, total_timeout=2.0, retries=1
)


def _one(url: str, config: FetchConfig = FAST, validators: dict | None = None):
    (result,) = fetch_feeds([FeedSource(name="f", url=url)], config, validators)
    return result


def test_plain_feed_is_fetched_with_user_agent(http_server) -> None:
    server = http_server({"/feed.xml": Reply(body=b"<rss/>")})
    result = _one(server.url("/feed.xml"))
    assert isinstance(result, Fetched) and result.body == b"<rss/>"
    assert server.requests[0].headers["user-agent"] == USER_AGENT
    assert "sipo-digest/" in USER_AGENT


def test_404_is_a_failure_with_its_status(http_server) -> None:
    server = http_server({})
    result = _one(server.url("/missing.xml"))
    assert isinstance(result, FetchFailure) and result.status == "404"
    assert server.hits("/missing.xml") == 1  # a 404 is not retried


def test_500_then_200_is_retried(http_server) -> None:
    answers = iter([Reply(status=500), Reply(body=b"<rss/>")])
    server = http_server({"/flaky.xml": lambda request: next(answers)})
    result = _one(server.url("/flaky.xml"))
    assert isinstance(result, Fetched) and result.body == b"<rss/>"
    assert server.hits("/flaky.xml") == 2


def test_retries_are_bounded(http_server) -> None:
    server = http_server({"/down.xml": Reply(status=503, headers={"Retry-After": "0"})})
    result = _one(server.url("/down.xml"))
    assert isinstance(result, FetchFailure) and result.status == "503"
    assert server.hits("/down.xml") == FAST.retries + 1


def test_429_honours_retry_after(http_server) -> None:
    answers = iter([Reply(status=429, headers={"Retry-After": "1"}), Reply(body=b"ok")])
    server = http_server({"/busy": lambda request: next(answers)})
    started = time.perf_counter()
    result = _one(server.url("/busy"))
    assert isinstance(result, Fetched)
    assert time.perf_counter() - started >= 0.9


def test_server_that_never_answers_times_out_quickly(http_server) -> None:
    server = http_server({"/silent": Reply(delay=30)})
    started = time.perf_counter()
    result = _one(server.url("/silent"), FetchConfig(read_timeout=0.3, retries=0))
    assert isinstance(result, FetchFailure) and result.status == "timeout"
    assert time.perf_counter() - started < 3


def test_total_timeout_cuts_a_trickling_response(http_server) -> None:
    def trickle() -> Iterator[bytes]:
        for _ in range(100):
            time.sleep(0.1)
            yield b"x"

    server = http_server({"/slow": lambda request: Reply(chunks=trickle())})
    config = FetchConfig(read_timeout=1.0, total_timeout=0.5, retries=0)
    started = time.perf_counter()
    result = _one(server.url("/slow"), config)
    assert isinstance(result, FetchFailure) and result.status == "timeout"
    assert time.perf_counter() - started < 3


def test_body_over_the_size_cap_is_cut_off(http_server) -> None:
    server = http_server(
        {"/big": lambda request: Reply(chunks=(b"x" * 10_000 for _ in range(1000)))}
    )
    result = _one(server.url("/big"), FetchConfig(max_bytes=50_000, retries=0))
    assert isinstance(result, FetchFailure) and result.status == "too-large"


def test_gzip_bomb_is_cut_off_after_decoding(http_server) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # about 50 KB on the wire
    server = http_server({"/bomb": Reply(body=bomb, headers={"Content-Encoding": "gzip"})})
    result = _one(server.url("/bomb"), FetchConfig(max_bytes=1_000_000, retries=0))
    assert len(bomb) < 1_000_000
    assert isinstance(result, FetchFailure) and result.status == "too-large"


@pytest.mark.parametrize(
    "encoding, compress",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
    ],
)
def test_compressed_bodies_are_decoded(http_server, encoding, compress) -> None:
    body = "<rss>Übung</rss>".encode() * 100
    server = http_server({"/z": Reply(body=compress(body), headers={"Content-Encoding": encoding})})
    result = _one(server.url("/z"))
    assert isinstance(result, Fetched) and result.body == body


def test_redirect_loop_fails_after_max_redirects(http_server) -> None:
    server = http_server(
        {
            "/a": Reply(status=302, headers={"Location": "/b"}),
            "/b": Reply(status=301, headers={"Location": "/a"}),
        }
    )
    result = _one(server.url("/a"))
    assert isinstance(result, FetchFailure) and result.status == "redirects"
    assert len(server.requests) == FAST.max_redirects + 1


def test_redirect_is_followed_and_final_url_kept(http_server) -> None:
    server = http_server(
        {"/old": Reply(status=301, headers={"Location": "/new.xml"}), "/new.xml": Reply(body=b"ok")}
    )
    result = _one(server.url("/old"))
    assert isinstance(result, Fetched) and result.url == server.url("/new.xml")
    assert result.requested == server.url("/old")


def test_conditional_get_sends_validators_and_accepts_304(http_server) -> None:
    def conditional(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(status=304)
        return Reply(
            body=b"<rss/>",
            headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"},
        )

    server = http_server({"/feed.xml": conditional})
    first = _one(server.url("/feed.xml"))
    assert isinstance(first, Fetched) and first.validators.etag == '"v1"'
    second = _one(server.url("/feed.xml"), validators={server.url("/feed.xml"): first.validators})
    assert isinstance(second, Fetched) and second.not_modified and second.body == b""
    assert server.requests[1].headers["if-modified-since"] == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_per_host_limit_bounds_requests_in_flight(http_server) -> None:
    lock = threading.Lock()
    in_flight = [0, 0]  # current, highest

    def slow(request: Request) -> Reply:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
        time.sleep(0.1)
        with lock:
            in_flight[0] -= 1
        return Reply(body=b"ok")

    server = http_server(slow)
    sources = [FeedSource(name=str(i), url=server.url(f"/{i}")) for i in range(8)]
    results = fetch_feeds(sources, FetchConfig(concurrency=16, per_host=2))
    assert all(isinstance(r, Fetched) for r in results)
    assert in_flight[1] == 2


def test_results_keep_the_order_of_the_sources(http_server, tmp_path) -> None:
    server = http_server({"/a": Reply(body=b"a", delay=0.2), "/b": Reply(body=b"b")})
    local = tmp_path / "local.xml"
    local.write_bytes(b"c")
    sources = [
        FeedSource(name="a", url=server.url("/a")),
        FeedSource(name="c", url=str(local)),
        FeedSource(name="b", url=server.url("/b")),
    ]
    assert [r.body for r in fetch_feeds(sources, FAST)] == [b"a", b"c", b"b"]


def test_pages_on_loopback_are_refused_unless_allowed(http_server) -> None:
    server = http_server({"/page.html": Reply(body=b"<html></html>")})
    (refused,) = fetch_pages([server.url("/page.html")], FAST)
    assert isinstance(refused, FetchFailure) and refused.status == "refused"
    assert server.requests == []
    (allowed,) = fetch_pages([server.url("/page.html")], FAST, allow_private=True)
    assert isinstance(allowed, Fetched)


def test_a_name_that_turns_private_after_the_check_is_refused_at_connect(
    http_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the early check saw a public address, the connection would reach a private
    one. The connection itself dials only addresses it resolved and checked."""

    async def looked_public(url: str, is_public: object) -> None:
        return None

    monkeypatch.setattr(http, "require_public_host", looked_public)
    server = http_server({"/page.html": Reply(body=b"<html>intern</html>")})
    port = server.url("/").split(":")[-1].split("/")[0]
    (result,) = fetch_pages([f"http://localhost:{port}/page.html"], FAST)
    assert isinstance(result, FetchFailure) and result.status == "refused"
    assert "non-public" in result.message
    assert server.requests == []


def test_redirect_to_private_address_is_refused_for_pages(http_server) -> None:
    server = http_server({"/page": Reply(body=b"secret")})
    # A public-looking first hop cannot be served from here, so check the hop rule directly:
    (result,) = fetch_pages(["http://169.254.169.254/latest/meta-data/"], FAST)
    assert isinstance(result, FetchFailure) and result.status == "refused"
    (result,) = fetch_pages(["file:///etc/passwd"], FAST, allow_private=True)
    assert isinstance(result, FetchFailure) and result.status == "invalid-url"
    assert server.requests == []


@pytest.mark.parametrize(
    "address, public",
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("172.16.5.4", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("93.184.216.34", True),
        ("2a00:1450:4001:82b::200e", True),
    ],
)
def test_public_address_rule(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_validators_become_conditional_headers() -> None:
    assert Validators(etag='"x"', last_modified="d").request_headers() == {
        "If-None-Match": '"x"',
        "If-Modified-Since": "d",
    }
    assert Validators().request_headers() == {}
