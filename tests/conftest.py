"""Shared fixtures: a real threaded HTTP server on 127.0.0.1, and the key-point tests' story."""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from digest import nlp


@dataclass(frozen=True)
class Request:
    """What the server received: method, path (with query) and headers (names lower-cased)."""

    method: str
    path: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Reply:
    """What the server sends. `chunks` streams the body piece by piece (no Content-Length, the
    connection closes at the end); `delay` waits before the status line is sent."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunks: Iterable[bytes] | None = None


Handler = Callable[[Request], Reply]


class Server:
    """A running server: `url(path)` builds addresses, `requests` records what arrived."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[Request] = []
        self._handler = handler
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._request_handler_class())
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _request_handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                request = Request(
                    method="GET",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                )
                server.requests.append(request)
                reply = server._handler(request)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is None:
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for chunk in reply.chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return _Handler


def routes(table: Mapping[str, Handler | Reply]) -> Handler:
    """A handler from a path -> reply (or handler) table; unknown paths get 404."""

    def handle(request: Request) -> Reply:
        target = table.get(request.path) or table.get(request.path.split("?", 1)[0])
        if target is None:
            return Reply(status=404, body=b"not found")
        return target(request) if callable(target) else target

    return handle


@pytest.fixture
def http_server() -> Iterator[Callable[[Handler | Mapping[str, Handler | Reply]], Server]]:
    """Start servers on 127.0.0.1: `http_server({"/feed.xml": Reply(body=...)})` or
    `http_server(handler)`. Every server started is shut down after the test."""
    started: list[Server] = []

    def start(handler: Handler | Mapping[str, Handler | Reply]) -> Server:
        server = Server(routes(handler) if isinstance(handler, Mapping) else handler)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


# --- the sample story of the key-point tests (tests/data/summarize/story.toml) ----------------

with (Path(__file__).parent / "data" / "summarize" / "story.toml").open("rb") as _story:
    STORY: tuple[tuple[str, str], ...] = tuple(
        (version["title"], version["text"]) for version in tomllib.load(_story)["versions"]
    )
(ARTICLE_TITLE, ARTICLE), (OTHER_TITLE, OTHER_VERSION) = STORY


def sentences_of(text: str) -> list[str]:
    """The text's sentences as our splitter finds them, stripped."""
    return [s.strip() for s in nlp.split_sentences(text) if s.strip()]


def words_of(points: Iterable[str]) -> int:
    return sum(nlp.word_count(p) for p in points)
