"""Shared fixtures: a real threaded HTTP server on 127.0.0.1, and the key-point tests' story."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from digest import nlp
from digest.config import DEFAULT_CONFIG, Config, load_config

# The items of tests/data/feeds are dated 27 and 28 November 2026 and the tests build editions of
# 29 and 30 November: a news window of a week takes all of them.
TEST_FEEDS_WINDOW_HOURS = 7 * 24.0


PROJECT_STATE = Path(__file__).resolve().parent.parent / "state"


@pytest.fixture(autouse=True)
def project_state_untouched() -> Iterator[None]:
    """No test may write the checkout's own state folder (the default beside digest.toml): a
    test's articles would turn up in the next `make run`."""

    def seen() -> dict[str, float]:
        if not PROJECT_STATE.is_dir():
            return {}
        return {p.name: p.stat().st_mtime for p in PROJECT_STATE.iterdir()}

    before = seen()
    yield
    assert seen() == before, f"a test wrote {PROJECT_STATE}"


@pytest.fixture(autouse=True)
def private_state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """`--out` runs keep their state under $XDG_STATE_HOME: a temporary one in every test (and
    in the processes a test starts), never the home folder of whoever runs the tests."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))


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

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.requests: list[Request] = []
        self._handler = handler
        self._httpd = ThreadingHTTPServer((host, 0), self._request_handler_class())
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
    `http_server(handler)` (`host="127.0.0.2"`: another loopback address). Every server started
    is shut down after the test."""
    started: list[Server] = []

    def start(handler: Handler | Mapping[str, Handler | Reply], host: str = "127.0.0.1") -> Server:
        server = Server(routes(handler) if isinstance(handler, Mapping) else handler, host)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A host on 127.0.0.1 that accepts every connection and never answers: its base URL."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)  # read nothing, say nothing, close nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    listener.close()
    for connection in held:
        connection.close()


# --- the sample story of the key-point tests (tests/data/summarize/story.toml) ----------------

with (Path(__file__).parent / "data" / "summarize" / "story.toml").open("rb") as _story:
    STORY: tuple[tuple[str, str], ...] = tuple(
        (version["title"], version["text"]) for version in tomllib.load(_story)["versions"]
    )
(ARTICLE_TITLE, ARTICLE), (OTHER_TITLE, OTHER_VERSION) = STORY


def joined_url(lines: Sequence[str]) -> str:
    """The URL back from the text part's reference lines (plaintext.reference_lines): the lines
    joined without their indentation, the angle brackets of a long URL dropped."""
    text = "".join(line.strip() for line in lines)
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


def sentences_of(text: str) -> list[str]:
    """The text's sentences as our splitter finds them, stripped."""
    return [s.strip() for s in nlp.split_sentences(text) if s.strip()]


def words_of(points: Iterable[str]) -> int:
    return sum(nlp.word_count(p) for p in points)


# --- an editorial model that keeps every article ---------------------------------------------


def keep_everything_model(folder: Path) -> Path:
    """The shipped editorial model with its relevance and series decisions replaced: every
    article on topic, none a series item. For tests of fetching, pages, windows and mail,
    whose articles need not read like security policy; `select.model` points at it."""
    from digest.editorial import DEFAULT_MODEL

    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    data["relevance"] = {"bias": 50.0, "weights": {}, "threshold": 0.5}
    data["series"] = {"bias": -50.0, "weights": {}, "threshold": 0.5}
    path = folder / "keep-everything.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def project_config(
    tmp_path: Path, feeds: Path, *, keep_everything: bool = False, **changes: Any
) -> Config:
    """The project's own settings reading `feeds`, with out/ and the state under tmp_path;
    `keep_everything` puts every article on topic and lifts the limits, so that each one can be
    checked (see keep_everything_model). `changes` replace further settings."""
    base = load_config(DEFAULT_CONFIG)
    if keep_everything:
        model = keep_everything_model(tmp_path)
        changes.setdefault(
            "select",
            dataclasses.replace(base.select, max_total=100, max_per_section=100, model=model),
        )
    return dataclasses.replace(
        base, feeds=feeds, out_dir=tmp_path / "out", state_dir=tmp_path / "state", **changes
    )
