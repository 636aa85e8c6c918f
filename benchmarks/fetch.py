"""Fetch benchmark: 200 feeds on 127.0.0.1, 100 ms latency each; cold build vs. all-304 build.

Run: .venv/bin/python benchmarks/fetch.py [--feeds 200] [--latency 0.1] [--max-age 300]
Every feed answers like a typical feed server: ETag, Last-Modified and, unless --max-age 0,
Cache-Control: max-age=300 (all feeds). Prints the fetch phase alone: cold; warm after the
freshness lifetime ran out (every feed revalidated, all 304: the daily case); warm within the
lifetime (no request at all: a rebuild or a build right after `digest feeds check`). Then whole
builds (cold, then a rebuild answered by 304s), whose time past the fetch is selection, summaries
and rendering.
All feeds share one host here, so `per_host` is raised to `concurrency` (a real feed list spreads
over many hosts, where the default per-host limit of 2 applies to each of them).
"""

from __future__ import annotations

# ruff: noqa: E402  (the path fix below must run before the imports)
import os
import sys

# Running a script puts its folder first on sys.path, where a benchmark named like a standard
# library module would shadow it; look for modules in the repository root instead.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse
import dataclasses
import multiprocessing
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from digest import http, pipeline
from digest.config import Config, FetchConfig, load_feed_list

NOW = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def _feed(number: int) -> bytes:
    items = "".join(
        f"<item><title>Meldung {number}-{i}: Bundeswehr und NATO beraten über"
        f" Luftverteidigung</title>"
        f"<link>http://127.0.0.1/feed{number}/artikel{i}.html</link>"
        f"<guid>feed{number}-{i}</guid>"
        f"<pubDate>{format_datetime(NOW)}</pubDate>"
        f"<description>Die Verteidigungsminister beraten über Munition, Luftverteidigung und die"
        f" Unterstützung der Ukraine. Quelle {number}, Meldung {i}.</description></item>"
        for i in range(5)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {number}</title><link>http://127.0.0.1/</link>{items}</channel></rss>"
    ).encode()


def _serve_forever(count: int, latency: float, max_age: int, ports: multiprocessing.Queue) -> None:
    """Runs in its own process, so the server never competes with the client for the GIL."""
    server = _serve(count, latency, max_age)
    ports.put(server.server_address[1])
    threading.Event().wait()


def _serve(count: int, latency: float, max_age: int) -> ThreadingHTTPServer:
    bodies = {f"/feed{n}.xml": _feed(n) for n in range(count)}
    modified = format_datetime(NOW, usegmt=True)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            time.sleep(latency)
            body = bodies.get(self.path)
            tag = f'"{self.path}"'
            if body is None:
                self.send_response(404)
                body = b""
            elif self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                body = b""
            else:
                self.send_response(200)
            self.send_header("ETag", tag)
            self.send_header("Last-Modified", modified)
            if max_age > 0:
                self.send_header("Cache-Control", f"max-age={max_age}")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default of 5 drops bursts of connects (1 s SYN retry)
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=FetchConfig().concurrency)
    parser.add_argument("--max-age", type=int, default=300, help="Cache-Control max-age (0: none)")
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_serve_forever, args=(args.feeds, args.latency, args.max_age, ports), daemon=True
    )
    process.start()
    port = ports.get(timeout=30)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        feed_list = root / "feeds.toml"
        feed_list.write_text(
            "".join(
                f'[[feeds]]\nname = "Feed {n}"\nurl = "http://127.0.0.1:{port}/feed{n}.xml"\n\n'
                for n in range(args.feeds)
            ),
            encoding="utf-8",
        )
        fetch = dataclasses.replace(
            FetchConfig(), concurrency=args.concurrency, per_host=args.concurrency
        )
        config = Config(feeds=feed_list, out_dir=root / "out", fetch=fetch)
        print(
            f"{args.feeds} feeds, {args.latency * 1000:.0f} ms latency, concurrency"
            f" {fetch.concurrency}, per host {fetch.per_host}, Cache-Control:"
            f" {f'max-age={args.max_age}' if args.max_age else 'none'} on every feed"
        )

        sources = load_feed_list(feed_list)
        started = time.perf_counter()
        results = http.fetch_feeds(sources, fetch, now=NOW)
        cold_fetch = time.perf_counter() - started
        ok = sum(isinstance(r, http.Fetched) and r.status == 200 for r in results)
        print(f"cold fetch:             {cold_fetch:6.2f} s  ({ok} x 200)")
        fetched = [
            (s, r) for s, r in zip(sources, results, strict=True) if isinstance(r, http.Fetched)
        ]
        validators = {
            s.url: dataclasses.replace(r.validators, fresh_until=r.fresh_until(NOW))
            for s, r in fetched
        }
        # A day later (the daily digest): every lifetime has run out, each feed is revalidated.
        started = time.perf_counter()
        results = http.fetch_feeds(sources, fetch, validators, now=NOW + timedelta(days=1))
        warm_fetch = time.perf_counter() - started
        unchanged = sum(isinstance(r, http.Fetched) and r.not_modified for r in results)
        print(f"warm fetch, revalidated:{warm_fetch:6.2f} s  ({unchanged} x 304 from the server)")
        # A minute later (a rebuild): feeds still fresh are not requested.
        started = time.perf_counter()
        results = http.fetch_feeds(sources, fetch, validators, now=NOW + timedelta(minutes=1))
        fresh_fetch = time.perf_counter() - started
        reused = sum(isinstance(r, http.Fetched) and r.fresh for r in results)
        print(
            f"warm fetch, fresh:      {fresh_fetch:6.2f} s  ({reused} not requested,"
            f" {len(results) - reused} revalidated)"
        )

        timings = []
        for run in ("cold build", "warm build (304)"):
            started = time.perf_counter()
            result = pipeline.build(config, day=date(2024, 6, 3), now=NOW)
            timings.append(time.perf_counter() - started)
            failed = len([f for f in result.failures if f.stage == "feed"])
            print(
                f"{run + ':':23} {timings[-1]:6.2f} s  ({len(result.digest.stories)} stories,"
                f" {failed} feeds failed)"
            )
        sequential = args.feeds * args.latency
        print(f"sequential lower bound: {sequential:6.2f} s")
        print(
            "lower bound at this concurrency (every request 1 x latency):"
            f" {args.feeds * args.latency / fetch.concurrency:.2f} s"
        )
        for label, warm in (("revalidated", warm_fetch), ("fresh", fresh_fetch)):
            verdict = "met" if cold_fetch < 3.0 and warm < 1.0 else "NOT met"
            print(f"targets (cold fetch < 3 s, warm fetch < 1 s), warm {label}: {verdict}")
    process.terminate()
    process.join()


if __name__ == "__main__":
    main()
