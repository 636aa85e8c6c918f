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
        ("::127.0.0.1", False),  # IPv4-compatible
        ("::10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of the cloud metadata address
        ("2002:5db8:d822::", True),  # 6to4 of a public address
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::5db8:d822", True),  # NAT64 of a public address
        ("64:ff9b:1::5db8:d822", False),  # local-use NAT64
        ("fec0::1", False),  # site-local
        ("::ffff:93.184.216.34", True),
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


# --- one URL's fault is that URL's failure ------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://example.org:99999/a", "http://example.org:0/a", "http://a..b/", "http://x/ a"]
)
def test_an_invalid_url_is_a_failure_without_a_request(url: str) -> None:
    (result,) = fetch_pages([url], FAST, allow_private=True)
    assert isinstance(result, FetchFailure) and result.status == "invalid-url"


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:99999/b", "http://[::1/b", "gopher://127.0.0.1/", "http://a b/"]
)
def test_a_redirect_to_an_invalid_url_fails_that_url_only(http_server, location: str) -> None:
    server = http_server(
        {"/weg": Reply(status=302, headers={"Location": location}), "/gut": Reply(body=b"ok")}
    )
    moved, good = fetch_pages([server.url("/weg"), server.url("/gut")], FAST, allow_private=True)
    assert isinstance(moved, FetchFailure) and moved.status in ("refused", "network")
    assert isinstance(good, Fetched) and good.body == b"ok"


def test_gzip_sent_without_content_encoding_is_inflated_under_the_cap(http_server) -> None:
    page = b"<html><body><p>Inhalt</p></body></html>"
    bomb = gzip.compress(b"<p>" + b"A" * 20_000_000)
    server = http_server(
        {
            "/seite": Reply(body=gzip.compress(page), headers={"Content-Type": "text/html"}),
            "/bombe": Reply(body=bomb, headers={"Content-Type": "text/html"}),
            "/falsch": Reply(
                body=b"\x1f\x8b\x08\x00 kein gzip", headers={"Content-Type": "text/html"}
            ),
        }
    )
    config = FetchConfig(max_bytes=1_000_000, retries=0)
    seite, bombe, falsch = fetch_pages(
        [server.url("/seite"), server.url("/bombe"), server.url("/falsch")],
        config,
        allow_private=True,
    )
    assert isinstance(seite, Fetched) and seite.body == page
    assert isinstance(bombe, FetchFailure) and bombe.status == "too-large"
    assert isinstance(falsch, FetchFailure) and falsch.status == "encoding"


def test_a_one_byte_body_is_read_whole(http_server) -> None:
    server = http_server({"/x": Reply(body=b"x")})
    (result,) = fetch_pages([server.url("/x")], FAST, allow_private=True)
    assert isinstance(result, Fetched) and result.body == b"x"


# --- budgets: the breaker and the stage deadlines ---------------------------------------------


def test_an_origin_that_never_answers_is_given_up_after_two_timeouts(
    http_server, silent_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = http_server({"/ok": Reply(body=b"ok")})
    config = FetchConfig(per_host=2, read_timeout=0.5, total_timeout=5.0, retries=2)
    urls = [f"{silent_server}/{n}" for n in range(6)] + [good.url("/ok")]
    started = time.perf_counter()
    with caplog.at_level("WARNING", logger="digest.http"):
        results = fetch_pages(urls, config, allow_private=True)
    elapsed = time.perf_counter() - started
    statuses = [r.status if isinstance(r, FetchFailure) else "ok" for r in results]
    assert statuses.count("timeout") == 2 and statuses.count("skipped") == 4
    assert statuses[-1] == "ok"
    # Without the breaker: 6 URLs x 3 attempts x 0.5 s over 2 connections, 4.5 s and backoffs.
    assert elapsed < 3.0, elapsed
    breaker_lines = [r for r in caplog.records if "no more requests to it" in r.getMessage()]
    assert len(breaker_lines) == 1


def test_a_request_under_way_when_the_breaker_opens_is_given_up(
    http_server, silent_server: str
) -> None:
    """The two slots of 127.0.0.1: the silent origin's first request and a slow good page at 0 s;
    its second request at 1.5 s (the good page is done); the first times out at 3 s and frees the
    slot for the third, the second times out at 4.5 s and opens the breaker: the third, under way
    since 3 s, is given up then instead of timing out at 6 s (seconds this long, so that a busy
    machine's delays stay well inside the 1.5 s between the two)."""
    slow = http_server({"/langsam": Reply(body=b"ok", delay=1.5)})
    config = FetchConfig(per_host=2, read_timeout=3.0, total_timeout=20.0, retries=0)
    urls = [f"{silent_server}/0", slow.url("/langsam"), f"{silent_server}/1", f"{silent_server}/2"]
    started = time.perf_counter()
    first, good, second, third = fetch_pages(urls, config, allow_private=True)
    elapsed = time.perf_counter() - started
    assert isinstance(good, Fetched)
    assert [r.status for r in (first, second, third)] == ["timeout", "timeout", "skipped"]
    assert elapsed < 5.25, elapsed


def test_the_breaker_is_shared_by_the_feed_and_page_stages_of_one_build(
    silent_server: str,
) -> None:
    config = FetchConfig(read_timeout=0.3, retries=1)
    breaker = http.HostBreaker()
    (feed,) = fetch_feeds(
        [FeedSource("Stumm", f"{silent_server}/feed.xml")], config, breaker=breaker
    )
    assert isinstance(feed, FetchFailure) and feed.status == "timeout"
    (page,) = fetch_pages([f"{silent_server}/seite"], config, allow_private=True, breaker=breaker)
    assert isinstance(page, FetchFailure) and page.status == "skipped"  # not even asked


def test_errors_that_are_no_fault_of_the_origin_do_not_open_the_breaker(http_server) -> None:
    server = http_server({"/da": Reply(body=b"ok")})
    breaker = http.HostBreaker()
    urls = [server.url(f"/fehlt/{n}") for n in range(5)] + [server.url("/da")]
    *missing, found = fetch_pages(urls, FAST, allow_private=True, breaker=breaker)
    assert all(isinstance(r, FetchFailure) and r.status == "404" for r in missing)
    assert isinstance(found, Fetched)


def test_the_feed_stage_ends_at_its_deadline(http_server, silent_server: str) -> None:
    server = http_server({"/gut.xml": Reply(body=b"<rss/>")})
    config = FetchConfig(read_timeout=30.0, total_timeout=60.0, feeds_deadline=1.0)
    sources = [
        FeedSource("Stumm", f"{silent_server}/feed.xml"),
        FeedSource("Gut", server.url("/gut.xml")),
    ]
    started = time.perf_counter()
    stumm, gut = fetch_feeds(sources, config)
    assert time.perf_counter() - started < 2.0
    assert isinstance(stumm, FetchFailure) and stumm.status == "deadline"
    assert "deadline of 1 s" in stumm.message
    assert isinstance(gut, Fetched)


# --- redirects of feeds: private only when the operator's own URL is private -------------------


def loopback_two_is_public(address: object) -> bool:
    """An address rule for tests: 127.0.0.2 plays a public host, everything else is private."""
    return str(address) == "127.0.0.2"


def test_a_feed_on_a_public_host_is_not_followed_to_a_private_address(http_server) -> None:
    inner = http_server({"/intern.xml": Reply(body=b"<rss>intern</rss>")})
    moved = Reply(status=302, headers={"Location": inner.url("/intern.xml")})
    outer = http_server({"/feed.xml": moved}, host="127.0.0.2")
    source = FeedSource("Umleiter", outer.url("/feed.xml"))
    (result,) = fetch_feeds([source], FAST, is_public=loopback_two_is_public)
    assert isinstance(result, FetchFailure) and result.status == "refused"
    assert outer.hits("/feed.xml") == 1 and inner.requests == []


def test_a_feed_on_a_private_host_may_redirect_to_a_private_address(http_server) -> None:
    inner = http_server({"/intern.xml": Reply(body=b"<rss>intern</rss>")})
    outer = http_server(
        {"/feed.xml": Reply(status=302, headers={"Location": inner.url("/intern.xml")})}
    )
    (result,) = fetch_feeds([FeedSource("Intranet", outer.url("/feed.xml"))], FAST)
    assert isinstance(result, Fetched) and result.body == b"<rss>intern</rss>"


def test_the_breaker_counts_unreachable_answers_in_a_row_per_origin() -> None:
    breaker = http.HostBreaker()
    breaker.record("https://tot.example/a", "dns")
    breaker.record("https://tot.example/b", None)  # an answer in between: the count starts over
    breaker.record("https://tot.example/c", "dns")
    assert not breaker.is_open("https://tot.example/d")
    assert breaker.record("https://tot.example/e", "timeout")  # two in a row: opens now
    assert breaker.is_open("https://TOT.example:443/f")
    assert not breaker.is_open("http://tot.example/f")  # another origin (port 80)
    for status in ("404", "503", "too-large", "refused", "encoding", "protocol"):
        breaker.record("https://lebt.example/x", status)  # faults of URLs, not of the origin
    assert not breaker.is_open("https://lebt.example/y")
